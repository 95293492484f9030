"""The steward's report of ``toolkit validate``: real submissions, real files, real subprocesses."""

from __future__ import annotations

import csv
import hashlib
import html as html_lib
import io
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from schemas.findings import FINDING_FIELDS
from schemas.rules import RULES
from toolkit.documents import AssetFetcher, render_pdf
from toolkit.tabular import spreadsheet_safe
from toolkit.validation_report import (
    QUERY_COLUMNS,
    REPORT_FILES,
    SHOWN_PER_RULE,
    SubmissionInfo,
    findings_document,
    queries_csv,
    render_validation_html,
    write_validation_report,
)

MANIFEST = {"site_id": "S01", "contract_version": "1", "extracted_on": "2015-03-14"}
PATIENT = {
    "patient_id": "P1",
    "site_id": "S01",
    "sex": "F",
    "birth_year": "1950",
    "diagnosis_date": "2012-05-01",
    "primary_site": "cutaneous",
    "m_stage": "M1c",
    "ecog": "1",
    "ldh_elevated": "yes",
    "brain_metastases": "no",
    "braf_status": "mutant",
    "vital_status": "alive",
    "last_contact_date": "2015-03-01",
    "death_date": "",
    "cause_of_death": "",
}
TREATMENT = {
    "treatment_id": "T1",
    "patient_id": "P1",
    "agent": "Proleukin",
    "start_date": "2012-06-01",
    "end_date": "2012-06-20",
    "doses": "12",
    "line": "1",
    "best_response": "PD",
}
ADVERSE_EVENT = {
    "ae_id": "A1",
    "patient_id": "P1",
    "onset_date": "2012-06-05",
    "term": "hypotension",
    "autoimmune": "no",
    "grade": "3",
    "relatedness": "related",
    "treatment_id": "T1",
    "outcome": "resolved",
}
ASSESSMENT = {"patient_id": "P1", "assessment_date": "2012-08-01", "response": "PD", "method": ""}
FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)"]


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def write_submission(folder: Path, patients: list[dict[str, str]] | None = None) -> Path:
    """A small submission: one patient per entry of ``patients`` (changes to :data:`PATIENT`),
    each with one treatment, one adverse event and one assessment."""
    changes = patients if patients is not None else [{}]
    rows = {"patients.csv": [], "treatments.csv": [], "adverse_events.csv": []}
    rows["assessments.csv"] = []
    for n, change in enumerate(changes, start=1):
        pid, tid = change.get("patient_id", f"P{n}"), f"T{n}"
        rows["patients.csv"].append({**PATIENT, **change, "patient_id": pid})
        rows["treatments.csv"].append({**TREATMENT, "treatment_id": tid, "patient_id": pid})
        rows["adverse_events.csv"].append(
            {**ADVERSE_EVENT, "ae_id": f"A{n}", "patient_id": pid, "treatment_id": tid}
        )
        rows["assessments.csv"].append({**ASSESSMENT, "patient_id": pid})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    for name, table in rows.items():
        (folder / name).write_bytes(_csv(table))
    return folder


