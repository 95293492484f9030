"""Validate a submission against contract v1 and build its typed tables.

The steps, each adding findings to one long table:

1. ``manifest.json``: present, a JSON object, its fields valid (:mod:`schemas.manifest`).
2. Each CSV file: present, UTF-8, well-formed CSV, the header holding exactly the contract's
   columns (:mod:`schemas.csv_format`). A file that fails here is not read further.
3. Each readable file's values, read as text, against its pandera model (lazy validation: every
   failing cell of every check). The rule id is the check's name in pandera's failure cases.
4. Cross-field and cross-file rules on the typed values that passed step 3 (:mod:`schemas.cross`).

Findings name the file, the row as the site sees it (header = row 1, first data row = 2; null
for a finding on the whole file), the column, the value as sent, the rule id, its severity and
the rule in plain words. Any error rejects the submission; warnings do not.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.config import config_context
from pandera.errors import SchemaErrors

from schemas import codes as c
from schemas.checks import parse_date, parse_integer
from schemas.cross import SENT, Context, cross_findings
from schemas.csv_format import read_plain_csv, read_text_table, scan_csv
from schemas.findings import FINDING_FIELDS, FINDING_SCHEMA, RECORD_ID_COLUMNS
from schemas.manifest import ManifestModel, read_manifest
from schemas.models import MODELS
from schemas.patients import PatientsModel
from schemas.rules import RULES
from schemas.treatments import agent_class, canonical_agent
from schemas.vocabulary import nearest_agents
from toolkit import clock
from toolkit.submission import Submission

__all__ = ["ValidationResult", "validate", "unreadable_findings"]

_RULE_TABLE = pl.DataFrame(
    {
        "rule": list(RULES),
        "severity": [rule.severity for rule in RULES.values()],
        "message": [rule.message for rule in RULES.values()],
    }
)


@dataclass(frozen=True)
class ValidationResult:
    """Outcome of :func:`validate`.

    Attributes
    ----------
    submission : Submission
        What was validated.
    findings : polars.DataFrame
        One row per finding, columns ``file, row (Int64, nullable), column, value, rule,
        severity, message``, sorted by file, row, column, rule.
    tables : dict of str to polars.DataFrame
        Typed tables ``patients``, ``treatments``, ``adverse_events``, ``assessments`` when the
        submission is accepted; empty otherwise.
    rows : dict of str to int or None
        Data rows of each contract CSV file sent, from the same scan that checked its
        structure; ``None`` for a file that does not read as well-formed CSV.
    """

    submission: Submission
    findings: pl.DataFrame
    tables: dict[str, pl.DataFrame]
    rows: dict[str, int | None] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """True when no finding has severity ``error``."""
        return self.count("error") == 0

    def count(self, severity: str) -> int:
        """Number of findings of one severity (``error`` or ``warning``)."""
        return int((self.findings["severity"] == severity).sum())


@dataclass(frozen=True)
class _Manifest:
    site_id: str | None
    extracted_on: date | None


@dataclass(frozen=True)
class _Sheet:
    """One CSV file read as text: ``source_row`` plus the contract columns present once."""

    file: str
    text: pl.DataFrame
    usable: tuple[str, ...]


def validate(
    submission: Submission, today: date | None = None, *, consume: bool = False
) -> ValidationResult:
    """Check a submission against contract v1.

    Parameters
    ----------
    submission : Submission
        As returned by :func:`toolkit.submission.open_submission`.
    today : datetime.date, optional
        The day of validation, which ``extracted_on`` may not be later than; by default
        :func:`toolkit.clock.today` (today, or ``TOOLKIT_TODAY``).
    consume : bool
        Remove each CSV file's bytes from ``submission.files`` once it is read, for a caller
        that has no other use for them (archived already, fingerprinted already): the peak
        memory of a large submission then holds its text, not its text and its bytes.

    Returns
    -------
    ValidationResult
        Every finding, and the typed tables when no finding is an error.
    """
    findings: list[pl.DataFrame] = []
    today = today if today is not None else clock.today()
    manifest, manifest_findings = _check_manifest(submission.files.get(c.MANIFEST_FILE), today)
    findings.append(manifest_findings)
    work: dict[str, pl.DataFrame] = {}
    usable: set[str] = set()
    sheets: list[_Sheet] = []
    rows: dict[str, int | None] = {}
    sent_files = set(submission.files)
    for file, model in MODELS.items():
        raw = submission.files.pop(file, None) if consume else submission.files.get(file)
        sheet, sheet_findings, rows[file] = _read_sheet(file, raw, model)
        del raw  # else the last file's bytes stay alive while the cross-file rules run
        findings.append(sheet_findings)
        if sheet is None:
            continue
        sheets.append(sheet)
        if file == "patients.csv":
            year = manifest.extracted_on.year if manifest.extracted_on else None
            model = PatientsModel.for_extract_year(year)
        failures = _pandera_failures(model, sheet.text, sheet.usable)
        findings.append(_value_findings(file, failures, sheet.text))
        work[file] = _work_frame(sheet, model, failures)
        usable.update(f"{file}:{column}" for column in sheet.usable)
    usable.update(f"{c.MANIFEST_FILE}:{key}" for key in _manifest_usable(manifest))
    context = Context(work, frozenset(usable), manifest.site_id, manifest.extracted_on)
    findings.append(cross_findings(context))
    all_findings = _sorted(_cut_long_values(_with_character_notes(_concat(findings))))
    all_findings = _with_records(all_findings, sheets, manifest.site_id)
    accepted = not (all_findings["severity"] == "error").any()
    tables = _analysis_tables(work) if accepted else {}
    sent = {file: n for file, n in rows.items() if file in sent_files}
    return ValidationResult(submission, all_findings, tables, sent)


# --- findings ----------------------------------------------------------------------------------


def unreadable_findings(source: str, reason: str) -> pl.DataFrame:
    """The one finding of a submission that cannot be opened at all (``SUBMISSION-UNREADABLE``)."""
    return _findings(source, "SUBMISSION-UNREADABLE", messages=[reason])


def _findings(
    file: str,
    rule: str,
    *,
    rows: Iterable[int | None] = (None,),
    columns: Iterable[str | None] | None = None,
    values: Iterable[str | None] | None = None,
    messages: Iterable[str | None] | None = None,
) -> pl.DataFrame:
    """A few findings built from Python values (file-level problems); message defaults to rule's."""
    rows = list(rows)
    n = len(rows)
    default = RULES[rule]
    messages = [m or default.message for m in (messages or [None] * n)]
    return pl.DataFrame(
        {
            "file": [file] * n,
            "row": rows,
            "column": list(columns) if columns is not None else [default.column] * n,
            "value": list(values) if values is not None else [None] * n,
            "rule": [rule] * n,
            "severity": [default.severity] * n,
            "message": messages,
            **dict.fromkeys(("query_id", "patient_id", "record_id", "compared"), [None] * n),
        },
        schema=FINDING_SCHEMA,
    )


