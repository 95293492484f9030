"""The data dictionary is complete: every file, column, code, rule and agent of the schemas."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from schemas import codes
from schemas.rules import RULES
from schemas.vocabulary import AGENT_ALIASES, AGENT_CLASS
from toolkit.dictionary import (
    DICTIONARY_FILES,
    contract_models,
    dictionary_context,
    write_dictionary,
)
from toolkit.errors import UsageError


def visible_text(html: str) -> str:
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def column_block(html: str, file: str, column: str) -> str:
    """The visible text of one column's entry in the dictionary."""
    match = re.search(
        rf'<tbody class="column-block" id="{re.escape(file)}-{column}">(.*?)</tbody>', html, re.S
    )
    assert match is not None, f"{file} {column} has no entry"
    return visible_text(match.group(1))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_dictionary(tmp_path_factory.mktemp("dictionary"))


@pytest.fixture(scope="module")
def html(written: dict[str, Path]) -> str:
    return written["html"].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pdf_text(written: dict[str, Path]) -> str:
    reader = PdfReader(written["pdf"])
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_writes_html_and_pdf(written: dict[str, Path]) -> None:
    documents = {kind: path.name for kind, path in written.items() if kind in DICTIONARY_FILES}
    assert documents == DICTIONARY_FILES
    assert written["pdf"].read_bytes().startswith(b"%PDF-")


def test_every_column_of_every_model_has_an_entry(html: str) -> None:
    models = contract_models()
    assert list(models) == [codes.MANIFEST_FILE, *codes.CSV_FILES]
    for file, model in models.items():
        assert f'id="file-{file}"' in html
        for name, column in model.to_schema().columns.items():
            entry = column_block(html, file, name)
            assert entry.startswith(name)
            assert column.description in entry


def test_every_rule_id_appears_with_its_message(html: str) -> None:
    text = visible_text(html)
    for rule in RULES.values():
        assert rule.id in text, rule.id
        assert rule.message in text, rule.id


def test_each_column_lists_the_rules_reported_on_it(html: str) -> None:
    for rule in RULES.values():
        if rule.file is not None and rule.column is not None:
            assert rule.id in column_block(html, rule.file, rule.column), rule.id


def test_every_code_of_every_code_list_appears(html: str) -> None:
    text = visible_text(html)
    lists = {
        name: value
        for name, value in vars(codes).items()
        if name.isupper() and isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    }
    assert {"SEX", "M_STAGE", "RESPONSE", "AE_OUTCOME", "NA_LIKE_TOKENS"} <= set(lists)
    for name, values in lists.items():
        for value in values:
            assert value in text, (name, value)


def test_codes_sit_with_their_column(html: str) -> None:
    for file, model in contract_models().items():
        for name, column in model.to_schema().columns.items():
            entry = column_block(html, file, name)
            if file == "treatments.csv" and name == "agent":
                assert "agent vocabulary" in entry
                continue
            for code in (column.metadata or {}).get("codes", ()):
                assert re.search(rf"(^|[\s,]){re.escape(code)}([\s,]|$)", entry), (name, code)


def test_types_requirements_ranges_and_date_form(html: str) -> None:
    sex = column_block(html, "patients.csv", "sex")
    assert re.search(r"code required F\s*,\s*M\s*,\s*U", sex)
    assert "optional" in column_block(html, "patients.csv", "primary_site")
    death = column_block(html, "patients.csv", "death_date")
    assert "death_date is required when vital_status is dead" in death
    assert "YYYY-MM-DD" in death and codes.DATE_EXAMPLE in death
    ecog = column_block(html, "patients.csv", "ecog")
    assert f"between {codes.ECOG_RANGE[0]} and {codes.ECOG_RANGE[1]}" in ecog
    assert "whole number" in ecog
    assert "unique in the file" in column_block(html, "patients.csv", "patient_id")
    assert "required" in column_block(html, "manifest.json", "extracted_on")


def test_cross_rules_and_warnings_are_listed_with_severity(html: str) -> None:
    from schemas.cross import cross_rule_ids

    context = dictionary_context()
    listed = {rule["id"] for rule in context["cross_rules"] + context["warnings"]}
    assert listed == set(cross_rule_ids()) | {
        r.id for r in RULES.values() if r.severity == "warning"
    }
    warnings = visible_text(html.split('id="warnings"')[1].split('id="file-rules"')[0])
    for rule in RULES.values():
        if rule.severity == "warning":
            assert f"{rule.id} warning" in warnings


def test_agent_vocabulary_is_complete(html: str) -> None:
    vocabulary = visible_text(html.split('id="agents"')[1])
    for agent, agent_class in AGENT_CLASS.items():
        assert agent in vocabulary and agent_class in vocabulary
    for alias in AGENT_ALIASES:
        assert alias in vocabulary, alias


