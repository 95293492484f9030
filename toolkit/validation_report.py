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
# A report may hold hundreds of thousands of findings: they stay a polars frame, summarised by
# group-bys, and only the findings the HTML lists become dicts.


def _findings_frame(findings: Any) -> Any:
    """The findings as a polars frame of :data:`FINDING_SCHEMA`'s columns, in order (a column
    the frame lacks is null; an iterable of mappings is read by name)."""
    import polars as pl

    if not hasattr(findings, "to_dicts"):
        rows = [{name: row.get(name) for name in FINDING_FIELDS} for row in findings]
        return pl.DataFrame(rows, schema=FINDING_SCHEMA, orient="row")
    missing = [pl.lit(None, dtype).alias(n) for n, dtype in FINDING_SCHEMA.items()
               if n not in findings.columns]  # fmt: skip
    return findings.with_columns(missing).select(FINDING_FIELDS)


def _counts(frame: Any) -> dict[str, int]:
    """Findings per severity: every severity of :data:`SEVERITIES`, then any other as found."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for severity, n in frame.group_by("severity", maintain_order=True).len().iter_rows():
        counts[severity] = n
    return counts


def _per_rule(frame: Any) -> dict[str, int]:
    """Findings per rule id, sorted by id."""
    return dict(sorted(frame.group_by("rule").len().iter_rows()))


def _file_order(name: str) -> tuple[int, str]:
    known = (MANIFEST_FILE, *CSV_FILES)
    return (known.index(name), name) if name in known else (len(known), name)


def _unreadable(frame: Any) -> bool:
    """Whether the submission could not be opened at all (no file of it was checked)."""
    return bool((frame["rule"] == _UNREADABLE).any())


def _file_summary(info: SubmissionInfo, frame: Any) -> list[dict[str, Any]]:
    """Per file: data rows, rows with a finding, errors, warnings (contract files first).

    The contract files are listed even without findings, unless the submission could not be
    opened: then none of them was checked, and only what the findings name is listed.
    """
    import polars as pl

    severity = pl.col("severity")
    found = frame.group_by("file").agg(
        rows_with_findings=pl.col("row").drop_nulls().n_unique(),
        errors=(severity == "error").sum(),
        warnings=(severity == "warning").sum(),
    )
    by_file = {row.pop("file"): row for row in found.to_dicts()}
    names = set(by_file)
    if not _unreadable(frame):
        names |= {MANIFEST_FILE, *CSV_FILES}
    none = {"rows_with_findings": 0, "errors": 0, "warnings": 0}
    return [
        {"file": name, "rows": info.rows.get(name), **by_file.get(name, none)}
        for name in sorted(names, key=_file_order)
    ]


def _rule_order(rule: str, severity: str) -> tuple[int, int, str]:
    catalog = list(RULES)
    position = catalog.index(rule) if rule in RULES else len(catalog)
    rank = SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
    return (rank, position, rule)


def _first_of_each(frame: Any, key: str, shown: int) -> dict[str, list[dict[str, Any]]]:
    """The first ``shown`` findings of each ``key`` value, as dicts in the findings' order."""
    import polars as pl

    first = frame.filter(pl.int_range(pl.len()).over(key) < shown)
    listed: dict[str, list[dict[str, Any]]] = {}
    for record in first.to_dicts():
        listed.setdefault(record[key], []).append(record)
    return listed


def _rule_groups(frame: Any, shown: int) -> list[dict[str, Any]]:
    """Findings grouped by rule, the first ``shown`` of each listed: errors first, then the
    rule catalog's order."""
    import polars as pl

    groups = frame.group_by("rule", maintain_order=True).agg(
        severity=pl.col("severity").first(),
        files=pl.col("file").unique(),
        columns=pl.col("column").drop_nulls().unique(),
        count=pl.len(),
        message=pl.col("message").first(),
    )
    listed = _first_of_each(frame, "rule", shown)
    result = []
    for group in groups.to_dicts():
        known = RULES.get(group["rule"])
        result.append(
            group
            | {
                "files": sorted(group["files"], key=_file_order),
                "columns": sorted(group["columns"]),
                "message": known.message if known else group["message"],
                "findings": listed[group["rule"]],
            }
        )
    return sorted(result, key=lambda group: _rule_order(group["rule"], group["severity"]))


def _summary(info: SubmissionInfo, frame: Any) -> dict[str, Any]:
    """``findings.json`` without its findings: every key of :func:`findings_document` but the
    last."""
    counts = _counts(frame)
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
            for entry in _file_summary(info, frame)
        },
        "rules": _per_rule(frame),
        "dimensions": _dimension_summary(checks := _rules_run(info, frame)),
        "checks": checks,
    }


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
    frame = _findings_frame(findings)
    return _summary(info, frame) | {"findings": frame.to_dicts()}


def findings_json(info: SubmissionInfo, findings: Any) -> str:
    """:func:`findings_document` as JSON text, UTF-8 characters kept.

    The summary is indented by two spaces; each finding is one compact line, which keeps a
    file of many thousands of findings quick to write and easy to grep. The lines are
    Python's ``json`` text of each finding, composed by polars column by column.
    """
    frame = _findings_frame(findings)
    head = json.dumps(_summary(info, frame), indent=2, ensure_ascii=False)
    lines = frame.select(_json_line()).to_series().to_list()
    body = "[\n    " + ",\n    ".join(lines) + "\n  ]" if lines else "[]"
    return f'{head.removesuffix("}").rstrip()},\n  "findings": {body}\n}}\n'


