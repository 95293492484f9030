"""The study's strata by Cox (:mod:`toolkit.analyses.strata`): the reference stratum, the
display order, the baseline covariates, and the immortal-time warning."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from toolkit.analyses.strata import reference_stratum, stratum_cox
from toolkit.errors import AnalysisError
from toolkit.study import builtin_study_path, load_study


def small_adtte(n: int = 120, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    strata = rng.choice(["il2_only", "il2_ipi", "il2_pd1"], n, p=[0.5, 0.35, 0.15])
    return pl.DataFrame(
        {
            "patient_key": [f"S01:{i:06d}" for i in range(n)],
            "aval": np.ceil(rng.exponential(15, n) * 30.4375) / 30.4375,
            "is_event": rng.random(n) < 0.6,
            "stratum_key": strata,
            "startdt": [date(2012, 1, 1)] * n,
            "age_years": rng.integers(30, 80, n),
            "sex": rng.choice(["M", "F"], n),
            "m_stage": rng.choice(["M1a", "M1b", "M1c", None], n, p=[0.3, 0.3, 0.35, 0.05]),
            "ecog": rng.choice([0, 1], n),
            "ldh_elevated": rng.choice(["yes", "no"], n),
            "brain_metastases": rng.choice(["yes", "no"], n, p=[0.2, 0.8]),
            "braf_status": rng.choice(["mutant", "wildtype", None], n, p=[0.45, 0.5, 0.05]),
        }
    )


def test_stratum_cox_uses_the_default_stratum_as_reference_and_warns() -> None:
    study = load_study(builtin_study_path())
    result = stratum_cox(small_adtte(), study)
    assert result.name == "unadjusted"
    assert [t.term for t in result.terms_] == ["stratum_key=il2_ipi", "stratum_key=il2_pd1"]
    assert result.references_ == {"stratum_key": "il2_only"}
    assert result.term("stratum_key=il2_pd1").label == "IL-2 → anti-PD-1"
    assert "immortal time" in result.warnings_[0]
    json.dumps(result.to_dict())


def test_adjusted_stratum_cox_counts_the_patients_dropped() -> None:
    study = load_study(builtin_study_path())
    adtte = small_adtte()
    result = stratum_cox(adtte, study, adjusted=True)
    incomplete = adtte.filter(pl.col("m_stage").is_null() | pl.col("braf_status").is_null())
    assert result.dropped_missing_["total"] == incomplete.height
    assert result.n_ == adtte.height - incomplete.height
    assert result.term("age_years").reference is None
    covariates = {t.covariate for t in result.terms_}
    assert covariates == {
        "stratum_key",
        "age_years",
        "sex",
        "m_stage",
        "ecog",
        "ldh_elevated",
        "brain_metastases",
        "braf_status",
    }
    assert {row["term"] for row in result.ph_test_["terms"]} == covariates


def _braf_study(tmp_path: Path, display_order: list[str]):
    """The BRAF study in another display order, without its own reference stratum."""
    text = builtin_study_path("braf").read_text(encoding="utf-8")
    text = text.replace('[comparisons]\nreference = "braf_wildtype"\n\n', "", 1)
    assert "[comparisons]" not in text
    order = ", ".join(f'"{key}"' for key in display_order)
    text = text.replace("[study]\n", f"[study]\nstrata_display_order = [{order}]\n", 1)
    (tmp_path / "braf.toml").write_text(text, encoding="utf-8")
    return load_study(tmp_path / "braf.toml")


def test_stratum_cox_levels_follow_the_display_order_after_the_default_stratum(
    tmp_path: Path,
) -> None:
    # BRAF unknown (the default stratum) is the smallest group: it is still the reference,
    # and the other strata come in the study's display order, not alphabetically
    study = _braf_study(tmp_path, ["braf_unknown", "braf_wildtype", "braf_mutant"])
    adtte = small_adtte().with_columns(
        stratum_key=pl.Series(["braf_mutant"] * 60 + ["braf_wildtype"] * 45 + ["braf_unknown"] * 15)
    )
    result = stratum_cox(adtte, study)
    assert result.references_ == {"stratum_key": "braf_unknown"}
    assert [t.term for t in result.terms_] == [
        "stratum_key=braf_wildtype",
        "stratum_key=braf_mutant",
    ]
    assert [t.label for t in result.terms_] == ["BRAF wild-type", "BRAF mutant"]
    assert result.warnings_ == []  # BRAF status is known at baseline: no immortal time
    without_default = stratum_cox(adtte.filter(pl.col("stratum_key") != "braf_unknown"), study)
    assert without_default.references_ == {"stratum_key": "braf_mutant"}  # the most frequent


def test_adjusted_stratum_cox_takes_the_missing_levels_and_the_ph_test_option() -> None:
    study = load_study(builtin_study_path())
    adtte = small_adtte().with_columns(
        ldh_elevated=pl.when(pl.int_range(pl.len()) < 7)
        .then(pl.lit("unknown"))
        .otherwise(pl.col("ldh_elevated"))
    )
    complete = adtte.filter(pl.col("m_stage").is_not_null() & pl.col("braf_status").is_not_null())
    kept = stratum_cox(adtte, study, adjusted=True, ph_test=False)
    dropped = stratum_cox(
        adtte, study, adjusted=True, missing_levels=("missing", "unknown"), ph_test=False
    )
    assert kept.ph_test_ is None and dropped.ph_test_ is None
    assert kept.n_ == complete.height
    assert "ldh_elevated=unknown" in [t.term for t in kept.terms_]
    assert dropped.n_ == complete.filter(pl.col("ldh_elevated") != "unknown").height
    assert dropped.dropped_missing_["by_covariate"]["ldh_elevated"] == 7
    assert "ldh_elevated=unknown" not in [t.term for t in dropped.terms_]


def test_adjusted_stratum_cox_names_an_absent_covariate() -> None:
    study = load_study(builtin_study_path())
    with pytest.raises(AnalysisError) as caught:
        stratum_cox(small_adtte().drop("ecog"), study, adjusted=True)
    assert str(caught.value) == "the analysis data have no column for the covariate ecog"


def test_the_reference_stratum_is_the_default_only_when_present() -> None:
    study = load_study(builtin_study_path())
    assert reference_stratum(study, pl.Series(["il2_pd1", "il2_only"])) == "il2_only"
    assert reference_stratum(study, pl.Series(["il2_pd1", "il2_ipi"])) is None


def test_the_fits_are_named_and_the_strata_follow_the_display_order() -> None:
    study = load_study(builtin_study_path())
    adjusted = stratum_cox(small_adtte(), study, adjusted=True, ph_test=False)
    unadjusted = stratum_cox(small_adtte(), study)
    assert (adjusted.name, unadjusted.name) == ("adjusted", "unadjusted")
    # the strata in display order, after the reference
    assert [t.term for t in unadjusted.terms_] == ["stratum_key=il2_ipi", "stratum_key=il2_pd1"]


def test_the_study_names_its_reference_stratum() -> None:
    # the BRAF study compares with wild-type, not with its default stratum (unknown)
    study = load_study(builtin_study_path("braf"))
    assert study.reference_stratum == "braf_wildtype"
    adtte = small_adtte().with_columns(
        stratum_key=pl.Series(["braf_mutant"] * 60 + ["braf_wildtype"] * 45 + ["braf_unknown"] * 15)
    )
    result = stratum_cox(adtte, study)
    assert result.references_ == {"stratum_key": "braf_wildtype"}
    assert [t.term for t in result.terms_] == [
        "stratum_key=braf_mutant",
        "stratum_key=braf_unknown",
    ]
    without = stratum_cox(adtte.filter(pl.col("stratum_key") != "braf_wildtype"), study)
    assert without.references_ == {"stratum_key": "braf_mutant"}  # the most frequent
