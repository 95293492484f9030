"""The rule catalog: ids documented, ids used by the models and cross rules, nothing dangling."""

from __future__ import annotations

import re

import pytest

import schemas.rules
from schemas.cross import cross_rule_ids
from schemas.manifest import ManifestModel
from schemas.models import MODELS
from schemas.rules import RULES, Rule, column_rule_id, rules_for

FILE_LEVEL = {
    "SUBMISSION-UNREADABLE",
    "FILE-MISSING",
    "FILE-ENCODING",
    "FILE-CSV-MALFORMED",
    "FILE-COLUMN-MISSING",
    "FILE-COLUMN-UNKNOWN",
    "FILE-COLUMN-DUPLICATE",
    "FILE-NO-ROWS",
    "MANIFEST-INVALID",
    "MANIFEST-VERSION",
    "MANIFEST-EXTRACTED-FUTURE",
}
ID = re.compile(r"\b(?:SUBMISSION|FILE|MANIFEST|PAT|TRT|AE|ASM)(?:-[A-Z0-9]+)+\b")


def _model_check_names() -> set[str]:
    names = set()
    for model in (*MODELS.values(), ManifestModel):
        for column in model.to_schema().columns.values():
            names.update(check.name for check in column.checks)
    return names


def test_docstring_lists_exactly_the_catalog() -> None:
    doc = schemas.rules.__doc__
    listed = doc[doc.index("Identifiers") : doc.index("Notes")]
    ids = ID.findall(listed)
    assert len(ids) == len(set(ids)), "an id is listed twice"
    assert set(ids) == set(RULES)


def test_brief_ids_exist() -> None:
    for rule_id in [
        "PAT-PATIENT-ID-FORMAT",
        "PAT-SEX-CODE",
        "PAT-BIRTH-YEAR-RANGE",
        "PAT-DIAGNOSIS-DATE-DATE",
        "TRT-DOSES-INTEGER",
        "AE-GRADE-RANGE",
        "ASM-RESPONSE-CODE",
        "TRT-AFTER-DEATH",
        "ASM-AFTER-DEATH",
        *FILE_LEVEL,
    ]:
        assert rule_id in RULES


def test_every_rule_is_implemented_exactly_once() -> None:
    checks, cross = _model_check_names(), cross_rule_ids()
    assert len(cross) == len(set(cross))
    assert not (checks & set(cross))
    implemented = checks | set(cross) | FILE_LEVEL
    assert implemented == set(RULES)


def test_rule_fields() -> None:
    for rule_id, rule in RULES.items():
        assert isinstance(rule, Rule) and rule.id == rule_id
        assert rule.severity in ("error", "warning")
        assert rule.message and rule.message[0].islower(), rule_id
        if rule.file is not None and rule.file.endswith(".csv"):
            prefix = {"patients.csv": "PAT", "treatments.csv": "TRT"}.get(rule.file)
            prefix = prefix or {"adverse_events.csv": "AE", "assessments.csv": "ASM"}[rule.file]
            assert rule_id.startswith(prefix + "-")
            assert rule.column in MODELS[rule.file].to_schema().columns


def test_column_rules_follow_the_naming_scheme() -> None:
    for file, model in MODELS.items():
        for column in model.to_schema().columns.values():
            for check in column.checks:
                if check.name == "TRT-AGENT-UNKNOWN":
                    continue
                kind = check.name.removeprefix(column_rule_id(file, column.name, ""))
                assert kind in {"REQUIRED", "CODE", "DATE", "INTEGER", "RANGE", "FORMAT", "UNIQUE"}
                assert RULES[check.name].column == column.name


@pytest.mark.parametrize(
    ("rule_id", "severity"),
    [
        ("TRT-START-EARLY", "warning"),
        ("AE-GRADE5-NOT-DEAD", "warning"),
        ("PAT-NO-TREATMENT", "warning"),
        ("AE-BEFORE-TREATMENT", "warning"),
        ("TRT-DUPLICATE-COURSE", "warning"),
        ("TRT-DOSES-HIGH", "warning"),
        ("TRT-AFTER-DEATH", "warning"),
        ("ASM-AFTER-DEATH", "warning"),
        ("TRT-START-BEFORE-DIAGNOSIS", "error"),
        ("PAT-DEATH-AFTER-EXTRACT", "error"),
        ("TRT-START-DATE-AFTER-EXTRACT", "error"),
    ],
)
def test_severities(rule_id: str, severity: str) -> None:
    assert RULES[rule_id].severity == severity


def test_rules_for() -> None:
    sex = rules_for("patients.csv", "sex")
    assert [rule.id for rule in sex] == ["PAT-SEX-REQUIRED", "PAT-SEX-CODE"]
    assert all(rule.file == "manifest.json" for rule in rules_for("manifest.json"))
