"""The pandera models on text frames: named checks, row indexes, predicates and parsers."""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl
import pytest

from schemas.assessments import AssessmentsModel
from schemas.checks import is_integer, is_iso_date, parse_date, parse_integer
from schemas.patients import PatientsModel
from schemas.treatments import AGENT_LOOKUP, TreatmentsModel, agent_class, canonical_agent
from schemas.vocabulary import AGENT_CLASS, normalise_agent


def _failures(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> list[tuple]:
    """(index, column, check, failure_case) of every failing cell, sorted."""
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.select("index", "column", "check", "failure_case")
        return sorted(cases.rows(), key=lambda r: (r[0], r[1], r[2]))
    return []


def _text(rows: list[dict[str, str | None]], model: type[pa.DataFrameModel]) -> pl.DataFrame:
    columns = list(model.to_schema().columns)
    return pl.DataFrame(
        [{c: row.get(c) for c in columns} for row in rows],
        schema={c: pl.String for c in columns},
    )


ASSESSMENT = {"patient_id": "P1", "assessment_date": "2014-01-02", "response": "PR"}


def test_failure_cases_carry_rule_ids_and_row_index() -> None:
    frame = _text(
        [
            ASSESSMENT,
            {**ASSESSMENT, "assessment_date": "NA", "response": None},
            {**ASSESSMENT, "method": "RECIST 1.1"},
        ],
        AssessmentsModel,
    )
    assert _failures(AssessmentsModel, frame) == [
        (1, "assessment_date", "ASM-ASSESSMENT-DATE-DATE", "NA"),
        (1, "response", "ASM-RESPONSE-REQUIRED", None),
        (2, "method", "ASM-METHOD-CODE", "RECIST 1.1"),
    ]


def test_empty_cells_only_fail_required() -> None:
    frame = _text([{"patient_id": None}], AssessmentsModel)
    assert sorted(f[2] for f in _failures(AssessmentsModel, frame)) == [
        "ASM-ASSESSMENT-DATE-REQUIRED",
        "ASM-PATIENT-ID-REQUIRED",
        "ASM-RESPONSE-REQUIRED",
    ]


def test_birth_year_upper_bound_comes_from_the_extract() -> None:
    row = {
        "patient_id": "007",
        "site_id": "S01",
        "sex": "U",
        "birth_year": "2016",
        "diagnosis_date": "2015-01-01",
        "vital_status": "alive",
        "last_contact_date": "2015-02-01",
    }
    frame = _text([row], PatientsModel)
    assert _failures(PatientsModel, frame) == []
    assert _failures(PatientsModel.for_extract_year(2015), frame) == [
        (0, "birth_year", "PAT-BIRTH-YEAR-RANGE", "2016")
    ]
    assert PatientsModel.for_extract_year(2015) is PatientsModel.for_extract_year(2015)
    too_old = _text([{**row, "birth_year": "1899"}], PatientsModel)
    assert [f[2] for f in _failures(PatientsModel, too_old)] == ["PAT-BIRTH-YEAR-RANGE"]


def test_treatment_agent_and_uniqueness() -> None:
    base = {"treatment_id": "T1", "patient_id": "P1", "agent": "IL-2", "start_date": "2014-01-01"}
    frame = _text(
        [base, {**base, "agent": " keytruda "}, {**base, "agent": "aspirin", "doses": "-1"}],
        TreatmentsModel,
    )
    assert _failures(TreatmentsModel, frame) == [
        (1, "treatment_id", "TRT-TREATMENT-ID-UNIQUE", "T1"),
        (2, "agent", "TRT-AGENT-UNKNOWN", "aspirin"),
        (2, "doses", "TRT-DOSES-RANGE", "-1"),
        (2, "treatment_id", "TRT-TREATMENT-ID-UNIQUE", "T1"),
    ]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2015-03-16", True),
        ("2016-02-29", True),
        ("2015-02-29", False),
        ("2015-02-30", False),
        ("2015-3-16", False),
        ("03/16/2015", False),
        ("16.03.2015", False),
        ("42079", False),
        ("20150316", False),
        (" 2015-03-16", False),
        ("2015-03-16T00:00", False),
        ("NA", False),
    ],
)
def test_iso_dates(text: str, ok: bool) -> None:
    values = pl.DataFrame({"v": [text]}).select(
        ok=is_iso_date(pl.col("v")), parsed=parse_date(pl.col("v"))
    )
    assert values["ok"][0] is ok
    assert (values["parsed"][0] is not None) is ok
    if ok:
        assert values["parsed"][0] == date.fromisoformat(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("007", 7),
        ("-99", -99),
        ("+3", None),
        ("3.0", None),
        ("1e3", None),
        (" 3", None),
        ("99999999999999999999", None),
        ("999999999999999999", 999_999_999_999_999_999),
        ("-999999999999999999", -999_999_999_999_999_999),
        ("9223372036854775807", None),
    ],
)
def test_integers(text: str, value: int | None) -> None:
    out = pl.DataFrame({"v": [text]}).select(
        ok=is_integer(pl.col("v")), parsed=parse_integer(pl.col("v"))
    )
    assert out["parsed"][0] == value
    digits = text.removeprefix("-")
    assert out["ok"][0] is (digits.isdigit() and len(digits) <= 18)


def test_vectorised_agent_normalisation_matches_the_vocabulary() -> None:
    names = [*AGENT_LOOKUP, "Keytruda", " PROLEUKIN ", "HD IL-2", "aspirin", "", "il 2"]
    out = pl.DataFrame({"v": names}).select(
        canonical=canonical_agent(pl.col("v")), cls=agent_class(canonical_agent(pl.col("v")))
    )
    assert out["canonical"].to_list() == [normalise_agent(n) for n in names]
    expected = [AGENT_CLASS.get(normalise_agent(n) or "") for n in names]
    assert out["cls"].to_list() == expected
