"""The baseline covariates, declared once in toolkit.study, reach every place that needs them:
the contract's patients.csv, the registry, the SQL, the analysis dataset and its export."""

from __future__ import annotations

import pytest
from hand_registry import CUTOFF, hand_registry

from schemas.patients import PatientsModel
from toolkit.analyses.strata import study_covariates
from toolkit.cohort import build_cohort
from toolkit.export import ADTTE_COLUMNS
from toolkit.study import BASELINE_COVARIATES, Baseline, builtin_study_path, load_study

CATEGORICAL = [name for name, c in BASELINE_COVARIATES.items() if c.kind == "categorical"]


@pytest.fixture(scope="module")
def cohort():
    con = hand_registry()
    try:
        yield build_cohort(con, load_study(builtin_study_path()), CUTOFF)
    finally:
        con.close()


def test_each_categorical_covariate_is_a_column_of_patients_csv() -> None:
    columns = PatientsModel.to_schema().columns
    assert [name for name in columns if name in CATEGORICAL] == CATEGORICAL
    for name, covariate in BASELINE_COVARIATES.items():
        codes = columns[name].metadata.get("codes", ()) if name in columns else ()
        assert set(covariate.levels) <= set(codes), name


def test_each_covariate_reaches_the_analysis_dataset(cohort) -> None:
    for covariate in BASELINE_COVARIATES.values():
        assert covariate.column in cohort.adtte.columns, covariate.name
    study = load_study(builtin_study_path())
    assert set(cohort.baseline_categorical["covariate"]) == {
        name for name in study.baseline.covariates if name in CATEGORICAL
    }


def test_the_adtte_export_names_each_covariate_once() -> None:
    for covariate in BASELINE_COVARIATES.values():
        assert ADTTE_COLUMNS[covariate.column] == covariate.adam
    names = list(ADTTE_COLUMNS.values())
    assert len(names) == len(set(names))
    assert all(len(name) <= 8 and name.isupper() for name in names)  # SAS transport names


def test_a_study_may_adjust_for_every_declared_covariate(cohort) -> None:
    # primary_site was declared but missing from the ADTTE: adjusting for it failed
    study = load_study(builtin_study_path())
    everything = study.model_copy(
        update={"baseline": Baseline(covariates=tuple(BASELINE_COVARIATES))}
    )
    continuous, categorical = study_covariates(everything, cohort.adtte.columns)
    assert continuous == ["age_years"]
    assert categorical == CATEGORICAL


def test_table_labels_carry_the_unit() -> None:
    age = BASELINE_COVARIATES["age"]
    assert (age.label, age.table_label, age.column) == (
        "Age at index",
        "Age at index, years",
        "age_years",
    )
    assert BASELINE_COVARIATES["sex"].table_label == "Sex"


def _study_with(tmp_path, name: str, old: str, new: str):
    from toolkit.study import builtin_study_path, load_study

    text = builtin_study_path(name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_study(path)


def test_the_reference_stratum_is_a_stratum_of_the_study(tmp_path) -> None:
    import pytest

    from toolkit.errors import UsageError

    with pytest.raises(UsageError) as error:
        _study_with(tmp_path, "braf", 'reference = "braf_wildtype"', 'reference = "wildtype"')
    assert "comparisons.reference must be a stratum key, one of " in str(error.value)
    assert "['braf_mutant', 'braf_wildtype', 'braf_unknown']" in str(error.value)


def test_later_therapy_strata_are_compared_with_the_default_stratum(tmp_path) -> None:
    import pytest

    from toolkit.errors import UsageError

    default = _study_with(
        tmp_path, "proclaim", "[endpoint]", '[comparisons]\nreference = "il2_only"\n\n[endpoint]'
    )
    assert default.reference_stratum == "il2_only"
    with pytest.raises(UsageError, match="compared with the default stratum \\(il2_only\\)"):
        _study_with(
            tmp_path, "proclaim", "[endpoint]", '[comparisons]\nreference = "il2_ipi"\n\n[endpoint]'
        )


def test_the_minimum_risk_set_defaults_to_ten(tmp_path) -> None:
    from toolkit.study import builtin_study_path, load_study

    assert load_study(builtin_study_path()).endpoint.min_at_risk_shown == 10