def test_csv_conventions(html: str) -> None:
    text = visible_text(html)
    for words in ("UTF-8", "byte-order mark", "An empty cell means missing", "RFC 4180"):
        assert words in text
    for token in codes.NA_LIKE_TOKENS:
        assert f"“{token}”" in text


def test_pdf_carries_the_dictionary(pdf_text: str) -> None:
    for file in contract_models():
        assert file in pdf_text
    for words in ("Agent vocabulary", "pembrolizumab", "keytruda", "PAT-SEX-CODE", "Page 1 of"):
        assert words in pdf_text


def test_pdf_is_reproducible_and_undated(written: dict[str, Path], tmp_path: Path) -> None:
    again = write_dictionary(tmp_path)
    assert again["pdf"].read_bytes() == written["pdf"].read_bytes()
    assert again["html"].read_bytes() == written["html"].read_bytes()
    meta = PdfReader(io.BytesIO(again["pdf"].read_bytes())).metadata
    assert meta.title.startswith("Data dictionary")
    assert "/CreationDate" not in meta


def test_html_is_self_contained(html: str) -> None:
    assert "data:font/woff;base64," in html and 'url("fonts/' not in html
    assert not re.search(r'(src|href)="(?!#)', html)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        write_dictionary(tmp_path, formats=("docx",))


def test_command(tmp_path: Path) -> None:
    def toolkit(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "toolkit", "dictionary", *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)

    done = toolkit("--out", "dd", "--format", "html")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "dd").iterdir()) == ["dictionary.html"]
    for bad in (["--format", "docx"], ["--out", "dd/dictionary.html/x"]):
        refused = toolkit(*bad)
        assert refused.returncode == 2
        assert "Traceback" not in refused.stderr


# --- the dictionary as files sites fill in -------------------------------------------------------

#: REDCap's data dictionary header, as REDCap's "Download the current Data Dictionary" writes it.
REDCAP_HEADER = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw  # UTF-8 BOM, CRLF: Excel reads it
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_redcap_dictionary_has_redcaps_columns_and_one_instrument_per_file(
    written: dict[str, Path],
) -> None:
    rows = read_csv(written["redcap"])
    header = written["redcap"].read_text(encoding="utf-8-sig").splitlines()[0]
    assert next(csv.reader([header])) == REDCAP_HEADER
    names = [row["Variable / Field Name"] for row in rows]
    assert names[0] == "patient_id" and rows[0]["Form Name"] == "patients"  # the record id
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names)
    assert {row["Form Name"] for row in rows} == {
        "patients",
        "treatments",
        "adverse_events",
        "assessments",
    }
    by_name = {row["Variable / Field Name"]: row for row in rows}
    assert by_name["sex"]["Field Type"] == "dropdown"
    assert by_name["sex"]["Choices, Calculations, OR Slider Labels"] == "F, F | M, M | U, U"
    # the contract: ecog 0 to 4, grade 1 to 5, dates YYYY-MM-DD
    assert (by_name["ecog"]["Text Validation Min"], by_name["ecog"]["Text Validation Max"]) == (
        "0",
        "4",
    )
    assert by_name["grade"]["Text Validation Type OR Show Slider Number"] == "integer"
    assert by_name["onset_date"]["Text Validation Type OR Show Slider Number"] == "date_ymd"
    assert by_name["ae_treatment_id"]["Form Name"] == "adverse_events"  # a repeated name
    assert by_name["treatment_id"]["Form Name"] == "treatments"


def test_dictionary_csv_has_a_row_per_file_and_column(written: dict[str, Path]) -> None:
    rows = read_csv(written["dictionary"])
    expected = [
        (file, name)
        for file, model in contract_models().items()
        for name in model.to_schema().columns
    ]
    assert [(row["file"], row["column"]) for row in rows] == expected
    sex = next(row for row in rows if (row["file"], row["column"]) == ("patients.csv", "sex"))
    assert (sex["type"], sex["required"], sex["allowed_values"]) == (
        "code",
        "required",
        "F | M | U",
    )
    assert "PAT-SEX-CODE" in sex["rules"].split()


def test_the_templates_are_what_the_validator_expects(
    written: dict[str, Path], tmp_path: Path
) -> None:
    from toolkit.submission import open_submission
    from toolkit.validate import validate

    folder = written["templates"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [codes.MANIFEST_FILE, *codes.CSV_FILES]
    )
    findings = validate(open_submission(folder)).findings
    # header only: no column missing or unknown, only the files that must have rows say so
    assert set(findings["rule"]) == {"FILE-NO-ROWS"}