def _concat(frames: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Stack finding frames into the finding schema (extra helper columns dropped; the record
    and query id, which :func:`_with_records` adds, null)."""
    parts = [
        frame.with_columns(
            pl.lit(None, pl.String).alias(name) for name in FINDING_FIELDS if name not in frame
        )
        .select(FINDING_FIELDS)
        .cast(FINDING_SCHEMA)
        for frame in frames
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema=FINDING_SCHEMA)


def _record_keys(sheet: _Sheet, rows: pl.Series) -> pl.DataFrame:
    """The patient and the row's own identifier of some rows of a file (spreadsheet rows),
    looked up by position: the work grows with the findings, not with the file."""
    own = RECORD_ID_COLUMNS.get(sheet.file)
    at = rows - 2

    def text(name: str | None) -> pl.Series:
        if name in sheet.usable:
            return sheet.text[name].gather(at)
        return pl.Series([None] * len(rows), dtype=pl.String)

    return pl.DataFrame(
        {
            "file": [sheet.file] * len(rows),
            "row": rows,
            "patient_id": text("patient_id"),
            "record_id": text(own),
        },
        schema=_RECORD_KEYS,
    )


_RECORD_KEYS = {"file": pl.String, "row": pl.Int64, "patient_id": pl.String, "record_id": pl.String}


def _with_records(findings: pl.DataFrame, sheets: list[_Sheet], site: str | None) -> pl.DataFrame:
    """Findings with the record of their row and a query id that stays the same in the next
    extract: from the site, file, record (the row only when the record has no identifier),
    rule and column, and the occurrence among findings of that key (a value sent twice)."""
    wanted = findings.filter(pl.col("row").is_not_null()).select("file", "row").unique()
    keys = pl.concat(
        [
            _record_keys(sheet, wanted.filter(pl.col("file") == sheet.file)["row"].sort())
            for sheet in sheets
        ]
        or [pl.DataFrame(schema=_RECORD_KEYS)]
    )
    found = findings.drop("patient_id", "record_id").join(
        keys, on=["file", "row"], how="left", maintain_order="left"
    )
    blank = pl.col("patient_id").is_null() & pl.col("record_id").is_null()
    where = pl.when(blank).then(pl.concat_str(pl.lit("row "), pl.col("row").cast(pl.String)))
    key = pl.concat_str(
        pl.lit(site or ""),
        *(pl.col(name).fill_null("") for name in ("file", "patient_id", "record_id")),
        where.otherwise(pl.lit("")).fill_null(""),
        pl.col("rule"),
        pl.col("column").fill_null(""),
        separator="\x1f",
    )
    found = found.with_columns(key=key)
    nth = pl.int_range(pl.len()).over("key")
    found = found.with_columns(
        key=pl.when(nth > 0)
        .then(pl.concat_str("key", pl.lit("\x1f"), nth.cast(pl.String)))
        .otherwise("key")
    )
    ids = {k: _query_id(k) for k in found["key"].unique().to_list()}
    return found.with_columns(query_id=pl.col("key").replace_strict(ids)).select(FINDING_FIELDS)


def _query_id(key: str) -> str:
    """``Q-`` and 12 hexadecimal digits of the key's SHA-256."""
    import hashlib

    return "Q-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12].upper()


def _sorted(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.sort(["file", "row", "column", "rule"], nulls_last=False, maintain_order=True)


_MAX_VALUE_CHARS = 200


def _cut_long_values(findings: pl.DataFrame) -> pl.DataFrame:
    """Values longer than 200 characters cut to their start and "…", as row texts are: a cell
    of megabytes is shown, not echoed whole into every report."""
    value = pl.col("value")
    cut = pl.concat_str(value.str.slice(0, _MAX_VALUE_CHARS), pl.lit("…"))
    return findings.with_columns(
        value=pl.when(value.str.len_chars() > _MAX_VALUE_CHARS).then(cut).otherwise(value)
    )


_ROW_TEXT_RULES = ("FILE-ENCODING", "FILE-CSV-MALFORMED")
_NOT_PLAIN_ASCII = r"[^\x20-\x7E]"


def _with_character_notes(findings: pl.DataFrame) -> pl.DataFrame:
    """Name the characters outside printable ASCII in a finding's value.

    A Cyrillic 'А' in an id, a non-breaking space in a code or a typographic dash in a date
    look right when the value is shown; the message says which character is the odd one.
    Row texts of structural findings are left alone (a term may hold an accented letter).
    """
    odd = pl.col("value").str.contains(_NOT_PLAIN_ASCII) & ~pl.col("rule").is_in(_ROW_TEXT_RULES)
    values = findings.filter(odd.fill_null(False))["value"].unique().to_list()
    if not values:
        return findings
    notes = {value: _character_note(value) for value in values}
    note = pl.col("value").replace_strict(notes, default=None, return_dtype=pl.String)
    return findings.with_columns(
        message=pl.when(note.is_not_null())
        .then(pl.concat_str(pl.col("message"), note))
        .otherwise(pl.col("message"))
    )


def _character_note(value: str) -> str:
    odd = list(dict.fromkeys(ch for ch in value if not " " <= ch <= "~"))
    named = [
        f"{ch!r} (U+{ord(ch):04X} {unicodedata.name(ch, 'a control character')})" for ch in odd[:3]
    ]
    more = f" and {len(odd) - 3} more" if len(odd) > 3 else ""
    return f"; the value holds {', '.join(named)}{more}, not plain ASCII"


# --- manifest ----------------------------------------------------------------------------------


def _check_manifest(raw: bytes | None, today: date) -> tuple[_Manifest, pl.DataFrame]:
    """Findings on manifest.json and the facts the other rules may rely on.

    A field that breaks a rule is not passed on (``None``): the rules comparing with it are
    not judged, so one bad manifest field gives one finding, not one per row.
    """
    if raw is None:
        message = f"{c.MANIFEST_FILE} is missing from the submission"
        return _Manifest(None, None), _findings(c.MANIFEST_FILE, "FILE-MISSING", messages=[message])
    frame, problems = read_manifest(raw)
    found = [
        _findings(
            c.MANIFEST_FILE,
            "MANIFEST-INVALID",
            columns=[p.column],
            values=[p.value],
            messages=[f"{p.detail}; {RULES['MANIFEST-INVALID'].message}"],
        )
        for p in problems
    ]
    if frame is None:
        return _Manifest(None, None), _concat(found)
    failures = _pandera_failures(ManifestModel, frame, frame.columns)
    found.append(
        failures.select(
            file=pl.lit(c.MANIFEST_FILE),
            row=pl.lit(None, pl.Int64),
            column="column",
            value="value",
            rule="rule",
        ).join(_RULE_TABLE, on="rule", how="left")
    )
    bad = set(failures["column"])
    values = frame.row(0, named=True)
    site_id = values.get("site_id") if "site_id" in values and "site_id" not in bad else None
    extracted_on = None
    if values.get("extracted_on") and "extracted_on" not in bad:
        extracted_on = date.fromisoformat(values["extracted_on"])
    if extracted_on is not None and extracted_on > today:
        message = (
            f"extracted_on is later than {today.isoformat()}, the day the submission is "
            "validated; an extract cannot be dated in the future"
        )
        found.append(
            _findings(
                c.MANIFEST_FILE,
                "MANIFEST-EXTRACTED-FUTURE",
                values=[values["extracted_on"]],
                messages=[message],
            )
        )
        extracted_on = None
    return _Manifest(site_id, extracted_on), _concat(found)


def _manifest_usable(manifest: _Manifest) -> list[str]:
    usable = []
    if manifest.site_id is not None:
        usable.append("site_id")
    if manifest.extracted_on is not None:
        usable.append("extracted_on")
    return usable


# --- CSV files: structure and header -----------------------------------------------------------


def _read_sheet(
    file: str, raw: bytes | None, model: type[pa.DataFrameModel]
) -> tuple[_Sheet | None, pl.DataFrame, int | None]:
    """Read one CSV file as text, or say why it cannot be read; and its number of data rows
    (``None`` when it is not well-formed CSV)."""
    if raw is None:
        message = f"{file} is missing from the submission"
        return None, _findings(file, "FILE-MISSING", messages=[message]), None
    plain = read_plain_csv(raw, _MAX_HEADER_COLUMNS)
    scan, text = plain if plain is not None else (scan_csv(raw), None)
    if not scan.ok:
        structure = scan.problems.select(
            file=pl.lit(file), row="row", column=pl.lit(None), value="value", rule="rule"
        )
        return (
            None,
            structure.with_columns(severity=pl.lit("error"), message=scan.problems["message"]),
            None,
        )
    expected = list(model.to_schema().columns)
    if len(scan.header) > _MAX_HEADER_COLUMNS:
        return None, _too_wide_header(file, scan.header, expected), scan.rows
    header_findings, positions = _check_header(file, scan.header, expected)
    if scan.rows == 0 and file in c.ROWS_REQUIRED:
        return None, _concat([header_findings, _findings(file, "FILE-NO-ROWS")]), 0
    if text is None:
        text = read_text_table(raw, len(scan.header))
    if text.height != scan.rows:  # the scan and the reader disagree: trust neither
        message = "the file cannot be read as CSV; check its quoting and line endings"
        return None, _findings(file, "FILE-CSV-MALFORMED", messages=[message]), None
    source_row = pl.int_range(2, text.height + 2, dtype=pl.Int64).alias("source_row")
    text = text.select(
        source_row,
        *(pl.col(str(position)).alias(name) for name, position in positions.items()),
    )
    return _Sheet(file, text, tuple(positions)), header_findings, scan.rows


# A header this much wider than any contract file is not an extract with a few stray columns:
# it is refused with one finding, before its values are read or each name is diagnosed.
_MAX_HEADER_COLUMNS = 256


def _check_header(
    file: str, header: list[str], expected: list[str]
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Header findings, and the position of each contract column present exactly once."""
    counts = Counter(header)
    missing = [name for name in expected if name not in counts]
    unknown = [name for name in counts if name not in expected]
    repeated = [name for name in expected if counts.get(name, 0) > 1]

    def on_header(rule: str, names: list[str], values: list, messages: list[str]):
        return _findings(
            file, rule, rows=[1] * len(names), columns=names, values=values, messages=messages
        )

    found = [
        on_header(
            "FILE-COLUMN-UNKNOWN",
            unknown,
            unknown,
            [
                f"column {name!r} is not part of the contract for {file}"
                + _did_you_mean(name, missing)
                for name in unknown
            ],
        ),
        on_header(
            "FILE-COLUMN-DUPLICATE",
            repeated,
            repeated,
            [f"column {n!r} appears {counts[n]} times in the header; keep one" for n in repeated],
        ),
        on_header(
            "FILE-COLUMN-MISSING",
            missing,
            [None] * len(missing),
            [f"column {n!r} of the contract is missing from {file}" for n in missing],
        ),
    ]
    positions = {name: header.index(name) for name in expected if counts.get(name) == 1}
    return _concat(found), positions


def _did_you_mean(name: str, missing: list[str]) -> str:
    hint = difflib.get_close_matches(name.strip().lower(), missing, n=1)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def _too_wide_header(file: str, header: list[str], expected: list[str]) -> pl.DataFrame:
    """The one finding on a header far wider than the contract's (its values are not read)."""
    unknown = [name for name in dict.fromkeys(header) if name not in expected]
    shown = ", ".join(repr(name[:40]) for name in unknown[:5])
    message = (
        f"the header has {len(header):,} columns where the contract for {file} has "
        f"{len(expected)}; {len(unknown):,} are not part of the contract (first: {shown}); "
        "send only the contract's columns (the file's values were not checked)"
    )
    return _findings(file, "FILE-COLUMN-UNKNOWN", rows=[1], messages=[message])


# --- per-column rules (pandera) ----------------------------------------------------------------


def _value_findings(file: str, failures: pl.DataFrame, text: pl.DataFrame) -> pl.DataFrame:
    """Findings from the failing cells of a model's column checks."""
    found = failures.select(
        file=pl.lit(file),
        row=(pl.col("index") + 2).cast(pl.Int64),
        column="column",
        value="value",
        rule="rule",
    ).join(_RULE_TABLE, on="rule", how="left")
    if file == "treatments.csv":
        found = _with_agent_suggestions(found)
    return _with_first_copies(found, text)


def _with_first_copies(found: pl.DataFrame, text: pl.DataFrame) -> pl.DataFrame:
    """A repeated identifier names the row that has it first (pandera reports the later
    copies only)."""
    repeated = pl.col("rule").str.ends_with("-UNIQUE")
    columns = found.filter(repeated)["column"].unique().sort().to_list()
    if not columns:
        return found
    sent = found.filter(repeated)
    firsts = pl.concat(
        text.filter(
            pl.col(column).is_in(sent.filter(pl.col("column") == column)["value"].implode())
        )
        .group_by(column)
        .agg(first=pl.col("source_row").min())
        .select(column=pl.lit(column), value=pl.col(column), first="first")
        for column in columns
    )
    found = found.join(firsts, on=["column", "value"], how="left", maintain_order="left")
    said = pl.concat_str(
        "column",
        pl.lit(" must be unique in the file; row "),
        pl.col("first").cast(pl.String),
        pl.lit(" has it first"),
    )
    return found.with_columns(
        message=pl.when(repeated & pl.col("first").is_not_null()).then(said).otherwise("message")
    ).drop("first")


def _pandera_failures(
    model: type[pa.DataFrameModel], frame: pl.DataFrame, columns: Iterable[str]
) -> pl.DataFrame:
    """Every failing cell of the model's checks: ``index`` (0-based), ``column``, ``value``,
    ``rule``.
    """
    columns = list(columns)
    schema = model.to_schema().select_columns(columns)
    empty = pl.DataFrame(
        schema={"index": pl.Int64, "column": pl.String, "value": pl.String, "rule": pl.String}
    )
    if not columns:
        return empty
    try:
        with config_context(validation_enabled=True, validation_depth="SCHEMA_AND_DATA"):
            schema.validate(frame.select(columns), lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        unknown = set(cases["check"].drop_nulls()) - set(RULES)
        if unknown or cases["check"].null_count():
            raise RuntimeError(f"pandera reported a failure that is no rule: {exc}") from exc
        return cases.select(
            index=pl.col("index").cast(pl.Int64),
            column=pl.col("column"),
            value=pl.col("failure_case").cast(pl.String),
            rule=pl.col("check"),
        )
    return empty


def _with_agent_suggestions(found: pl.DataFrame) -> pl.DataFrame:
    """Complete TRT-AGENT-UNKNOWN messages with the nearest known names (per distinct value)."""
    unknown = found.filter(pl.col("rule") == "TRT-AGENT-UNKNOWN")["value"].unique().to_list()
    if not unknown:
        return found
    hints = {value: _agent_hint(value) for value in unknown}
    is_agent = pl.col("rule") == "TRT-AGENT-UNKNOWN"
    return found.with_columns(
        message=pl.when(is_agent)
        .then(pl.col("value").replace_strict(hints, default=None, return_dtype=pl.String))
        .otherwise(pl.col("message"))
    )


def _agent_hint(value: str) -> str:
    near = nearest_agents(value)
    shown = value if len(value) <= _MAX_VALUE_CHARS else value[:_MAX_VALUE_CHARS] + "…"
    base = f"agent {shown!r} is not in the agent vocabulary (generic, brand or common names)"
    if near:
        return f"{base}; nearest known names: {', '.join(near)}"
    return f"{base}; no close match, see the agent list in the data dictionary"


# --- typed tables ------------------------------------------------------------------------------


def _work_frame(
    sheet: _Sheet, model: type[pa.DataFrameModel], failures: pl.DataFrame
) -> pl.DataFrame:
    """``source_row``, every contract column typed (null when invalid) and ``<col>__sent``."""
    n = sheet.text.height
    bad = failures.group_by("column").agg(pl.col("index"))
    invalid = {column: np.asarray(index) for column, index in bad.iter_rows()}
    columns = model.to_schema().columns
    exprs = [pl.col("source_row")]
    for name, column in columns.items():
        sent = pl.col(name) if name in sheet.usable else pl.lit(None, pl.String)
        typed = _parse(sheet.file, name, column.metadata["kind"], sent)
        if name in sheet.usable and column.metadata["kind"] in ("date", "integer"):
            typed = _parsed_by_value(sheet.text[name], typed, name)
        if name in invalid:
            mask = np.zeros(n, dtype=bool)
            mask[invalid[name]] = True
            typed = pl.when(pl.Series(mask)).then(None).otherwise(typed)
        exprs += [typed.alias(name), sent.alias(f"{name}{SENT}")]
    return sheet.text.select(exprs)


def _parsed_by_value(text: pl.Series, parse: pl.Expr, name: str) -> pl.Series:
    """``parse`` of the column ``name`` evaluated once per distinct text and looked up for
    each row: the same values, and cheaper where millions of rows share a few thousand dates."""
    distinct = text.unique().to_frame(name)
    typed = distinct.select(parse).to_series()
    return text.replace_strict(distinct[name], typed, default=None, return_dtype=typed.dtype)


def _parse(file: str, name: str, kind: str, sent: pl.Expr) -> pl.Expr:
    if file == "treatments.csv" and name == "agent":
        return canonical_agent(sent)
    if kind == "date":
        return parse_date(sent)
    if kind == "integer":
        return parse_integer(sent)
    return sent


def _analysis_tables(work: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The typed tables handed to ingest: typed columns only, ``source_row`` first."""
    tables = {}
    for file, frame in work.items():
        typed = frame.select(pl.exclude(f"^.*{SENT}$"))
        if file == "treatments.csv":
            lead = ["source_row", "treatment_id", "patient_id", "agent"]
            typed = typed.with_columns(
                agent_as_sent=frame[f"agent{SENT}"], agent_class=agent_class(pl.col("agent"))
            )
            extra = ["agent_as_sent", "agent_class"]
            typed = typed.select(*lead, *extra, pl.exclude(*lead, *extra))
        tables[c.TABLE_NAME[file]] = typed
    return tables
