"""The steward's validation report: what a data steward reads and what goes back to the site.

From a submission's facts (:class:`SubmissionInfo`) and its findings (the validator's finding
table, :data:`schemas.findings.FINDING_FIELDS`), :func:`write_validation_report`
writes three files into one folder:

``validation.html``
    For the steward: the verdict (ACCEPTED / REJECTED) with the submission's name, site,
    extract date, SHA-256 and contract version; a summary per file; every rule of the contract
    with the units it tested, those that failed and its Kahn data-quality dimension (pointblank
    and OHDSI's Data Quality Dashboard report so), with the pass rate per dimension; the rules
    broken; then the findings grouped by rule, at most :data:`SHOWN_PER_RULE` per rule, each with
    its query id and record. Self-contained (inline
    CSS and font, nothing fetched) and laid out for print as well as for the screen.
``findings.json``
    Every finding, with the verdict and the counts; the same document ``toolkit validate
    --json`` prints. Keys in a fixed order, UTF-8, no timestamp.
``queries.csv``
    One row per finding, the queries to send to the site. Every cell that a spreadsheet would
    read as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is
    prefixed with a single quote, as OWASP advises against CSV injection. The file starts with
    a UTF-8 byte-order mark, so that spreadsheet programs read it as UTF-8.

The same inputs always give byte-identical files. Rows are numbered as the site sees them in a
spreadsheet (header = row 1); a finding on a whole file has no row.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment

from schemas.codes import CONTRACT_VERSION, CSV_FILES, MANIFEST_FILE
from schemas.cross import cross_rule_needs
from schemas.findings import FINDING_FIELDS, FINDING_SCHEMA, SEVERITIES
from schemas.rules import DIMENSIONS, RULES, dimension

from .atomic import write_files
from .documents import embed_fonts, inline_css, make_environment
from .tabular import SPREADSHEET_BOM, spreadsheet_safe_frame

__all__ = [
    "SubmissionInfo",
    "REPORT_FILES",
    "QUERY_COLUMNS",
    "SHOWN_PER_RULE",
    "write_validation_report",
    "findings_document",
    "findings_json",
    "queries_csv",
    "pass_share",
    "render_validation_html",
]

REPORT_FILES: dict[str, str] = {
    "html": "validation.html",
    "json": "findings.json",
    "csv": "queries.csv",
}
"""The files :func:`write_validation_report` writes, by kind."""

QUERY_COLUMNS: tuple[str, ...] = (
    "query_id",
    "site_id",
    "submission",
    "file",
    "row",
    "patient_id",
    "record_id",
    "column",
    "value_sent",
    "compared_with",
    "rule",
    "severity",
    "request",
    "message",
    "site_answer",
)
"""The header of ``queries.csv``; ``site_answer`` is left empty for the site to fill in."""

SHOWN_PER_RULE = 50
"""How many findings of one rule ``validation.html`` lists; the rest are in the other files."""

_TEMPLATE = "validation.html.j2"
_STYLESHEETS = ("document.css", "validation.css")
_REQUEST = {
    "error": "correct and resend the extract",
    "warning": "confirm, or correct and resend",
}
_SHOWN_VALUE_CHARS = 160
_UNREADABLE = "SUBMISSION-UNREADABLE"
_MANIFEST_KEYS = ("site_id", "contract_version", "extracted_on")


@dataclass(frozen=True)
class SubmissionInfo:
    """What the report says about the submission itself.

    Attributes
    ----------
    name : str
        The folder or zip file name as received (no path: the report travels to the site).
    sha256 : str or None
        The submission's fingerprint; ``None`` when its bytes could not be read at all.
    manifest : mapping or None
        ``manifest.json`` as parsed, when it is a JSON object; ``None`` otherwise.
    rows : mapping of str to int or None
        Data rows (header excluded) of each CSV file that could be read; ``None`` or absent
        when a file is missing or not readable as CSV.
    """

    name: str
    sha256: str | None
    manifest: Mapping[str, Any] | None = None
    rows: Mapping[str, int | None] = field(default_factory=dict)

    def declared(self, key: str) -> str | None:
        """A manifest field as text (a non-text JSON value in its JSON form), or ``None``."""
        if self.manifest is None or self.manifest.get(key) is None:
            return None
        value = self.manifest[key]
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    @property
    def site_id(self) -> str | None:
        return self.declared("site_id")

    @property
    def extracted_on(self) -> str | None:
        return self.declared("extracted_on")

    @property
    def contract_version(self) -> str | None:
        return self.declared("contract_version")


# --- the data of the report --------------------------------------------------------------------


class _Records(list):
    """Findings already as dicts with :data:`FINDING_FIELDS` in order (made once per report)."""


def _records(findings: Any) -> _Records:
    """Findings as dicts with :data:`FINDING_FIELDS` in order (from a polars frame or dicts);
    a frame is converted by polars, not a Python loop over its rows."""
    if isinstance(findings, _Records):
        return findings
    if hasattr(findings, "to_dicts"):
        return _Records(_findings_frame(findings).to_dicts())
    return _Records({name: row.get(name) for name in FINDING_FIELDS} for row in findings)


def _findings_frame(findings: Any) -> Any:
    """The findings as a polars frame of :data:`FINDING_SCHEMA`'s columns, in order (a column
    the frame lacks is null)."""
    import polars as pl

    if not hasattr(findings, "to_dicts"):
        return pl.DataFrame(list(_records(findings)), schema=FINDING_SCHEMA, orient="row")
    missing = [pl.lit(None, dtype).alias(n) for n, dtype in FINDING_SCHEMA.items()
               if n not in findings.columns]  # fmt: skip
    return findings.with_columns(missing).select(FINDING_FIELDS)


def _counts(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for record in records:
        counts[record["severity"]] = counts.get(record["severity"], 0) + 1
    return counts


def _file_order(name: str) -> tuple[int, str]:
    known = (MANIFEST_FILE, *CSV_FILES)
    return (known.index(name), name) if name in known else (len(known), name)


def _unreadable(records: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the submission could not be opened at all (no file of it was checked)."""
    return any(record["rule"] == _UNREADABLE for record in records)