def _json_line() -> Any:
    """One finding as ``json.dumps`` writes it with ``ensure_ascii=False``: each value is the
    JSON of a one-field struct (its escapes are the ``json`` module's: ``\\n``, ``\\"``,
    ``\\u001f`` …, UTF-8 kept) without the struct's braces and key."""
    import polars as pl

    parts: list[Any] = []
    for name in FINDING_FIELDS:
        key = json.dumps(name)
        value = pl.struct(pl.col(name).alias(name)).struct.json_encode()
        value = value.str.slice(len(key) + 2).str.strip_suffix("}")
        parts += [pl.lit(("{" if not parts else ", ") + key + ": "), value]
    return pl.concat_str([*parts, pl.lit("}")])


def _names_patient() -> Any:
    """True for a finding that names a patient (its id neither null nor empty)."""
    import polars as pl

    return pl.col("patient_id").is_not_null() & (pl.col("patient_id") != "")


def _by_record(frame: Any, shown: int) -> dict[str, Any]:
    """The findings by patient, for a coordinator who fixes one record at a time: the patients
    with the most findings first (then by id), at most ``shown`` of them listed, each with at
    most ``shown`` of its findings (an id that many rows name, such as a patient missing from
    patients.csv, can have thousands)."""
    import polars as pl

    named = frame.filter(_names_patient())
    per_patient = (
        named.group_by("patient_id").len().sort(["len", "patient_id"], descending=[True, False])
    )
    top = per_patient.head(shown)
    of_top = named.filter(pl.col("patient_id").is_in(top["patient_id"].implode()))
    listed = _first_of_each(of_top, "patient_id", shown)
    return {
        "patients": [
            {
                "patient_id": patient,
                "findings": listed[patient],
                "count": n,
                "hidden": max(n - shown, 0),
            }
            for patient, n in top.iter_rows()
        ],
        "hidden": max(per_patient.height - shown, 0),
    }


# --- every rule run ----------------------------------------------------------------------------

#: Findings that make a column of a file unusable, so that the rules reading it do not run.
_COLUMN_UNUSABLE = ("FILE-COLUMN-MISSING", "FILE-COLUMN-DUPLICATE")


def _file_columns(frame: Any) -> set[str]:
    """``file:column`` of each finding of ``frame``."""
    return {
        f"{file}:{column}" for file, column in frame.select("file", "column").unique().iter_rows()
    }


def _rules_run(info: SubmissionInfo, frame: Any) -> list[dict[str, Any]]:
    """Every rule of the contract, as pointblank's agent report lists its steps: whether it ran,
    the units it tested (the rows of its file; the files, for a rule on any file; the manifest,
    for its rules), the units that failed and the passing fraction, with its Kahn dimension.

    A rule runs when its file was read and every column it reads is usable (cross rules: every
    ``file:column`` they need, :func:`schemas.cross.cross_rule_needs`).
    """
    import polars as pl

    failing = dict(frame.group_by("rule").agg(pl.struct("file", "row").n_unique()).iter_rows())
    unusable = _file_columns(frame.filter(pl.col("rule").is_in(_COLUMN_UNUSABLE)))
    manifest_bad = _file_columns(frame.filter(pl.col("file") == MANIFEST_FILE))
    if "MANIFEST-INVALID" in failing or info.manifest is None:
        manifest_bad |= {f"{MANIFEST_FILE}:{key}" for key in _MANIFEST_KEYS}
    needs = cross_rule_needs()
    unreadable = _unreadable(frame)
    rows = []
    for rule in RULES.values():
        units = _units(rule, info, unreadable)
        inputs = needs.get(rule.id) or (
            (f"{rule.file}:{rule.column}",) if rule.file in CSV_FILES and rule.column else ()
        )
        ran = units is not None and not any(
            need in unusable or need in manifest_bad for need in inputs
        )
        failed = failing.get(rule.id, 0) if ran else None
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
    frame = _findings_frame(findings)
    counts = _counts(frame)
    accepted = counts["error"] == 0
    groups = []
    for group in _rule_groups(frame, shown_per_rule):
        shown = [{**record, "value": _shown_value(record["value"])} for record in group["findings"]]
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
        "total": frame.height,
        "files": _file_summary(info, frame),
        "dimensions": _dimension_summary(checks := _rules_run(info, frame)),
        "checks": checks,
        "patients_affected": frame.filter(_names_patient())["patient_id"].n_unique(),
        "by_record": _by_record(frame, shown_per_rule),
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
    frame = _findings_frame(findings)
    out = Path(out_dir)
    contents = {
        "json": findings_json(info, frame).encode("utf-8"),
        "csv": queries_csv(info, frame).encode("utf-8"),
        "html": render_validation_html(info, frame, shown_per_rule=shown_per_rule).encode("utf-8"),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = {kind: out / name for kind, name in REPORT_FILES.items()}
    write_files({written[kind]: contents[kind] for kind in REPORT_FILES})
    return written
