"""Validation of whole submissions: a clean one passes, each kind of fault is found where it is."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from small_submission import (
    ADVERSE_EVENTS,
    ASSESSMENTS,
    MANIFEST,
    PATIENTS,
    TABLES,
    TREATMENTS,
    csv_bytes,
    write_submission,
)

from schemas.findings import FINDING_FIELDS
from schemas.rules import RULES
from toolkit.commands.validate import command
from toolkit.submission import open_submission
from toolkit.validate import ValidationResult, validate


def run(tmp_path: Path, changes=(), raw=None) -> ValidationResult:
    return validate(open_submission(write_submission(tmp_path / "S01", list(changes), raw)))


def found(result: ValidationResult) -> list[tuple]:
    """(file, row, column, rule) of every finding."""
    return result.findings.select("file", "row", "column", "rule").rows()


def only(result: ValidationResult) -> dict:
    """The single finding of a result, as a dict."""
    assert result.findings.height == 1, result.findings
    return result.findings.row(0, named=True)


# --- the clean submission ----------------------------------------------------------------------


def test_clean_submission_is_accepted_without_findings(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result.findings.is_empty(), result.findings
    assert result.accepted
    assert result.findings.columns == list(FINDING_FIELDS)
    assert result.findings.schema["row"] == pl.Int64


def test_typed_tables(tmp_path: Path) -> None:
    tables = run(tmp_path).tables
    assert set(tables) == {"patients", "treatments", "adverse_events", "assessments"}
    for table in tables.values():
        assert table.columns[0] == "source_row"
        assert table.schema["source_row"] == pl.Int64
    patients = tables["patients"]
    assert patients["patient_id"].to_list() == ["00123", "P-2"]  # leading zeros kept
    assert patients["source_row"].to_list() == [2, 3]
    assert patients.schema["birth_year"] == pl.Int64
    assert patients.schema["diagnosis_date"] == pl.Date
    assert patients["diagnosis_date"][0] == date(2012, 5, 1)
    assert patients["site_id"].to_list() == ["S01", "S01"]
    assert patients["primary_site"][1] is None  # an empty cell is missing
    treatments = tables["treatments"]
    keytruda = treatments.filter(pl.col("treatment_id") == "T2").row(0, named=True)
    assert keytruda["agent"] == "pembrolizumab"
    assert keytruda["agent_as_sent"] == "Keytruda"
    assert keytruda["agent_class"] == "pd1"
    assert keytruda["doses"] is None
    assert treatments["agent"][0] == "aldesleukin"  # Proleukin
    assert treatments["agent_class"][0] == "il2"
    assert treatments.columns[:6] == [
        "source_row",
        "treatment_id",
        "patient_id",
        "agent",
        "agent_as_sent",
        "agent_class",
    ]
    assert tables["adverse_events"].schema["grade"] == pl.Int64


# --- values ------------------------------------------------------------------------------------


def test_na_in_date_column_is_a_date_error(tmp_path: Path) -> None:
    result = run(tmp_path, [("assessments.csv", 3, "assessment_date", "NA")])
    finding = only(result)
    assert (finding["file"], finding["row"], finding["column"]) == (
        "assessments.csv",
        3,
        "assessment_date",
    )
    assert finding["rule"] == "ASM-ASSESSMENT-DATE-DATE"
    assert finding["value"] == "NA"
    assert not result.accepted
    assert result.tables == {}


def test_us_style_date_names_the_expected_form(tmp_path: Path) -> None:
    finding = only(run(tmp_path, [("patients.csv", 3, "diagnosis_date", "03/16/2015")]))
    assert finding["rule"] == "PAT-DIAGNOSIS-DATE-DATE"
    assert finding["row"] == 3
    assert finding["value"] == "03/16/2015"
    assert "YYYY-MM-DD" in finding["message"]


def test_impossible_day_is_a_date_error_and_nothing_else(tmp_path: Path) -> None:
    # the diagnosis date feeds several cross rules; none of them may fire on top
    finding = only(run(tmp_path, [("patients.csv", 2, "diagnosis_date", "2015-02-30")]))
    assert (finding["row"], finding["rule"]) == (2, "PAT-DIAGNOSIS-DATE-DATE")


def test_na_tokens_in_codes_are_errors_but_free_text_keeps_them(tmp_path: Path) -> None:
    changes = [
        ("patients.csv", 2, "sex", "NA"),
        ("patients.csv", 3, "m_stage", "null"),
        ("adverse_events.csv", 2, "term", "NA"),
    ]
    assert found(run(tmp_path, changes)) == [
        ("patients.csv", 2, "sex", "PAT-SEX-CODE"),
        ("patients.csv", 3, "m_stage", "PAT-M-STAGE-CODE"),
    ]


def test_integer_rules(tmp_path: Path) -> None:
    changes = [
        ("patients.csv", 2, "ecog", "-99"),
        ("patients.csv", 3, "birth_year", "1961.0"),
        ("treatments.csv", 2, "doses", "12 "),
        ("adverse_events.csv", 2, "grade", "6"),
    ]
    assert found(run(tmp_path, changes)) == [
        ("adverse_events.csv", 2, "grade", "AE-GRADE-RANGE"),
        ("patients.csv", 2, "ecog", "PAT-ECOG-RANGE"),
        ("patients.csv", 3, "birth_year", "PAT-BIRTH-YEAR-INTEGER"),
        ("treatments.csv", 2, "doses", "TRT-DOSES-INTEGER"),
    ]


def test_birth_year_is_bounded_by_the_extract_year(tmp_path: Path) -> None:
    finding = only(run(tmp_path, [("patients.csv", 3, "birth_year", "2016")]))
    assert finding["rule"] == "PAT-BIRTH-YEAR-RANGE"


def test_unknown_agent_lists_nearest_names(tmp_path: Path) -> None:
    finding = only(run(tmp_path, [("treatments.csv", 3, "agent", "Keytrudda")]))
    assert finding["rule"] == "TRT-AGENT-UNKNOWN"
    assert (finding["row"], finding["column"]) == (3, "agent")
    assert "keytruda" in finding["message"]


def test_required_value_and_identifier_rules(tmp_path: Path) -> None:
    changes = [
        ("patients.csv", 3, "patient_id", "00123"),
        ("treatments.csv", 3, "treatment_id", ""),
        ("adverse_events.csv", 3, "relatedness", ""),
    ]
    # P-2 now repeats 00123's id, so its course (T3) and assessment name a patient that is
    # not there: exactly these findings and no others
    assert found(run(tmp_path, changes)) == [
        ("adverse_events.csv", 3, "relatedness", "AE-RELATEDNESS-REQUIRED"),
        ("assessments.csv", 3, "patient_id", "ASM-PATIENT-REF"),
        ("patients.csv", 3, "patient_id", "PAT-PATIENT-ID-UNIQUE"),
        ("treatments.csv", 3, "treatment_id", "TRT-TREATMENT-ID-REQUIRED"),
        ("treatments.csv", 4, "patient_id", "TRT-PATIENT-REF"),
    ]


def test_bad_patient_id_format(tmp_path: Path) -> None:
    changes = [
        ("patients.csv", 3, "patient_id", "P 2"),
        ("treatments.csv", 4, "patient_id", "P 2"),
        ("assessments.csv", 3, "patient_id", "P 2"),
    ]
    # the references still resolve: one root cause, one finding
    assert found(run(tmp_path, changes)) == [
        ("patients.csv", 3, "patient_id", "PAT-PATIENT-ID-FORMAT")
    ]


# --- cross-field and cross-file rules ------------------------------------------------------------


def test_dead_without_death_date(tmp_path: Path) -> None:
    finding = only(run(tmp_path, [("patients.csv", 2, "death_date", "")]))
    assert (finding["row"], finding["column"], finding["rule"]) == (
        2,
        "death_date",
        "PAT-DEATH-DATE-REQUIRED",
    )
    assert finding["value"] is None


def test_grade_5_not_fatal(tmp_path: Path) -> None:
    finding = only(run(tmp_path, [("adverse_events.csv", 2, "grade", "5")]))
    assert (finding["file"], finding["row"], finding["column"], finding["rule"]) == (
        "adverse_events.csv",
        2,
        "outcome",
        "AE-OUTCOME-FATAL",
    )
    assert finding["value"] == "resolved"


def test_references(tmp_path: Path) -> None:
    changes = [
        ("treatments.csv", 4, "patient_id", "P-9"),
        ("adverse_events.csv", 2, "treatment_id", "T3"),  # T3 is P-2's course, not 00123's
        ("assessments.csv", 2, "patient_id", "00124"),
    ]
    assert found(run(tmp_path, changes)) == [
        ("adverse_events.csv", 2, "treatment_id", "AE-TREATMENT-REF"),
        ("assessments.csv", 2, "patient_id", "ASM-PATIENT-REF"),
        ("patients.csv", 3, "patient_id", "PAT-NO-TREATMENT"),
        ("treatments.csv", 4, "patient_id", "TRT-PATIENT-REF"),
    ]


def test_site_must_match_manifest(tmp_path: Path) -> None:
    finding = only(run(tmp_path, [("patients.csv", 3, "site_id", "S02")]))
    assert (finding["rule"], finding["value"]) == ("PAT-SITE-MANIFEST", "S02")


def test_date_after_extract_is_reported_once(tmp_path: Path) -> None:
    # after extracted_on and after last contact: the extract rule alone reports it
    changes = [("assessments.csv", 3, "assessment_date", "2015-04-01")]
    assert found(run(tmp_path, changes)) == [
        ("assessments.csv", 3, "assessment_date", "ASM-ASSESSMENT-DATE-AFTER-EXTRACT")
    ]


def test_date_order_rules(tmp_path: Path) -> None:
    changes = [
        ("treatments.csv", 2, "end_date", "2012-05-20"),
        ("treatments.csv", 4, "start_date", "2011-01-01"),
        ("assessments.csv", 3, "assessment_date", "2012-12-01"),
    ]
    assert found(run(tmp_path, changes)) == [
        ("assessments.csv", 3, "assessment_date", "ASM-DATE-BEFORE-DIAGNOSIS"),
        ("treatments.csv", 2, "end_date", "TRT-END-BEFORE-START"),
        ("treatments.csv", 4, "start_date", "TRT-START-BEFORE-DIAGNOSIS"),
    ]


def test_warnings_do_not_reject(tmp_path: Path) -> None:
    changes = [
        ("treatments.csv", 2, "doses", "45"),
        ("treatments.csv", 4, "start_date", "2012-09-01"),
    ]
    result = run(tmp_path, changes)
    assert found(result) == [
        ("treatments.csv", 2, "doses", "TRT-DOSES-HIGH"),
        ("treatments.csv", 4, "start_date", "TRT-START-EARLY"),
    ]
    assert set(result.findings["severity"]) == {"warning"}
    assert result.accepted
    assert result.tables["treatments"].height == 3


# --- files and structure -----------------------------------------------------------------------


def test_bom_is_tolerated(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf" + csv_bytes(PATIENTS)
    result = run(tmp_path, raw={"patients.csv": bom})
    assert result.findings.is_empty(), result.findings
    assert result.tables["patients"].columns[1] == "patient_id"


def test_duplicate_column(tmp_path: Path) -> None:
    text = b"patient_id,assessment_date,response,method,response\n00123,2012-08-01,PD,RECIST,PD\n"
    finding = only(run(tmp_path, raw={"assessments.csv": text}))
    assert (finding["file"], finding["row"], finding["column"], finding["rule"]) == (
        "assessments.csv",
        1,
        "response",
        "FILE-COLUMN-DUPLICATE",
    )


def test_missing_column_is_reported_once(tmp_path: Path) -> None:
    rows = [{k: v for k, v in row.items() if k != "sex"} for row in PATIENTS]
    finding = only(run(tmp_path, raw={"patients.csv": csv_bytes(rows)}))
    assert (finding["row"], finding["column"], finding["rule"]) == (
        1,
        "sex",
        "FILE-COLUMN-MISSING",
    )


def test_unknown_column_suggests_the_contract_name(tmp_path: Path) -> None:
    rows = [{("Sex" if k == "sex" else k): v for k, v in row.items()} for row in PATIENTS]
    result = run(tmp_path, raw={"patients.csv": csv_bytes(rows)})
    assert found(result) == [
        ("patients.csv", 1, "Sex", "FILE-COLUMN-UNKNOWN"),
        ("patients.csv", 1, "sex", "FILE-COLUMN-MISSING"),
    ]
    assert "did you mean 'sex'" in result.findings["message"][0]


def test_ragged_row(tmp_path: Path) -> None:
    text = csv_bytes(ASSESSMENTS) + b"P-2,2013-05-01,SD\n"
    finding = only(run(tmp_path, raw={"assessments.csv": text}))
    assert (finding["row"], finding["rule"]) == (4, "FILE-CSV-MALFORMED")
    assert finding["value"] == "P-2,2013-05-01,SD"
    assert "3 fields" in finding["message"]


def test_blank_line_and_unbalanced_quote(tmp_path: Path) -> None:
    blank = csv_bytes(ASSESSMENTS).replace(b"\nP-2", b"\n\nP-2")
    quote = csv_bytes(TREATMENTS).replace(b",PR\n", b',"PR\n')
    result = run(tmp_path, raw={"assessments.csv": blank, "treatments.csv": quote})
    assert found(result) == [
        ("assessments.csv", 3, None, "FILE-CSV-MALFORMED"),
        ("treatments.csv", 3, None, "FILE-CSV-MALFORMED"),
    ]


def test_header_only_files_are_fine(tmp_path: Path) -> None:
    raw = {
        "adverse_events.csv": b"ae_id,patient_id,onset_date,term,autoimmune,grade,relatedness,"
        b"treatment_id,outcome\n",
        "assessments.csv": b"patient_id,assessment_date,response,method\n",
    }
    result = run(tmp_path, raw=raw)
    assert result.accepted and result.findings.is_empty()
    assert result.tables["adverse_events"].height == 0
    assert result.tables["adverse_events"].schema["onset_date"] == pl.Date


@pytest.mark.parametrize("file", list(TABLES))
def test_each_missing_column_is_reported_alone(tmp_path: Path, file: str) -> None:
    for column in TABLES[file][0]:
        rows = [{k: v for k, v in row.items() if k != column} for row in TABLES[file]]
        result = run(tmp_path / column, raw={file: csv_bytes(rows)})
        assert found(result) == [(file, 1, column, "FILE-COLUMN-MISSING")]


@pytest.mark.parametrize("file", list(TABLES))
def test_each_missing_or_broken_file_is_reported_alone(tmp_path: Path, file: str) -> None:
    missing = run(tmp_path / "missing", raw={file: None})
    assert [f for f in found(missing) if f[3] != "PAT-NO-TREATMENT"] == [
        (file, None, None, "FILE-MISSING")
    ]
    broken = run(tmp_path / "broken", raw={file: b'a,"b\n'})
    assert [f[3] for f in found(broken) if f[3] != "PAT-NO-TREATMENT"] == ["FILE-CSV-MALFORMED"]


def test_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    latin1 = csv_bytes(ADVERSE_EVENTS).replace(b"colitis", "colite aiguë".encode("latin-1"))
    result = run(tmp_path, raw={"assessments.csv": None, "adverse_events.csv": latin1})
    assert found(result) == [
        ("adverse_events.csv", 3, None, "FILE-ENCODING"),
        ("assessments.csv", None, None, "FILE-MISSING"),
    ]


def test_manifest_faults(tmp_path: Path) -> None:
    bad = json.dumps({**MANIFEST, "contract_version": "2", "extracted_on": "14.03.2015"})
    result = run(tmp_path, raw={"manifest.json": bad.encode()})
    assert found(result) == [
        ("manifest.json", None, "contract_version", "MANIFEST-VERSION"),
        ("manifest.json", None, "extracted_on", "MANIFEST-INVALID"),
    ]
    broken = run(tmp_path / "b", raw={"manifest.json": b'{"site_id": "S01",'})
    assert found(broken) == [("manifest.json", None, None, "MANIFEST-INVALID")]


def test_findings_are_sorted_and_complete(tmp_path: Path) -> None:
    changes = [
        ("treatments.csv", 3, "agent", "aspirin"),
        ("patients.csv", 3, "sex", "x"),
        ("patients.csv", 2, "ecog", "9"),
    ]
    findings = run(tmp_path, changes).findings
    assert findings.equals(findings.sort(["file", "row", "column", "rule"], nulls_last=False))
    assert findings["rule"].is_in(list(RULES)).all()
    assert findings.height == 3
    assert (
        findings.null_count()
        .select("file", "column", "rule", "severity", "message")
        .sum_horizontal()[0]
        == 0
    )


# --- against the synthetic generator's injected violations -------------------------------------


def test_finds_exactly_the_injected_violations(tmp_path: Path) -> None:
    from toolkit.synth import synthesise

    synthesise(tmp_path, preset="proclaim", error_rate=0.05)
    findings = pl.concat(
        validate(open_submission(folder)).findings.with_columns(site_id=pl.lit(folder.name))
        for folder in sorted(tmp_path.glob("S*"))
    )
    injected = pl.read_csv(tmp_path / "injected.csv", infer_schema=False).with_columns(
        pl.col("row").cast(pl.Int64)
    )
    key = ["site_id", "file", "row", "column", "value", "rule", "severity"]
    assert injected.height > 50
    assert injected.join(findings, on=key, how="anti", nulls_equal=True).is_empty()
    assert findings.join(injected, on=key, how="anti", nulls_equal=True).is_empty()


# --- the command -------------------------------------------------------------------------------


def test_command_exit_codes_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the reports go to ./validation-<name>
    runner = CliRunner()
    clean = write_submission(tmp_path / "clean")
    bad = write_submission(tmp_path / "bad", [("patients.csv", 2, "sex", "X")])
    ok = runner.invoke(command, [str(clean)])
    assert ok.exit_code == 0, ok.output
    assert "ACCEPTED" in ok.output
    rejected = runner.invoke(command, [str(bad), "--json"])
    assert rejected.exit_code == 1
    document = json.loads(rejected.output)
    assert document["accepted"] is False
    assert document["rules"] == {"PAT-SEX-CODE": 1}
    assert document["findings"][0]["row"] == 2
    assert runner.invoke(command, [str(tmp_path / "nowhere")]).exit_code == 2
    unsafe = tmp_path / "unsafe.zip"
    unsafe.write_text("not a zip")
    refused = runner.invoke(command, [str(unsafe)])
    assert refused.exit_code == 1
    assert "not a zip" in refused.output
    assert refused.exception is None or isinstance(refused.exception, SystemExit)


@pytest.mark.parametrize("flag", [[], ["--json"]])
def test_command_prints_no_traceback(
    tmp_path: Path, flag: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = b"patient_id,assessment_date\n\xff\xfe\n"
    folder = write_submission(tmp_path / "x", raw={"assessments.csv": text})
    result = CliRunner().invoke(command, [str(folder), *flag])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


# --- the manifest's site_id and extracted_on ---------------------------------------------------


def _with_manifest(tmp_path: Path, **fields: str) -> ValidationResult:
    return run(tmp_path, raw={"manifest.json": json.dumps({**MANIFEST, **fields}).encode()})


def test_empty_site_id_is_one_finding_on_the_manifest_not_one_per_row(tmp_path: Path) -> None:
    assert found(_with_manifest(tmp_path, site_id="")) == [
        ("manifest.json", None, "site_id", "MANIFEST-INVALID")
    ]


@pytest.mark.parametrize(
    "site_id", ["../x", "S01/../../tmp", "<script>alert(1)</script>", "S 01", "S01é", "S" * 17]
)
def test_site_id_outside_the_pattern_is_refused(tmp_path: Path, site_id: str) -> None:
    result = _with_manifest(tmp_path, site_id=site_id)
    assert found(result) == [("manifest.json", None, "site_id", "MANIFEST-SITE-ID-FORMAT")]
    assert not result.accepted


@pytest.mark.parametrize("site_id", ["S01", "a_b-9", "X" * 16])
def test_site_id_within_the_pattern_passes(tmp_path: Path, site_id: str) -> None:
    rows = [("patients.csv", row, "site_id", site_id) for row in (2, 3)]
    raw = {"manifest.json": json.dumps({**MANIFEST, "site_id": site_id}).encode()}
    assert found(run(tmp_path, rows, raw)) == []


def test_extracted_on_after_the_day_of_validation_is_refused(tmp_path: Path) -> None:
    submission = open_submission(write_submission(tmp_path / "S01"))
    day_before = validate(submission, today=date(2015, 3, 13))
    assert found(day_before) == [
        ("manifest.json", None, "extracted_on", "MANIFEST-EXTRACTED-FUTURE")
    ]
    assert "later than 2015-03-13" in only(day_before)["message"]
    assert found(validate(submission, today=date(2015, 3, 14))) == []


def test_far_future_extracted_on_is_refused_by_the_real_clock(tmp_path: Path) -> None:
    result = _with_manifest(tmp_path, extracted_on="9999-12-31")
    assert found(result) == [("manifest.json", None, "extracted_on", "MANIFEST-EXTRACTED-FUTURE")]


def test_deeply_nested_manifest_is_a_finding(tmp_path: Path) -> None:
    finding = only(run(tmp_path, raw={"manifest.json": b"[" * 100_000 + b"]" * 100_000}))
    assert (finding["file"], finding["rule"]) == ("manifest.json", "MANIFEST-INVALID")
    assert "too deeply nested" in finding["message"]


def test_manifest_key_sent_twice_is_a_finding(tmp_path: Path) -> None:
    raw = b'{"site_id": "S01", "site_id": "S02", "contract_version": "1", '
    raw += b'"extracted_on": "2015-03-14"}'
    finding = only(run(tmp_path, raw={"manifest.json": raw}))
    assert (finding["column"], finding["rule"]) == ("site_id", "MANIFEST-INVALID")
    assert "site_id appears twice" in finding["message"]


# --- sizes no extract has: a huge number, a huge header ----------------------------------------


@pytest.mark.parametrize("doses", ["99999999999999999999", "9223372036854775808", "1" * 19])
def test_number_too_long_to_hold_is_an_integer_finding_not_a_range_one(
    tmp_path: Path, doses: str
) -> None:
    finding = only(run(tmp_path, [("treatments.csv", 2, "doses", doses)]))
    assert (finding["row"], finding["column"], finding["rule"]) == (2, "doses", "TRT-DOSES-INTEGER")
    assert finding["value"] == doses
    assert "at most 18" in finding["message"]


def test_eighteen_digit_number_is_a_whole_number_judged_by_its_size(tmp_path: Path) -> None:
    assert found(run(tmp_path, [("treatments.csv", 2, "doses", "9" * 18)])) == [
        ("treatments.csv", 2, "doses", "TRT-DOSES-HIGH")
    ]


def _wide(rows: list[dict[str, str]], extra: int) -> bytes:
    names = [f"x{i}" for i in range(extra)]
    return csv_bytes([{**row, **dict.fromkeys(names, "")} for row in rows])


def test_header_far_wider_than_the_contract_is_one_finding(tmp_path: Path) -> None:
    result = run(tmp_path, raw={"assessments.csv": _wide(ASSESSMENTS, 100_000)})
    finding = only(result)
    assert (finding["file"], finding["row"], finding["rule"]) == (
        "assessments.csv",
        1,
        "FILE-COLUMN-UNKNOWN",
    )
    assert "100,004 columns" in finding["message"]
    assert "100,000 are not part of the contract" in finding["message"]
    assert "'x0', 'x1', 'x2', 'x3', 'x4')" in finding["message"]
    assert not result.accepted


def test_header_of_256_columns_names_each_stray_column_and_257_is_one_finding(
    tmp_path: Path,
) -> None:
    result = run(tmp_path / "256", raw={"assessments.csv": _wide(ASSESSMENTS, 252)})
    assert result.findings["rule"].unique().to_list() == ["FILE-COLUMN-UNKNOWN"]
    assert sorted(result.findings["column"]) == sorted(f"x{i}" for i in range(252))
    wider = only(run(tmp_path / "257", raw={"assessments.csv": _wide(ASSESSMENTS, 253)}))
    assert "the header has 257 columns" in wider["message"]


# --- every dated and numeric rule on, just inside and just outside its boundary ----------------
# P-2 (patients.csv row 3): diagnosis 2013-01-15, alive, last contact 2015-03-01, and one course,
# T3 (treatments.csv row 4: aldesleukin, 14 doses, line 1). 00123 (row 2) died on 2014-02-01;
# its first course starts 2012-06-01. extracted_on is 2015-03-14. The expected findings come
# from the contract's text, not from the validator.

_P, _T, _A, _S = "patients.csv", "treatments.csv", "adverse_events.csv", "assessments.csv"

BOUNDARIES = {
    "birth-year-1899": (
        [(_P, 3, "birth_year", "1899")], [(_P, 3, "birth_year", "PAT-BIRTH-YEAR-RANGE")]
    ),
    "birth-year-1900": ([(_P, 3, "birth_year", "1900")], []),
    "birth-year-in-the-diagnosis-year": ([(_P, 3, "birth_year", "2013")], []),
    "birth-year-after-the-diagnosis-year": (
        [(_P, 3, "birth_year", "2014")], [(_P, 3, "birth_year", "PAT-DIAGNOSIS-BEFORE-BIRTH")]
    ),
    "birth-year-in-the-extract-year": (
        [(_P, 3, "birth_year", "2015")], [(_P, 3, "birth_year", "PAT-DIAGNOSIS-BEFORE-BIRTH")]
    ),
    "ecog-minus-1": ([(_P, 3, "ecog", "-1")], [(_P, 3, "ecog", "PAT-ECOG-RANGE")]),
    "ecog-0": ([(_P, 3, "ecog", "0")], []),
    "ecog-4": ([(_P, 3, "ecog", "4")], []),
    "ecog-5": ([(_P, 3, "ecog", "5")], [(_P, 3, "ecog", "PAT-ECOG-RANGE")]),
    "line-0": ([(_T, 4, "line", "0")], [(_T, 4, "line", "TRT-LINE-RANGE")]),
    "line-1": ([(_T, 4, "line", "1")], []),
    "line-15": ([(_T, 4, "line", "15")], []),
    "line-16": ([(_T, 4, "line", "16")], [(_T, 4, "line", "TRT-LINE-RANGE")]),
    "doses-minus-1": ([(_T, 4, "doses", "-1")], [(_T, 4, "doses", "TRT-DOSES-RANGE")]),
    "doses-0": ([(_T, 4, "doses", "0")], []),
    "doses-30": ([(_T, 4, "doses", "30")], []),
    "doses-31": ([(_T, 4, "doses", "31")], [(_T, 4, "doses", "TRT-DOSES-HIGH")]),
    "grade-0": ([(_A, 2, "grade", "0")], [(_A, 2, "grade", "AE-GRADE-RANGE")]),
    "grade-1": ([(_A, 2, "grade", "1")], []),
    "grade-4": ([(_A, 2, "grade", "4")], []),
    "grade-6": ([(_A, 2, "grade", "6")], [(_A, 2, "grade", "AE-GRADE-RANGE")]),
    "last-contact-on-the-extract-day": ([(_P, 3, "last_contact_date", "2015-03-14")], []),
    "last-contact-the-day-after": (
        [(_P, 3, "last_contact_date", "2015-03-15")],
        [(_P, 3, "last_contact_date", "PAT-LAST-CONTACT-AFTER-EXTRACT")],
    ),
    "death-on-the-extract-day": (
        [(_P, 2, "last_contact_date", "2015-03-14"), (_P, 2, "death_date", "2015-03-14")], []
    ),
    "death-the-day-after": (
        [(_P, 2, "last_contact_date", "2015-03-15"), (_P, 2, "death_date", "2015-03-15")],
        [
            (_P, 2, "death_date", "PAT-DEATH-AFTER-EXTRACT"),
            (_P, 2, "last_contact_date", "PAT-LAST-CONTACT-AFTER-EXTRACT"),
        ],
    ),
    "start-90-days-before-diagnosis": ([(_T, 4, "start_date", "2012-10-17")], []),
    "start-91-days-before-diagnosis": (
        [(_T, 4, "start_date", "2012-10-16")], [(_T, 4, "start_date", "TRT-START-EARLY")]
    ),
    "start-365-days-before-diagnosis": (
        [(_T, 4, "start_date", "2012-01-16")], [(_T, 4, "start_date", "TRT-START-EARLY")]
    ),
    "start-366-days-before-diagnosis": (
        [(_T, 4, "start_date", "2012-01-15")],
        [(_T, 4, "start_date", "TRT-START-BEFORE-DIAGNOSIS")],
    ),
    "start-on-the-last-contact": (
        [(_T, 4, "start_date", "2015-03-01"), (_T, 4, "end_date", "")], []
    ),
    "start-the-day-after-the-last-contact": (
        [(_T, 4, "start_date", "2015-03-02"), (_T, 4, "end_date", "")],
        [(_T, 4, "start_date", "TRT-START-AFTER-LAST-CONTACT")],
    ),
    "last-contact-on-the-diagnosis-day": (
        [(_P, 3, "last_contact_date", "2013-01-15")],
        [
            (_S, 3, "assessment_date", "ASM-DATE-AFTER-LAST-CONTACT"),
            (_T, 4, "end_date", "TRT-END-AFTER-LAST-CONTACT"),
            (_T, 4, "start_date", "TRT-START-AFTER-LAST-CONTACT"),
        ],
    ),
    "start-on-the-extract-day-after-the-last-contact": (
        [(_T, 4, "start_date", "2015-03-14"), (_T, 4, "end_date", "")],
        [(_T, 4, "start_date", "TRT-START-AFTER-LAST-CONTACT")],
    ),
    "end-on-the-start-day": ([(_T, 4, "end_date", "2013-02-01")], []),
    "end-the-day-before-the-start": (
        [(_T, 4, "end_date", "2013-01-31")], [(_T, 4, "end_date", "TRT-END-BEFORE-START")]
    ),
    "onset-on-the-first-start-day": ([(_A, 2, "onset_date", "2012-06-01")], []),
    "onset-the-day-before": (
        [(_A, 2, "onset_date", "2012-05-31")], [(_A, 2, "onset_date", "AE-BEFORE-TREATMENT")]
    ),
    "onset-on-the-last-contact": ([(_A, 3, "onset_date", "2014-02-01")], []),
    "onset-the-day-after-the-last-contact": (
        [(_A, 3, "onset_date", "2014-02-02")],
        [(_A, 3, "onset_date", "AE-ONSET-AFTER-LAST-CONTACT")],
    ),
    "assessment-on-the-diagnosis-day": ([(_S, 3, "assessment_date", "2013-01-15")], []),
    "assessment-the-day-before": (
        [(_S, 3, "assessment_date", "2013-01-14")],
        [(_S, 3, "assessment_date", "ASM-DATE-BEFORE-DIAGNOSIS")],
    ),
    "assessment-on-the-last-contact": ([(_S, 3, "assessment_date", "2015-03-01")], []),
    "assessment-the-day-after-the-last-contact": (
        [(_S, 3, "assessment_date", "2015-03-02")],
        [(_S, 3, "assessment_date", "ASM-DATE-AFTER-LAST-CONTACT")],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BOUNDARIES))
def test_each_rule_on_and_beside_its_boundary(tmp_path: Path, case: str) -> None:
    changes, expected = BOUNDARIES[case]
    assert found(run(tmp_path, changes)) == sorted(expected, key=lambda f: (f[0], f[1], f[2], f[3]))


def test_a_cross_finding_carries_its_rule_s_file_severity_and_message(tmp_path: Path) -> None:
    finding = only(run(tmp_path, [("patients.csv", 2, "death_date", "")]))
    rule = RULES["PAT-DEATH-DATE-REQUIRED"]
    assert (finding["file"], finding["severity"], finding["message"]) == (
        rule.file,
        rule.severity,
        rule.message,
    )


def test_no_cross_rule_to_run_gives_no_finding_with_the_finding_columns() -> None:
    from schemas.cross import Context, cross_findings
    from schemas.findings import FINDING_SCHEMA

    findings = cross_findings(Context(tables={}, usable=frozenset()))
    assert findings.height == 0 and findings.schema == FINDING_SCHEMA


def test_a_patient_whose_own_dates_contradict_lends_no_dates_to_other_files(
    tmp_path: Path,
) -> None:
    # death before diagnosis: reported once on the patient, and the treatments after that
    # impossible death date are not reported again
    result = run(tmp_path, [("patients.csv", 2, "death_date", "2010-01-01")])
    assert found(result) == [("patients.csv", 2, "death_date", "PAT-DEATH-BEFORE-DIAGNOSIS")]


def test_a_patient_without_last_contact_still_lends_a_consistent_death_date(
    tmp_path: Path,
) -> None:
    result = run(
        tmp_path,
        [
            ("patients.csv", 2, "last_contact_date", ""),
            ("patients.csv", 2, "death_date", "2012-07-01"),
        ],
    )
    assert found(result) == [
        ("assessments.csv", 2, "assessment_date", "ASM-AFTER-DEATH"),
        ("patients.csv", 2, "last_contact_date", "PAT-LAST-CONTACT-DATE-REQUIRED"),
        ("treatments.csv", 3, "start_date", "TRT-AFTER-DEATH"),
    ]


def test_death_and_last_contact_on_the_diagnosis_day_are_consistent(tmp_path: Path) -> None:
    # the patient's dates stand (death = diagnosis is possible), so every later row of the
    # other files is after the last contact
    result = run(
        tmp_path,
        [
            ("patients.csv", 2, "death_date", "2012-05-01"),
            ("patients.csv", 2, "last_contact_date", "2012-05-01"),
        ],
    )
    assert found(result) == [
        ("adverse_events.csv", 2, "onset_date", "AE-ONSET-AFTER-LAST-CONTACT"),
        ("adverse_events.csv", 3, "onset_date", "AE-ONSET-AFTER-LAST-CONTACT"),
        ("assessments.csv", 2, "assessment_date", "ASM-DATE-AFTER-LAST-CONTACT"),
        ("treatments.csv", 2, "end_date", "TRT-END-AFTER-LAST-CONTACT"),
        ("treatments.csv", 2, "start_date", "TRT-START-AFTER-LAST-CONTACT"),
        ("treatments.csv", 3, "start_date", "TRT-START-AFTER-LAST-CONTACT"),
    ]


def test_a_duplicated_patient_id_lends_no_dates(tmp_path: Path) -> None:
    # 00123 twice; its first row's last contact (2012-12-01) precedes its second treatment,
    # which is not reported: the id is ambiguous, not the treatment
    changes = [
        ("patients.csv", 3, "patient_id", "00123"),
        ("patients.csv", 2, "last_contact_date", "2012-12-01"),
        ("patients.csv", 2, "vital_status", "alive"),
        ("patients.csv", 2, "death_date", ""),
        ("patients.csv", 2, "cause_of_death", ""),
    ]
    assert found(run(tmp_path, changes)) == [
        ("assessments.csv", 3, "patient_id", "ASM-PATIENT-REF"),
        ("patients.csv", 3, "patient_id", "PAT-PATIENT-ID-UNIQUE"),
        ("treatments.csv", 4, "patient_id", "TRT-PATIENT-REF"),
    ]


# --- the record of each finding, and query ids that survive a re-export --------------------------


def test_a_finding_names_its_patient_and_the_rows_own_id(tmp_path: Path) -> None:
    result = run(tmp_path, [("treatments.csv", 4, "doses", "-4")])
    finding = only(result)
    assert (finding["file"], finding["row"], finding["rule"]) == (
        "treatments.csv",
        4,
        "TRT-DOSES-RANGE",
    )
    assert (finding["patient_id"], finding["record_id"]) == ("P-2", "T3")
    assert finding["query_id"].startswith("Q-") and len(finding["query_id"]) == 14


def test_a_patients_finding_names_the_patient_and_no_other_record(tmp_path: Path) -> None:
    finding = only(run(tmp_path, [("patients.csv", 2, "sex", "X")]))
    assert (finding["patient_id"], finding["record_id"]) == ("00123", None)


def test_the_query_id_stays_when_the_site_re_exports_its_rows_in_another_order(
    tmp_path: Path,
) -> None:
    first = only(run(tmp_path / "a", [("treatments.csv", 4, "doses", "-4")]))
    swapped = [*TREATMENTS[2:], *TREATMENTS[:2]]  # T3 now on row 2
    swapped[0] = {**swapped[0], "doses": "-4"}
    again = only(
        validate(
            open_submission(
                write_submission(tmp_path / "b" / "S01", raw={"treatments.csv": csv_bytes(swapped)})
            )
        )
    )
    assert (first["row"], again["row"]) == (4, 2)
    assert again["query_id"] == first["query_id"]
    # another record, rule or column is another query
    other = only(run(tmp_path / "c", [("treatments.csv", 3, "doses", "-4")]))
    assert other["query_id"] != first["query_id"]


def test_a_finding_without_a_record_is_told_apart_by_its_row(tmp_path: Path) -> None:
    result = run(
        tmp_path, [("patients.csv", 2, "patient_id", ""), ("patients.csv", 3, "patient_id", "")]
    )
    missing = result.findings.filter(pl.col("rule") == "PAT-PATIENT-ID-REQUIRED")
    assert missing["patient_id"].to_list() == [None, None]
    assert missing["query_id"].n_unique() == 2


def test_a_repeated_identifier_names_the_row_that_has_it_first(tmp_path: Path) -> None:
    result = run(tmp_path, [("treatments.csv", 4, "treatment_id", "T1")])
    finding = only(result)
    assert finding["rule"] == "TRT-TREATMENT-ID-UNIQUE" and finding["row"] == 4
    assert finding["message"] == "treatment_id must be unique in the file; row 2 has it first"
    assert (finding["patient_id"], finding["record_id"]) == ("P-2", "T1")


def test_a_cross_field_finding_gives_the_values_it_compared(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            ("patients.csv", 3, "last_contact_date", "2012-12-01"),  # before its diagnosis
            ("treatments.csv", 3, "agent", "aldesleukin"),  # the same course as row 2
            ("treatments.csv", 3, "start_date", "2012-06-01"),
            ("treatments.csv", 3, "doses", "12"),
        ],
    )
    by_rule = {f["rule"]: f for f in result.findings.to_dicts()}
    assert by_rule["PAT-LAST-CONTACT-BEFORE-DIAGNOSIS"]["compared"] == "diagnosis_date 2013-01-15"
    assert by_rule["TRT-DUPLICATE-COURSE"]["compared"] == (
        "agent aldesleukin; start_date 2012-06-01; row holding it first 2"
    )
    assert by_rule["TRT-DUPLICATE-COURSE"]["record_id"] == "T2"


def test_every_later_copy_of_a_course_names_the_first(tmp_path: Path) -> None:
    copy = [("agent", "aldesleukin"), ("start_date", "2012-06-01"), ("doses", "12")]
    result = run(
        tmp_path,
        [("treatments.csv", 3, column, value) for column, value in copy]
        + [("treatments.csv", 4, column, value) for column, value in copy]
        + [("treatments.csv", 4, "patient_id", "00123")],
    )
    copies = result.findings.filter(pl.col("rule") == "TRT-DUPLICATE-COURSE")
    assert copies["row"].to_list() == [3, 4]
    assert [c.rsplit("; ", 1)[1] for c in copies["compared"]] == ["row holding it first 2"] * 2


def test_a_consumed_submission_gives_the_same_result_without_its_bytes(tmp_path: Path) -> None:
    folder = write_submission(tmp_path / "S01", [("treatments.csv", 3, "doses", "x")])
    kept = validate(open_submission(folder))
    submission = open_submission(folder)
    consumed = validate(submission, consume=True)
    assert consumed.findings.equals(kept.findings) and consumed.rows == kept.rows
    assert list(submission.files) == ["manifest.json"]  # the CSV files' bytes are released
    accepted = validate(open_submission(write_submission(tmp_path / "S02", [])), consume=True)
    reference = validate(open_submission(tmp_path / "S02"))
    assert all(accepted.tables[t].equals(reference.tables[t]) for t in reference.tables)