def _file_summary(
    info: SubmissionInfo, records: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Per file: data rows, rows with a finding, errors, warnings (contract files first).

    The contract files are listed even without findings, unless the submission could not be
    opened: then none of them was checked, and only what the findings name is listed.
    """
    rows: dict[str, set] = {}
    severities: dict[str, dict[str, int]] = {}
    for record in records:  # one pass: a report may hold hundreds of thousands of findings
        name = record["file"]
        rows.setdefault(name, set()).add(record["row"])
        counts = severities.setdefault(name, dict.fromkeys(SEVERITIES, 0))
        counts[record["severity"]] = counts.get(record["severity"], 0) + 1
    names = set(rows)
    if not _unreadable(records):
        names |= {MANIFEST_FILE, *CSV_FILES}
    return [
        {
            "file": name,
            "rows": info.rows.get(name),
            "rows_with_findings": len(rows.get(name, set()) - {None}),
            "errors": severities.get(name, {}).get("error", 0),
            "warnings": severities.get(name, {}).get("warning", 0),
        }
        for name in sorted(names, key=_file_order)
    ]


def _rule_order(rule: str, severity: str) -> tuple[int, int, str]:
    catalog = list(RULES)
    position = catalog.index(rule) if rule in RULES else len(catalog)
    rank = SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
    return (rank, position, rule)


def _rule_groups(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Findings grouped by rule: errors first, then the rule catalog's order."""
    by_rule: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        by_rule.setdefault(record["rule"], []).append(record)
    groups = []
    for rule, found in by_rule.items():
        severity = found[0]["severity"]
        known = RULES.get(rule)
        groups.append(
            {
                "rule": rule,
                "severity": severity,
                "files": sorted({r["file"] for r in found}, key=_file_order),
                "columns": sorted({r["column"] for r in found if r["column"] is not None}),
                "count": len(found),
                "message": known.message if known else found[0]["message"],
                "findings": found,
            }
        )
    return sorted(groups, key=lambda group: _rule_order(group["rule"], group["severity"]))


def findings_document(info: SubmissionInfo, findings: Any) -> dict[str, Any]:
    """The content of ``findings.json`` (and of ``toolkit validate --json``).

    Parameters
    ----------
    info : SubmissionInfo
        The submission.
    findings : polars.DataFrame or iterable of mapping
        The validator's findings, in its order.

    Returns
    -------
    dict
        ``submission, sha256, manifest, contract_version, accepted, verdict, counts, files,
        rules`` (finding count per rule id, sorted by id), ``dimensions`` (pass rate per Kahn
        dimension), ``checks`` (every rule run, :func:`_rules_run`) and ``findings``, in that
        order.
    """
    records = _records(findings)
    counts = _counts(records)
    per_rule: dict[str, int] = {}
    for record in records:
        per_rule[record["rule"]] = per_rule.get(record["rule"], 0) + 1
    manifest = None
    if info.manifest is not None:
        manifest = {key: info.manifest.get(key) for key in _MANIFEST_KEYS}
    return {
        "submission": info.name,
        "sha256": info.sha256,
        "manifest": manifest,
        "contract_version": CONTRACT_VERSION,
        "accepted": counts["error"] == 0,
        "verdict": "ACCEPTED" if counts["error"] == 0 else "REJECTED",
        "counts": counts,
        "files": {
            entry["file"]: {key: value for key, value in entry.items() if key != "file"}
            for entry in _file_summary(info, records)
        },
        "rules": dict(sorted(per_rule.items())),
        "dimensions": _dimension_summary(checks := _rules_run(info, records)),
        "checks": checks,
        "findings": records,
    }


def findings_json(info: SubmissionInfo, findings: Any) -> str:
    """:func:`findings_document` as JSON text, UTF-8 characters kept.

    The summary is indented by two spaces; each finding is one compact line, which keeps a
    file of many thousands of findings quick to write and easy to grep. (Python's encoder,
    not polars': polars writes control characters unescaped, which is not JSON.)
    """
    document = findings_document(info, findings)
    records = document.pop("findings")
    head = json.dumps(document, indent=2, ensure_ascii=False)
    encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per finding
    lines = [encode(record) for record in records]
    body = "[\n    " + ",\n    ".join(lines) + "\n  ]" if lines else "[]"
    return f'{head.removesuffix("}").rstrip()},\n  "findings": {body}\n}}\n'


def _by_record(records: Sequence[Mapping[str, Any]], shown: int) -> dict[str, Any]:
    """The findings by patient, for a coordinator who fixes one record at a time: the patients
    with the most findings first (then by id), at most ``shown`` of them listed, each with at
    most ``shown`` of its findings (an id that many rows name, such as a patient missing from
    patients.csv, can have thousands)."""
    by_patient: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        if record["patient_id"]:
            by_patient.setdefault(record["patient_id"], []).append(record)
    order = sorted(by_patient, key=lambda p: (-len(by_patient[p]), p))
    return {
        "patients": [
            {
                "patient_id": p,
                "findings": by_patient[p][:shown],
                "count": len(by_patient[p]),
                "hidden": max(len(by_patient[p]) - shown, 0),
            }
            for p in order[:shown]
        ],
        "hidden": max(len(order) - shown, 0),
    }


# --- every rule run ----------------------------------------------------------------------------

#: Findings that make a column of a file unusable, so that the rules reading it do not run.
_COLUMN_UNUSABLE = ("FILE-COLUMN-MISSING", "FILE-COLUMN-DUPLICATE")


def _rules_run(info: SubmissionInfo, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every rule of the contract, as pointblank's agent report lists its steps: whether it ran,
    the units it tested (the rows of its file; the files, for a rule on any file; the manifest,
    for its rules), the units that failed and the passing fraction, with its Kahn dimension.

    A rule runs when its file was read and every column it reads is usable (cross rules: every
    ``file:column`` they need, :func:`schemas.cross.cross_rule_needs`).
    """
    failing: dict[str, set] = {}
    for record in records:
        failing.setdefault(record["rule"], set()).add((record["file"], record["row"]))
    unusable = {f"{r['file']}:{r['column']}" for r in records if r["rule"] in _COLUMN_UNUSABLE}
    manifest_bad = {f"{MANIFEST_FILE}:{r['column']}" for r in records if r["file"] == MANIFEST_FILE}
    if "MANIFEST-INVALID" in failing or info.manifest is None:
        manifest_bad |= {f"{MANIFEST_FILE}:{key}" for key in _MANIFEST_KEYS}
    needs = cross_rule_needs()
    unreadable = _unreadable(records)
    rows = []
    for rule in RULES.values():
        units = _units(rule, info, unreadable)
        inputs = needs.get(rule.id) or (
            (f"{rule.file}:{rule.column}",) if rule.file in CSV_FILES and rule.column else ()
        )
        ran = units is not None and not any(
            need in unusable or need in manifest_bad for need in inputs
        )
        failed = len(failing.get(rule.id, ())) if ran else None
        rows.append(
            {
                "rule": rule.id,
                "severity": rule.severity,
                "dimension": dimension(rule.id),
                "file": rule.file,
                "column": rule.column,
                "ran": ran,
                "units": units if ran else None,
                "failed": failed,
                "pass_fraction": (1 - min(failed, units) / units) if ran and units else None,
            }
        )
    return rows


def _units(rule, info: SubmissionInfo, unreadable: bool) -> int | None:
    """What a rule tests: its file's rows, one manifest, or every contract file (None: its file
    could not be read, or nothing could)."""
    if rule.id == _UNREADABLE:
        return 1
    if unreadable:
        return None
    if rule.file is None:
        return 1 + len(CSV_FILES)
    if rule.file == MANIFEST_FILE:
        return 1
    return info.rows.get(rule.file)


def _dimension_summary(checks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per Kahn dimension, over the rules that ran: rules passed of rules run, and the units
    that passed of the units tested."""
    summary = []
    for name in DIMENSIONS:
        ran = [c for c in checks if c["dimension"] == name and c["ran"]]
        units = sum(c["units"] for c in ran)
        failed = sum(min(c["failed"], c["units"]) for c in ran)
        summary.append(
            {
                "dimension": name,
                "rules_run": len(ran),
                "rules_passed": sum(c["failed"] == 0 for c in ran),
                "units": units,
                "failed": failed,
                "pass_fraction": (1 - failed / units) if units else None,
            }
        )
    return summary


# --- queries.csv -------------------------------------------------------------------------------


def queries_csv(info: SubmissionInfo, findings: Any) -> str:
    """``queries.csv``: one spreadsheet-safe row per finding, in the findings' order.

    Columns are :data:`QUERY_COLUMNS`; ``request`` says what the site is asked to do (correct
    and resend for an error, confirm or correct for a warning). RFC 4180 (CRLF line ends,
    fields quoted when needed), starting with a UTF-8 byte-order mark so that spreadsheet
    programs read the text as UTF-8. Written by polars, column by column.
    """
    import polars as pl

    frame = _findings_frame(findings)
    text = {
        "query_id": pl.col("query_id"),
        "site_id": pl.lit(info.site_id or ""),
        "submission": pl.lit(info.name),
        "file": pl.col("file"),
        "row": pl.col("row").cast(pl.String),
        "patient_id": pl.col("patient_id"),
        "record_id": pl.col("record_id"),
        "column": pl.col("column"),
        "value_sent": pl.col("value"),
        "compared_with": pl.col("compared"),
        "rule": pl.col("rule"),
        "severity": pl.col("severity"),
        "request": pl.col("severity").replace_strict(_REQUEST, default=""),
        "message": pl.col("message"),
        "site_answer": pl.lit(""),
    }
    rows = frame.select(
        # an empty cell is written bare, as csv.writer writes it (polars would quote "")
        pl.when(expr == "").then(None).otherwise(expr).alias(name)
        for name, expr in ((name, text[name].cast(pl.String)) for name in QUERY_COLUMNS)
    )
    body = spreadsheet_safe_frame(rows).write_csv(line_terminator="\r\n", quote_style="necessary")
    return SPREADSHEET_BOM + body


# --- validation.html ---------------------------------------------------------------------------


def _shown_value(value: str | None) -> dict[str, Any] | None:
    """A value for the HTML: cut after :data:`_SHOWN_VALUE_CHARS` characters, length kept."""
    if value is None:
        return None
    cut = len(value) > _SHOWN_VALUE_CHARS
    return {"text": value[:_SHOWN_VALUE_CHARS] if cut else value, "cut": cut, "length": len(value)}


def _verdict_note(accepted: bool, counts: Mapping[str, int]) -> str:
    warnings = counts.get("warning", 0)
    if not accepted:
        return (
            "Any error rejects the whole submission: nothing of it enters the registry. "
            "Send the site the queries (queries.csv); the site corrects its data and sends "
            "the whole extract again."
        )
    if warnings:
        return (
            "The submission can enter the registry. Its warnings do not block; each is a "
            "query to the site (queries.csv) to confirm or correct in its next extract."
        )
    return "The submission can enter the registry. No rule of the contract is broken."


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return make_environment(filters={"share": pass_share})


def pass_share(fraction: float) -> str:
    """A passing fraction as a percentage that reads 100% only when nothing failed and 0% only
    when nothing passed: ``0.99996`` → ``"99.996%"``, ``0.5`` → ``"50.0%"``."""
    if fraction in (0, 1):
        return f"{100 * fraction:.0f}%"
    decimals = 1
    while decimals < 9 and round(100 * fraction, decimals) in (0, 100):
        decimals += 1
    return f"{100 * fraction:.{decimals}f}%"


def render_validation_html(
    info: SubmissionInfo, findings: Any, *, shown_per_rule: int = SHOWN_PER_RULE
) -> str:
    """``validation.html`` as text: self-contained (inline CSS, embedded font subset).

    Parameters
    ----------
    info : SubmissionInfo
        The submission.
    findings : polars.DataFrame or iterable of mapping
        The validator's findings.
    shown_per_rule : int, optional
        At most this many findings are listed per rule; a note says how many more there are.

    Returns
    -------
    str
        The HTML document. Every value from the submission is escaped.
    """
    records = _records(findings)
    counts = _counts(records)
    accepted = counts["error"] == 0
    groups = []
    for group in _rule_groups(records):
        shown = [
            {**record, "value": _shown_value(record["value"])}
            for record in group["findings"][:shown_per_rule]
        ]
        groups.append({**group, "findings": shown, "hidden": group["count"] - len(shown)})
    context = {
        "title": f"Validation report: {info.name}",
        "submission": {
            "name": info.name,
            "sha256": info.sha256,
            "site_id": info.site_id,
            "extracted_on": info.extracted_on,
            "contract_version": info.contract_version,
        },
        "contract_version": CONTRACT_VERSION,
        "manifest_read": info.manifest is not None,
        "accepted": accepted,
        "verdict": "ACCEPTED" if accepted else "REJECTED",
        "verdict_note": _verdict_note(accepted, counts),
        "counts": counts,
        "total": len(records),
        "files": _file_summary(info, records),
        "dimensions": _dimension_summary(checks := _rules_run(info, records)),
        "checks": checks,
        "patients_affected": len({r["patient_id"] for r in records if r["patient_id"]}),
        "by_record": _by_record(records, shown_per_rule),
        "groups": groups,
        "shown_per_rule": shown_per_rule,
        "report_files": REPORT_FILES,
        "toolkit_version": _toolkit_version(),
    }
    html = (
        _environment()
        .get_template(_TEMPLATE)
        .render(report=context, stylesheet=inline_css(*_STYLESHEETS))
    )
    return embed_fonts(html)


def _toolkit_version() -> str:
    from toolkit import __version__

    return __version__


# --- files -------------------------------------------------------------------------------------


def write_validation_report(
    info: SubmissionInfo,
    findings: Any,
    out_dir: str | os.PathLike[str],
    *,
    shown_per_rule: int = SHOWN_PER_RULE,
) -> dict[str, Path]:
    """Write ``validation.html``, ``findings.json`` and ``queries.csv`` into ``out_dir``.

    Parameters
    ----------
    info : SubmissionInfo
        The submission.
    findings : polars.DataFrame or iterable of mapping
        The validator's findings, in its order (every one goes into the JSON and the CSV).
    out_dir : path-like
        Folder to write into; created if missing. Earlier report files are replaced together,
        each whole (:func:`toolkit.atomic.write_files`), or left as they were on a failure.
    shown_per_rule : int, optional
        At most this many findings per rule in the HTML.

    Returns
    -------
    dict of str to pathlib.Path
        The path written for ``html``, ``json`` and ``csv``.

    Raises
    ------
    OSError
        When the folder cannot be created or written.
    """
    records, frame = _records(findings), _findings_frame(findings)
    out = Path(out_dir)
    contents = {
        "json": findings_json(info, records).encode("utf-8"),
        "csv": queries_csv(info, frame).encode("utf-8"),
        "html": render_validation_html(info, records, shown_per_rule=shown_per_rule).encode(
            "utf-8"
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = {kind: out / name for kind, name in REPORT_FILES.items()}
    write_files({written[kind]: contents[kind] for kind in REPORT_FILES})
    return written