def toolkit(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def read_queries(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def visible_text(html: str) -> str:
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def report_files(out: Path) -> dict[str, Path]:
    return {kind: out / name for kind, name in REPORT_FILES.items()}


@pytest.fixture(scope="module")
def accepted(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    root = tmp_path_factory.mktemp("accepted")
    folder = write_submission(root / "S01", [{}, {"patient_id": "00123"}])
    out = root / "report"
    return toolkit("validate", folder, "--out", out), out


@pytest.fixture(scope="module")
def rejected(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """Formula-like and markup values in coded columns, and 60 patients with a bad sex code."""
    root = tmp_path_factory.mktemp("rejected")
    patients = [
        {"sex": FORMULAS[0]},
        {"ecog": FORMULAS[1]},
        {"ecog": FORMULAS[2]},
        {"m_stage": FORMULAS[3]},
        {"braf_status": "<script>alert(1)</script>"},
        {"primary_site": "\tcutaneous"},
        {"vital_status": "dead", "death_date": "2014-02-01", "last_contact_date": "2014-02-01"},
    ]
    patients += [{"sex": "female"} for _ in range(SHOWN_PER_RULE + 10)]
    folder = write_submission(root / "S01", patients)
    out = root / "report"
    return toolkit("validate", folder, "--out", out), out


# --- the accepted submission -------------------------------------------------------------------


def test_accepted_submission_writes_the_three_files(accepted) -> None:
    done, out = accepted
    assert done.returncode == 0, done.stderr
    assert "ACCEPTED" in done.stdout and "Traceback" not in done.stderr
    files = report_files(out)
    assert all(path.is_file() for path in files.values())
    document = json.loads(files["json"].read_text(encoding="utf-8"))
    assert document["accepted"] is True and document["verdict"] == "ACCEPTED"
    assert document["counts"] == {"error": 0, "warning": 0}
    assert document["findings"] == []
    assert document["files"]["patients.csv"]["rows"] == 2
    assert read_queries(files["csv"]) == []
    text = visible_text(files["html"].read_text(encoding="utf-8"))
    assert "ACCEPTED" in text and "REJECTED" not in text
    assert "No findings" in text


def test_html_names_the_submission(accepted) -> None:
    _, out = accepted
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    text = visible_text((out / "validation.html").read_text(encoding="utf-8"))
    for fact in ("S01", "2015-03-14", document["sha256"], "Contract version 1"):
        assert fact in text
    assert re.fullmatch(r"[0-9a-f]{64}", document["sha256"])


# --- the rejected submission -------------------------------------------------------------------


def test_rejected_submission_exits_1_with_every_finding(rejected) -> None:
    done, out = rejected
    assert done.returncode == 1, done.stderr
    assert "REJECTED" in done.stdout and "Traceback" not in done.stderr
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert document["accepted"] is False
    assert document["counts"]["error"] == len(
        [f for f in document["findings"] if f["severity"] == "error"]
    )
    assert document["rules"]["PAT-SEX-CODE"] == SHOWN_PER_RULE + 11
    assert list(document["findings"][0]) == [
        "query_id",
        "file",
        "row",
        "patient_id",
        "record_id",
        "column",
        "value",
        "compared",
        "rule",
        "severity",
        "message",
    ]
    queries = read_queries(out / "queries.csv")
    assert len(queries) == len(document["findings"])
    assert len({q["query_id"] for q in queries}) == len(queries)
    assert list(queries[0]) == list(QUERY_COLUMNS)
    assert {q["site_id"] for q in queries} == {"S01"}


def test_findings_name_the_row_as_the_site_sees_it(rejected) -> None:
    _, out = rejected
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    sex = [f for f in document["findings"] if f["rule"] == "PAT-SEX-CODE"]
    assert sex[0]["row"] == 2  # the first patient: header is row 1
    assert sex[0]["value"] == FORMULAS[0]
    assert sex[0]["message"] == RULES["PAT-SEX-CODE"].message


def test_queries_csv_is_formula_safe(rejected) -> None:
    _, out = rejected
    queries = read_queries(out / "queries.csv")
    for query in queries:
        for name, cell in query.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    sent = {q["value_sent"] for q in queries}
    for formula in FORMULAS:
        assert "'" + formula in sent
    assert "'\tcutaneous" in sent
    assert "<script>alert(1)</script>" in sent  # text, not a formula: kept as sent


def test_spreadsheet_safe() -> None:
    for cell in [*FORMULAS, "\tx", "\rx"]:
        assert spreadsheet_safe(cell) == "'" + cell
    for cell in ["", "F", "2015-03-14", " =1", "a=b", "'quoted"]:
        assert spreadsheet_safe(cell) == cell


def test_html_escapes_values(rejected) -> None:
    _, out = rejected
    html = (out / "validation.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in html


def test_html_groups_findings_by_rule_and_caps_each_group(rejected) -> None:
    _, out = rejected
    html = (out / "validation.html").read_text(encoding="utf-8")
    group = re.search(
        r'<section class="rule-group" id="rule-PAT-SEX-CODE">(.*?)</section>', html, re.S
    )
    assert group is not None
    assert len(re.findall(r"<tr>", group.group(1))) == 1 + SHOWN_PER_RULE  # header + shown
    text = visible_text(group.group(1))
    assert "… and 11 more — full list in findings.json / queries.csv" in text
    summary = visible_text(html.split('id="findings"')[0])
    assert f"PAT-SEX-CODE error patients.csv sex {SHOWN_PER_RULE + 11}" in summary
    assert RULES["PAT-SEX-CODE"].message in summary
    # file, rows, rows with findings, errors, warnings
    assert "patients.csv 67 66 66 0" in summary


def test_html_is_self_contained_and_printable(rejected) -> None:
    _, out = rejected
    html = (out / "validation.html").read_text(encoding="utf-8")
    assert "<style>" in html and "@page" in html and "@media print" in html
    assert 'url("fonts/' not in html and "data:font/woff;base64," in html
    assert not re.search(r'(src|href)="(?!#)', html)  # only links inside the page
    fetcher = AssetFetcher()
    pdf = render_pdf(html, title="validation", url_fetcher=fetcher)
    assert pdf.startswith(b"%PDF-")
    assert all(url.startswith("data:") for url in fetcher.requested)


def test_two_runs_give_identical_bytes(rejected, tmp_path: Path) -> None:
    _, out = rejected
    folder = out.parent / "S01"
    again = toolkit("validate", "S01", "--out", tmp_path / "again", cwd=out.parent)
    assert again.returncode == 1
    for name in REPORT_FILES.values():
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name
    assert str(folder) not in (out / "validation.html").read_text(encoding="utf-8")


def test_json_flag_prints_the_findings_document(rejected, tmp_path: Path) -> None:
    _, out = rejected
    done = toolkit("validate", out.parent / "S01", "--json", "--out", tmp_path / "j")
    assert done.returncode == 1
    assert done.stdout == (out / "findings.json").read_text(encoding="utf-8")
    assert json.loads(done.stdout)["rules"]["PAT-SEX-CODE"] == SHOWN_PER_RULE + 11


# --- unreadable submissions and usage problems -------------------------------------------------


def test_unreadable_submission_gets_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "site.zip"
    bad.write_bytes(b"not a zip")
    done = toolkit("validate", bad, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    out = tmp_path / "validation-site"  # the default folder, in the current folder
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert document["sha256"] == hashlib.sha256(b"not a zip").hexdigest()
    assert [f["rule"] for f in document["findings"]] == ["SUBMISSION-UNREADABLE"]
    assert document["findings"][0]["file"] == "site.zip"
    assert str(tmp_path) not in document["findings"][0]["message"]
    assert "not a zip" in done.stdout
    assert len(read_queries(out / "queries.csv")) == 1
    assert "REJECTED" in visible_text((out / "validation.html").read_text(encoding="utf-8"))


def test_default_out_dir_is_named_after_the_submission(tmp_path: Path) -> None:
    write_submission(tmp_path / "S07")
    done = toolkit("validate", "S07", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "validation-S07").iterdir()) == sorted(
        REPORT_FILES.values()
    )


@pytest.mark.parametrize("case", ["missing", "out-is-a-file", "unknown-option"])
def test_usage_problems_exit_2(tmp_path: Path, case: str) -> None:
    folder = write_submission(tmp_path / "S01")
    (tmp_path / "taken").write_text("a file")
    args = {
        "missing": ["validate", tmp_path / "nowhere"],
        "out-is-a-file": ["validate", folder, "--out", tmp_path / "taken"],
        "unknown-option": ["validate", folder, "--colour"],
    }[case]
    done = toolkit(*args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr


def test_report_from_plain_data(tmp_path: Path) -> None:
    """The report writer needs no validator: plain findings in, files out."""
    info = SubmissionInfo("S09.zip", "ab" * 32, {"site_id": "S09", "extracted_on": 20150314})
    findings = [
        {
            "query_id": "Q-0000000000A1",
            "file": "treatments.csv",
            "row": 3,
            "patient_id": "P0042",
            "record_id": "T0103",
            "column": "doses",
            "value": "-4",
            "rule": "TRT-DOSES-RANGE",
            "severity": "error",
            "message": RULES["TRT-DOSES-RANGE"].message,
        },
        {
            "file": "treatments.csv",
            "row": 5,
            "column": "doses",
            "value": "45",
            "rule": "TRT-DOSES-HIGH",
            "severity": "warning",
            "message": RULES["TRT-DOSES-HIGH"].message,
        },
    ]
    written = write_validation_report(info, findings, tmp_path / "r")
    document = json.loads(written["json"].read_text(encoding="utf-8"))
    assert document["counts"] == {"error": 1, "warning": 1}
    assert document["manifest"]["extracted_on"] == 20150314
    queries = read_queries(written["csv"])
    # the validator's query ids and records as given; a plain finding without them has none
    assert [q["query_id"] for q in queries] == ["Q-0000000000A1", ""]
    assert [(q["patient_id"], q["record_id"]) for q in queries] == [("P0042", "T0103"), ("", "")]
    assert [q["request"] for q in queries] == [
        "correct and resend the extract",
        "confirm, or correct and resend",
    ]
    assert queries[0]["value_sent"] == "'-4"
    assert queries_csv(info, findings).startswith("\ufeffquery_id,")
    text = visible_text(written["html"].read_text(encoding="utf-8"))
    assert text.index("TRT-DOSES-RANGE") < text.index("TRT-DOSES-HIGH")  # errors first
    assert "20150314" in text  # a non-text extract date is shown as sent


# --- a synthetic registry with injected errors -------------------------------------------------


@pytest.fixture(scope="module")
def injected_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from toolkit.synth import synthesise

    out = tmp_path_factory.mktemp("injected")
    synthesise(out, preset="proclaim", error_rate=0.02)
    return out


def test_every_injected_violation_becomes_a_query(injected_registry: Path, tmp_path: Path) -> None:
    with (injected_registry / "injected.csv").open(encoding="utf-8", newline="") as handle:
        injected = [row for row in csv.DictReader(handle) if row["site_id"] == "S01"]
    assert injected
    done = toolkit("validate", injected_registry / "S01", "--out", tmp_path / "r")
    assert done.returncode == 1, done.stderr
    queries = read_queries(tmp_path / "r" / "queries.csv")
    found = {(q["file"], q["row"], q["rule"]) for q in queries}
    assert found == {(row["file"], row["row"], row["rule"]) for row in injected}
    html = (tmp_path / "r" / "validation.html").read_text(encoding="utf-8")
    for rule in {row["rule"] for row in injected}:
        assert f'id="rule-{rule}"' in html
    _summary_counts_its_findings(json.loads((tmp_path / "r" / "findings.json").read_bytes()))


def _summary_counts_its_findings(document: dict) -> None:
    """The summary of findings.json, recounted in plain Python from its own findings."""
    found = document["findings"]
    assert document["counts"] == {"error": 0, "warning": 0} | Counter(f["severity"] for f in found)
    assert document["rules"] == dict(sorted(Counter(f["rule"] for f in found).items()))
    for file, summary in document["files"].items():
        mine = [f for f in found if f["file"] == file]
        rows = {f["row"] for f in mine if f["row"] is not None}
        assert summary["rows_with_findings"] == len(rows)
        assert summary["errors"] == sum(f["severity"] == "error" for f in mine)
        assert summary["warnings"] == sum(f["severity"] == "warning" for f in mine)
    units = Counter(rule for rule, _, _ in {(f["rule"], f["file"], f["row"]) for f in found})
    for check in document["checks"]:
        if check["ran"]:
            assert check["failed"] == units.get(check["rule"], 0), check["rule"]


def test_each_finding_is_one_line_of_pythons_json(tmp_path: Path) -> None:
    info = SubmissionInfo("S09", "ab" * 32, {"site_id": "S09"}, rows={"treatments.csv": 40})
    awkward = ['say "no"', "back\\slash", "tab\tnew\nline\r", "\x01\x1f\x7f", "é😀\u2028", None, ""]
    findings = [
        _treatment_finding(row, "TRT-DOSES-RANGE", "doses") | {"value": value, "patient_id": "P1"}
        for row, value in enumerate(awkward, start=2)
    ] + [_treatment_finding(None, "TRT-DOSES-RANGE", "doses")]
    text = write_validation_report(info, findings, tmp_path / "r")["json"].read_text("utf-8")
    lines = text[text.index('"findings": [') :].split("\n")[1:-3]  # not at U+2028
    expected = [{name: f.get(name) for name in FINDING_FIELDS} for f in findings]
    assert [line.strip().removesuffix(",") for line in lines] == [
        json.dumps(record, ensure_ascii=False) for record in expected
    ]
    assert json.loads(text)["findings"] == expected


# --- every rule run, with its units and Kahn dimension -----------------------------------------


def _treatment_finding(row: int, rule: str, column: str) -> dict:
    return {
        "file": "treatments.csv",
        "row": row,
        "column": column,
        "value": "x",
        "rule": rule,
        "severity": RULES[rule].severity,
        "message": RULES[rule].message,
    }


def test_every_rule_is_listed_with_its_units_failures_and_dimension() -> None:
    rows = {"patients.csv": 10, "treatments.csv": 40, "adverse_events.csv": 5}
    info = SubmissionInfo("S09", "ab" * 32, {"site_id": "S09"}, rows=rows)
    findings = [
        _treatment_finding(3, "TRT-DOSES-RANGE", "doses"),
        _treatment_finding(3, "TRT-DOSES-RANGE", "doses"),  # the same row twice: one unit
        _treatment_finding(7, "TRT-DOSES-RANGE", "doses"),
        {
            "file": "assessments.csv",
            "row": None,
            "column": None,
            "value": None,
            "rule": "FILE-MISSING",
            "severity": "error",
            "message": "assessments.csv is missing from the submission",
        },
        {
            "file": "adverse_events.csv",
            "row": None,
            "column": "grade",
            "value": None,
            "rule": "FILE-COLUMN-MISSING",
            "severity": "error",
            "message": "a column of the contract is missing",
        },
    ]
    document = findings_document(info, findings)
    checks = {c["rule"]: c for c in document["checks"]}
    assert list(checks) == list(RULES)  # every rule of the catalog, in its order
    doses = checks["TRT-DOSES-RANGE"]
    assert (doses["ran"], doses["units"], doses["failed"]) == (True, 40, 2)
    assert doses["pass_fraction"] == pytest.approx(38 / 40)
    assert (checks["TRT-LINE-RANGE"]["failed"], checks["TRT-LINE-RANGE"]["pass_fraction"]) == (0, 1)
    # a missing file, and a missing column, stop the rules that read them
    assert not checks["ASM-RESPONSE-CODE"]["ran"] and checks["ASM-RESPONSE-CODE"]["units"] is None
    assert not checks["AE-GRADE-RANGE"]["ran"]
    assert not checks["AE-GRADE5-NOT-DEAD"]["ran"]  # a cross rule reading grade
    assert checks["AE-TERM-REQUIRED"]["ran"]
    assert (checks["FILE-MISSING"]["units"], checks["FILE-MISSING"]["failed"]) == (5, 1)
    dimensions = {d["dimension"]: d for d in document["dimensions"]}
    assert set(dimensions) == {"conformance", "completeness", "plausibility"}
    plausibility = dimensions["plausibility"]
    assert (
        plausibility["failed"] == 2
        and plausibility["rules_passed"] == plausibility["rules_run"] - 1
    )


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("PAT-SEX-CODE", "conformance"),
        ("TRT-PATIENT-REF", "conformance"),
        ("PAT-SEX-REQUIRED", "completeness"),
        ("FILE-COLUMN-MISSING", "completeness"),
        ("TRT-END-BEFORE-START", "plausibility"),
        ("PAT-PATIENT-ID-UNIQUE", "plausibility"),
        ("TRT-DOSES-HIGH", "plausibility"),
    ],
)
def test_rules_carry_their_kahn_dimension(rule: str, expected: str) -> None:
    from schemas.rules import dimension

    assert dimension(rule) == expected


def test_a_pass_share_reads_100_percent_only_when_nothing_failed() -> None:
    from toolkit.validation_report import pass_share

    assert [pass_share(f) for f in (1.0, 0.0, 0.5, 0.99996, 0.00004)] == [
        "100%",
        "0%",
        "50.0%",
        "99.996%",
        "0.004%",
    ]


def test_the_html_lists_every_rule_run_and_the_patients_affected(tmp_path: Path) -> None:
    info = SubmissionInfo("S09", "ab" * 32, {"site_id": "S09"}, rows={"treatments.csv": 40})
    finding = _treatment_finding(3, "TRT-DOSES-RANGE", "doses") | {"patient_id": "P7"}
    text = visible_text(render_validation_html(info, [finding]))
    assert "Every rule run" in text
    said = re.search(
        r"(\d+) of (\d+) rules run passed; the findings concern 1 patient; (\d+)", text
    )
    passed, run, not_run = map(int, said.groups())
    assert passed == run - 1 and run + not_run == len(RULES)  # only treatments.csv was read
    assert "97.5%" in text  # 39 of 40 treatment rows pass TRT-DOSES-RANGE


def test_findings_are_also_listed_by_patient_most_first() -> None:
    info = SubmissionInfo("S09", "ab" * 32, {"site_id": "S09"}, rows={"treatments.csv": 40})
    findings = [
        _treatment_finding(3, "TRT-DOSES-RANGE", "doses") | {"patient_id": "P2", "query_id": "Q-1"},
        _treatment_finding(5, "TRT-DOSES-RANGE", "doses") | {"patient_id": "P7", "query_id": "Q-2"},
        _treatment_finding(6, "TRT-LINE-RANGE", "line") | {"patient_id": "P7", "record_id": "T6"},
    ]
    text = visible_text(render_validation_html(info, findings, shown_per_rule=1))
    section = text[text.index("Findings by patient") :]
    assert "1 more patients are in queries.csv" in section
    assert "P7 2 Q-2 TRT-DOSES-RANGE treatments.csv row 5, doses" in section
    # a patient's findings are cut like the rules' (shown_per_rule), the rest counted
    assert "TRT-LINE-RANGE treatments.csv row 6 (T6), line" not in section
    assert "… and 1 more in queries.csv" in section
    assert "P2 1" not in section  # listed in the CSV, beyond the first
    whole = visible_text(render_validation_html(info, findings, shown_per_rule=2))
    assert "TRT-LINE-RANGE treatments.csv row 6 (T6), line" in whole


def test_a_rule_on_a_file_without_rows_ran_on_nothing_and_says_so() -> None:
    info = SubmissionInfo("S09", "ab" * 32, {"site_id": "S09"}, rows={"patients.csv": 0})
    checks = {c["rule"]: c for c in findings_document(info, [])["checks"]}
    assert (checks["PAT-SEX-CODE"]["units"], checks["PAT-SEX-CODE"]["pass_fraction"]) == (0, None)
    text = visible_text(render_validation_html(info, []))
    assert "no rows" in text
