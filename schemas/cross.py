"""Cross-field and cross-file rules of submission contract v1, as vectorised polars expressions.

They run on *work frames*: one per CSV file, holding ``source_row``, each contract column typed
(``pl.Date``, ``pl.Int64`` or ``pl.String``) and, as ``<column>__sent``, the text as sent. A
typed value is null when the cell is empty, when its column is missing, or when a per-column
rule already failed on it, so a cross rule only ever sees valid inputs: one root cause, one
finding. For the same reason a date later than ``extracted_on`` is reported by its
AFTER-EXTRACT rule (first phase) and then treated as unknown by the date-order rules (second
phase), and activity after death is only a warning when it is not already an error for being
after the last contact.

A rule runs only when the files and columns it reads are usable (see :class:`Context`); a
missing column is reported once by ``FILE-COLUMN-MISSING``, not again on every row.

Rows of treatments, adverse events and assessments are linked to their patient once, by one
join per file on the id as sent (:func:`_link_patients`); the rules then filter those linked
frames, so checking millions of rows costs a few joins, not one per rule. A patient whose id is
duplicated, or whose own dates contradict each other, lends no facts to that linking: rows of
other files are not judged against values already reported as wrong.

Each rule returns the offending rows of the file it reports on; :func:`cross_findings` turns
them into findings with the value as sent of the rule's column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import polars as pl

from schemas import codes as c
from schemas.checks import is_repeat
from schemas.findings import FINDING_SCHEMA
from schemas.rules import RULES

__all__ = ["Context", "SENT", "cross_findings", "cross_rule_ids"]

SENT = "__sent"
"""Suffix of the as-sent text columns in work frames."""


_PAT, _TRT, _AE, _ASM = c.CSV_FILES
_EXTRACT_ON = "manifest.json:extracted_on"
_SITE_ID = "manifest.json:site_id"
_ID = f"patient_id{SENT}"


@dataclass(frozen=True)
class Context:
    """What the cross rules read.

    Attributes
    ----------
    tables : dict of str to polars.DataFrame
        Work frames by file name (``patients.csv`` ...), for the files that could be read.
    usable : frozenset of str
        ``"<file>:<column>"`` for every column present once in a readable file, plus
        ``"manifest.json:site_id"`` / ``"manifest.json:extracted_on"`` when those are valid.
    site_id : str or None
        The manifest's ``site_id`` when valid.
    extracted_on : datetime.date or None
        The manifest's ``extracted_on`` when valid.
    linked : dict of str to polars.DataFrame
        Filled by :func:`cross_findings`: the work frames of treatments, adverse events and
        assessments with their patient's facts attached (see :func:`_link_patients`).
    patients : polars.DataFrame or None
        Filled by :func:`cross_findings`: the patients work frame with ``pat_row`` (its row
        index) and ``pat_unique`` (the id occurs once).
    """

    tables: dict[str, pl.DataFrame]
    usable: frozenset[str]
    site_id: str | None = None
    extracted_on: date | None = None
    linked: dict[str, pl.DataFrame] = field(default_factory=dict)
    patients: pl.DataFrame | None = None


RuleFn = Callable[[Context], pl.DataFrame]


@dataclass(frozen=True)
class _CrossRule:
    rule: str
    needs: tuple[str, ...]
    find: RuleFn
    phase: int
    compared: tuple[tuple[str, str], ...] = ()


_REGISTRY: list[_CrossRule] = []


def _rule(
    rule_id: str, *needs: str, phase: int = 2, compared: dict[str, str] | None = None
) -> Callable[[RuleFn], RuleFn]:
    """Register ``find`` as the implementation of ``rule_id``; ``needs`` are ``file:column``;
    ``compared`` names, by what a site coordinator calls them, the columns of ``find``'s rows
    that hold the other values the rule compared."""
    if rule_id not in RULES:
        raise KeyError(f"{rule_id} is not in the rule catalog")

    def register(find: RuleFn) -> RuleFn:
        pairs = tuple((compared or {}).items())
        _REGISTRY.append(_CrossRule(rule_id, needs, find, phase, pairs))
        return find

    return register


def cross_rule_needs() -> dict[str, tuple[str, ...]]:
    """The ``file:column`` inputs of each cross rule (it runs only where all are usable)."""
    return {entry.rule: entry.needs for entry in _REGISTRY}


def cross_rule_ids() -> list[str]:
    """Ids of every cross rule, in the order they run."""
    return [entry.rule for entry in sorted(_REGISTRY, key=lambda entry: entry.phase)]


def cross_findings(ctx: Context) -> pl.DataFrame:
    """Run every cross rule whose inputs are usable.

    Parameters
    ----------
    ctx : Context
        Work frames, usable columns and manifest facts.

    Returns
    -------
    polars.DataFrame
        Findings with the columns of :data:`FINDING_SCHEMA`, unsorted.
    """
    frames = [_run(entry, ctx) for entry in _REGISTRY if entry.phase == 1]
    later = _link_patients(_without_dates_after_extract(ctx))
    frames += [_run(entry, later) for entry in _REGISTRY if entry.phase == 2]
    frames = [frame for frame in frames if frame is not None]
    if not frames:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    return pl.concat(frames)


def _run(entry: _CrossRule, ctx: Context) -> pl.DataFrame | None:
    if not all(need in ctx.usable for need in entry.needs):
        return None
    rule = RULES[entry.rule]
    hits = entry.find(ctx)
    return hits.select(
        file=pl.lit(rule.file, pl.String),
        row=pl.col("source_row").cast(pl.Int64),
        column=pl.lit(rule.column, pl.String),
        value=pl.col(f"{rule.column}{SENT}"),
        compared=_compared(entry.compared),
        rule=pl.lit(rule.id, pl.String),
        severity=pl.lit(rule.severity, pl.String),
        message=pl.lit(rule.message, pl.String),
    )


def _compared(pairs: tuple[tuple[str, str], ...]) -> pl.Expr:
    """``"<name> <value>; …"`` of the values a rule compared (``empty`` for a missing one)."""
    if not pairs:
        return pl.lit(None, pl.String)
    return pl.concat_str(
        [
            pl.concat_str(pl.lit(f"{name} "), pl.col(column).cast(pl.String).fill_null("empty"))
            for name, column in pairs
        ],
        separator="; ",
    )


_DATE_COLUMNS = {
    _PAT: ("diagnosis_date", "last_contact_date", "death_date"),
    _TRT: ("start_date", "end_date"),
    _AE: ("onset_date",),
    _ASM: ("assessment_date",),
}


def _without_dates_after_extract(ctx: Context) -> Context:
    """The context with every date later than ``extracted_on`` set to null (already reported)."""
    if ctx.extracted_on is None:
        return ctx
    limit = ctx.extracted_on
    tables = {
        file: frame.with_columns(
            pl.when(pl.col(col) <= limit).then(pl.col(col)).alias(col)
            for col in _DATE_COLUMNS[file]
        )
        for file, frame in ctx.tables.items()
    }
    return replace(ctx, tables=tables)


_DATES = ("diagnosis_date", "last_contact_date", "death_date")


def _link_patients(ctx: Context) -> Context:
    """Attach to each row of the other files its patient's facts, with one join per file.

    Joins on the id as sent. Adds ``pat_row`` (the patient's row index; null when the id is
    not in patients.csv) and ``pat_<column>`` for the patient's dates and vital status. These
    are null where they cannot be trusted: every fact of an id that occurs more than once, and
    the dates of a patient whose own dates contradict each other (last contact or death before
    diagnosis), so rows of other files are not judged against dates already reported as wrong.
    """
    if f"{_PAT}:patient_id" not in ctx.usable:
        return ctx
    ids, diagnosis = pl.col(_ID), pl.col("diagnosis_date")
    patients = ctx.tables[_PAT].with_columns(
        pat_row=pl.int_range(pl.len(), dtype=pl.UInt32), pat_unique=ids.is_unique()
    )
    consistent = (pl.col("last_contact_date") >= diagnosis).fill_null(True) & (
        pl.col("death_date") >= diagnosis
    ).fill_null(True)
    unique = pl.col("pat_unique")
    facts = patients.select(
        *(pl.when(unique & consistent).then(name).alias(f"pat_{name}") for name in _DATES),
        pat_vital_status=pl.when(unique).then("vital_status"),
    )
    index = patients.select(_ID, "pat_row").filter(ids.is_not_null())
    if not patients["pat_unique"].all():
        index = index.unique(subset=_ID, keep="first")
    linked = {
        file: _attach(ctx.tables[file], index, facts)
        for file in (_TRT, _AE, _ASM)
        if f"{file}:patient_id" in ctx.usable
    }
    return replace(ctx, linked=linked, patients=patients)


def _after_extract(ctx: Context, file: str, column: str) -> pl.DataFrame:
    rows = ctx.tables[file].filter(pl.col(column) > ctx.extracted_on)
    return rows.with_columns(extracted_on=pl.lit(ctx.extracted_on, pl.Date))


def _attach(rows: pl.DataFrame, index: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``pat_row`` (looked up by id: one narrow join) and the facts at that row."""
    pat_row = rows.select(_ID).join(index, on=_ID, how="left", maintain_order="left")["pat_row"]
    return rows.with_columns(pat_row, *(facts[name].gather(pat_row) for name in facts.columns))


def _per_patient(ctx: Context, pat_row: pl.Series, values: pl.Series | bool) -> pl.Series:
    """A series with one entry per patients.csv row: ``values`` at ``pat_row``, null elsewhere.

    Gathering from it by ``pat_row`` looks a patient's value up without a join.
    """
    if isinstance(values, bool):
        values = pl.repeat(values, len(pat_row), eager=True)
    empty = pl.Series(values.name, [None] * ctx.patients.height, dtype=values.dtype)
    return empty.scatter(pat_row, values)


def _earliest_per_patient(ctx: Context, rows: pl.DataFrame, column: str) -> pl.Series:
    """The earliest date in ``column`` of ``rows`` per patient, as :func:`_per_patient` gives.

    A scatter-minimum over patient indexes (``pat_row``): no grouping, no join.
    """
    known = rows.select("pat_row", days=pl.col(column).to_physical()).drop_nulls()
    never = np.iinfo(np.int32).max
    days = np.full(ctx.patients.height, never, dtype=np.int32)
    np.minimum.at(days, known["pat_row"].to_numpy(), known["days"].to_numpy())
    return pl.Series(days).set(pl.Series(days == never), None).cast(pl.Date)


def _unknown_patient(ctx: Context, file: str) -> pl.DataFrame:
    return ctx.linked[file].filter(pl.col(_ID).is_not_null() & pl.col("pat_row").is_null())


def _days(n: int) -> timedelta:
    return timedelta(days=n)


# --- patients.csv ------------------------------------------------------------------------------


@_rule(
    "PAT-DIAGNOSIS-DATE-AFTER-EXTRACT",
    f"{_PAT}:diagnosis_date",
    _EXTRACT_ON,
    phase=1,
    compared={"extracted_on (manifest.json)": "extracted_on"},
)
def _pat_diagnosis_after_extract(ctx: Context) -> pl.DataFrame:
    return _after_extract(ctx, _PAT, "diagnosis_date")


@_rule(
    "PAT-LAST-CONTACT-AFTER-EXTRACT",
    f"{_PAT}:last_contact_date",
    _EXTRACT_ON,
    phase=1,
    compared={"extracted_on (manifest.json)": "extracted_on"},
)
def _pat_last_contact_after_extract(ctx: Context) -> pl.DataFrame:
    return _after_extract(ctx, _PAT, "last_contact_date")


@_rule(
    "PAT-DEATH-AFTER-EXTRACT",
    f"{_PAT}:death_date",
    _EXTRACT_ON,
    phase=1,
    compared={"extracted_on (manifest.json)": "extracted_on"},
)
def _pat_death_after_extract(ctx: Context) -> pl.DataFrame:
    return _after_extract(ctx, _PAT, "death_date")


@_rule(
    "PAT-SITE-MANIFEST",
    f"{_PAT}:site_id",
    _SITE_ID,
    compared={"site_id (manifest.json)": "manifest_site_id"},
)
def _pat_site_manifest(ctx: Context) -> pl.DataFrame:
    rows = ctx.tables[_PAT].filter(pl.col("site_id") != ctx.site_id)
    return rows.with_columns(manifest_site_id=pl.lit(ctx.site_id, pl.String))


@_rule(
    "PAT-DIAGNOSIS-BEFORE-BIRTH",
    f"{_PAT}:diagnosis_date",
    f"{_PAT}:birth_year",
    compared={"birth_year": "birth_year__sent"},
)
def _pat_diagnosis_before_birth(ctx: Context) -> pl.DataFrame:
    return ctx.tables[_PAT].filter(pl.col("diagnosis_date").dt.year() < pl.col("birth_year"))


@_rule(
    "PAT-LAST-CONTACT-BEFORE-DIAGNOSIS",
    f"{_PAT}:last_contact_date",
    f"{_PAT}:diagnosis_date",
    compared={"diagnosis_date": "diagnosis_date__sent"},
)
def _pat_last_contact_before_diagnosis(ctx: Context) -> pl.DataFrame:
    return ctx.tables[_PAT].filter(pl.col("last_contact_date") < pl.col("diagnosis_date"))


@_rule(
    "PAT-DEATH-DATE-REQUIRED",
    f"{_PAT}:death_date",
    f"{_PAT}:vital_status",
    compared={"vital_status": "vital_status__sent"},
)
def _pat_death_date_required(ctx: Context) -> pl.DataFrame:
    return ctx.tables[_PAT].filter(
        (pl.col("vital_status") == "dead") & pl.col(f"death_date{SENT}").is_null()
    )


@_rule(
    "PAT-DEATH-DATE-NOT-DEAD",
    f"{_PAT}:death_date",
    f"{_PAT}:vital_status",
    compared={"vital_status": "vital_status__sent"},
)
def _pat_death_date_not_dead(ctx: Context) -> pl.DataFrame:
    return ctx.tables[_PAT].filter(
        pl.col("death_date").is_not_null() & pl.col("vital_status").is_in(c.ALIVE_STATES)
    )


@_rule(
    "PAT-DEATH-BEFORE-DIAGNOSIS",
    f"{_PAT}:death_date",
    f"{_PAT}:diagnosis_date",
    compared={"diagnosis_date": "diagnosis_date__sent"},
)
def _pat_death_before_diagnosis(ctx: Context) -> pl.DataFrame:
    return ctx.tables[_PAT].filter(pl.col("death_date") < pl.col("diagnosis_date"))


@_rule(
    "PAT-CAUSE-NOT-DEAD",
    f"{_PAT}:cause_of_death",
    f"{_PAT}:vital_status",
    compared={"vital_status": "vital_status__sent"},
)
def _pat_cause_not_dead(ctx: Context) -> pl.DataFrame:
    return ctx.tables[_PAT].filter(
        pl.col("cause_of_death").is_not_null() & pl.col("vital_status").is_in(c.ALIVE_STATES)
    )


@_rule("PAT-NO-TREATMENT", f"{_PAT}:patient_id", f"{_TRT}:patient_id")
def _pat_no_treatment(ctx: Context) -> pl.DataFrame:
    treated = _per_patient(ctx, ctx.linked[_TRT]["pat_row"].drop_nulls(), True)
    # a broken id (empty, repeated, or failing its FORMAT rule) is reported already
    return ctx.patients.filter(
        pl.col("patient_id").is_not_null() & pl.col("pat_unique") & treated.is_null()
    )


# --- treatments.csv ----------------------------------------------------------------------------

_TRT_PATIENT = (f"{_PAT}:patient_id", f"{_TRT}:patient_id")


@_rule(
    "TRT-START-DATE-AFTER-EXTRACT",
    f"{_TRT}:start_date",
    _EXTRACT_ON,
    phase=1,
    compared={"extracted_on (manifest.json)": "extracted_on"},
)
def _trt_start_after_extract(ctx: Context) -> pl.DataFrame:
    return _after_extract(ctx, _TRT, "start_date")


@_rule(
    "TRT-END-DATE-AFTER-EXTRACT",
    f"{_TRT}:end_date",
    _EXTRACT_ON,
    phase=1,
    compared={"extracted_on (manifest.json)": "extracted_on"},
)
def _trt_end_after_extract(ctx: Context) -> pl.DataFrame:
    return _after_extract(ctx, _TRT, "end_date")


@_rule("TRT-PATIENT-REF", *_TRT_PATIENT)
def _trt_patient_ref(ctx: Context) -> pl.DataFrame:
    return _unknown_patient(ctx, _TRT)


@_rule(
    "TRT-START-BEFORE-DIAGNOSIS",
    *_TRT_PATIENT,
    f"{_TRT}:start_date",
    f"{_PAT}:diagnosis_date",
    compared={"the patient's diagnosis_date": "pat_diagnosis_date"},
)
def _trt_start_before_diagnosis(ctx: Context) -> pl.DataFrame:
    earliest = pl.col("pat_diagnosis_date") - _days(c.START_BEFORE_DIAGNOSIS_MAX_DAYS)
    return ctx.linked[_TRT].filter(pl.col("start_date") < earliest)


@_rule(
    "TRT-START-EARLY",
    *_TRT_PATIENT,
    f"{_TRT}:start_date",
    f"{_PAT}:diagnosis_date",
    compared={"the patient's diagnosis_date": "pat_diagnosis_date"},
)
def _trt_start_early(ctx: Context) -> pl.DataFrame:
    diagnosis, start = pl.col("pat_diagnosis_date"), pl.col("start_date")
    earliest = diagnosis - _days(c.START_BEFORE_DIAGNOSIS_MAX_DAYS)
    return ctx.linked[_TRT].filter(
        (start >= earliest) & (start < diagnosis - _days(c.START_EARLY_DAYS))
    )


@_rule(
    "TRT-START-AFTER-LAST-CONTACT",
    *_TRT_PATIENT,
    f"{_TRT}:start_date",
    f"{_PAT}:last_contact_date",
    compared={"the patient's last_contact_date": "pat_last_contact_date"},
)
def _trt_start_after_last_contact(ctx: Context) -> pl.DataFrame:
    return ctx.linked[_TRT].filter(pl.col("start_date") > pl.col("pat_last_contact_date"))


@_rule(
    "TRT-END-BEFORE-START",
    f"{_TRT}:end_date",
    f"{_TRT}:start_date",
    compared={"start_date": "start_date__sent"},
)
def _trt_end_before_start(ctx: Context) -> pl.DataFrame:
    return ctx.tables[_TRT].filter(pl.col("end_date") < pl.col("start_date"))


@_rule(
    "TRT-END-AFTER-LAST-CONTACT",
    *_TRT_PATIENT,
    f"{_TRT}:end_date",
    f"{_PAT}:last_contact_date",
    compared={"the patient's last_contact_date": "pat_last_contact_date"},
)
def _trt_end_after_last_contact(ctx: Context) -> pl.DataFrame:
    return ctx.linked[_TRT].filter(pl.col("end_date") > pl.col("pat_last_contact_date"))


@_rule("TRT-DOSES-REQUIRED", f"{_TRT}:agent", f"{_TRT}:doses", compared={"agent": "agent__sent"})
def _trt_doses_required(ctx: Context) -> pl.DataFrame:
    return ctx.tables[_TRT].filter(
        (pl.col("agent") == c.IL2_AGENT) & pl.col(f"doses{SENT}").is_null()
    )


@_rule("TRT-DOSES-HIGH", f"{_TRT}:agent", f"{_TRT}:doses", compared={"agent": "agent__sent"})
def _trt_doses_high(ctx: Context) -> pl.DataFrame:
    return ctx.tables[_TRT].filter(
        (pl.col("agent") == c.IL2_AGENT) & (pl.col("doses") > c.IL2_DOSES_HIGH)
    )


@_rule(
    "TRT-AFTER-DEATH",
    *_TRT_PATIENT,
    f"{_TRT}:start_date",
    f"{_PAT}:death_date",
    f"{_PAT}:last_contact_date",
    compared={"the patient's death_date": "pat_death_date"},
)
def _trt_after_death(ctx: Context) -> pl.DataFrame:
    start = pl.col("start_date")
    after_last_contact = (start > pl.col("pat_last_contact_date")).fill_null(False)
    return ctx.linked[_TRT].filter((start > pl.col("pat_death_date")) & ~after_last_contact)


@_rule(
    "TRT-DUPLICATE-COURSE",
    f"{_TRT}:patient_id",
    f"{_TRT}:agent",
    f"{_TRT}:start_date",
    compared={
        "agent": "agent__sent",
        "start_date": "start_date__sent",
        "row holding it first": "first_row",
    },
)
def _trt_duplicate_course(ctx: Context) -> pl.DataFrame:
    key = [_ID, "agent", "start_date"]
    treatments = ctx.tables[_TRT]
    courses = treatments.select(*key, "source_row", at=pl.int_range(pl.len(), dtype=pl.UInt32))
    courses = courses.filter(pl.all_horizontal(pl.col(key).is_not_null()))
    repeat = pl.Series(is_repeat(courses.select(pl.struct(key)).to_series()))
    repeats = courses.filter(repeat)
    # the first row of a repeated course is its one row that is no repeat (rows are in file
    # order); looked up for the repeats alone, not grouped over every row
    first = courses.filter(~repeat).join(repeats.select(key).unique(), on=key, how="semi")
    repeats = repeats.join(
        first.select(*key, first_row="source_row"), on=key, how="left", maintain_order="left"
    )
    return treatments.select(pl.all().gather(repeats["at"])).with_columns(repeats["first_row"])


# --- adverse_events.csv ------------------------------------------------------------------------

_AE_PATIENT = (f"{_PAT}:patient_id", f"{_AE}:patient_id")


@_rule(
    "AE-ONSET-DATE-AFTER-EXTRACT",
    f"{_AE}:onset_date",
    _EXTRACT_ON,
    phase=1,
    compared={"extracted_on (manifest.json)": "extracted_on"},
)
def _ae_onset_after_extract(ctx: Context) -> pl.DataFrame:
    return _after_extract(ctx, _AE, "onset_date")


@_rule("AE-PATIENT-REF", *_AE_PATIENT)
def _ae_patient_ref(ctx: Context) -> pl.DataFrame:
    return _unknown_patient(ctx, _AE)


@_rule(
    "AE-ONSET-AFTER-LAST-CONTACT",
    *_AE_PATIENT,
    f"{_AE}:onset_date",
    f"{_PAT}:last_contact_date",
    compared={"the patient's last_contact_date": "pat_last_contact_date"},
)
def _ae_onset_after_last_contact(ctx: Context) -> pl.DataFrame:
    return ctx.linked[_AE].filter(pl.col("onset_date") > pl.col("pat_last_contact_date"))


@_rule(
    "AE-TREATMENT-REF",
    *_AE_PATIENT,
    f"{_AE}:treatment_id",
    f"{_TRT}:treatment_id",
    f"{_TRT}:patient_id",
)
def _ae_treatment_ref(ctx: Context) -> pl.DataFrame:
    key = [f"treatment_id{SENT}", "pat_row"]
    courses = ctx.linked[_TRT].select(key)
    events = ctx.linked[_AE].select("source_row", f"treatment_id{SENT}", "pat_row")
    events = events.filter(pl.all_horizontal(pl.col(key).is_not_null()))
    return events.join(courses, on=key, how="anti")


@_rule("AE-OUTCOME-FATAL", f"{_AE}:grade", f"{_AE}:outcome", compared={"grade": "grade__sent"})
def _ae_outcome_fatal(ctx: Context) -> pl.DataFrame:
    grade5, fatal = pl.col("grade") == 5, pl.col("outcome") == "fatal"
    return ctx.tables[_AE].filter(
        pl.col("grade").is_not_null() & pl.col("outcome").is_not_null() & (grade5 != fatal)
    )


@_rule(
    "AE-GRADE5-NOT-DEAD",
    *_AE_PATIENT,
    f"{_AE}:grade",
    f"{_PAT}:vital_status",
    compared={"the patient's vital_status": "pat_vital_status"},
)
def _ae_grade5_not_dead(ctx: Context) -> pl.DataFrame:
    return ctx.linked[_AE].filter(
        (pl.col("grade") == 5) & pl.col("pat_vital_status").is_in(c.ALIVE_STATES)
    )


@_rule(
    "AE-BEFORE-TREATMENT",
    f"{_PAT}:patient_id",
    f"{_AE}:patient_id",
    f"{_AE}:onset_date",
    f"{_TRT}:patient_id",
    f"{_TRT}:start_date",
    compared={"the patient's first treatment start_date": "first_start_date"},
)
def _ae_before_treatment(ctx: Context) -> pl.DataFrame:
    first_start = _earliest_per_patient(ctx, ctx.linked[_TRT], "start_date")
    events = ctx.linked[_AE].with_columns(
        first_start_date=first_start.gather(ctx.linked[_AE]["pat_row"])
    )
    return events.filter(pl.col("onset_date") < pl.col("first_start_date"))


# --- assessments.csv ---------------------------------------------------------------------------

_ASM_PATIENT = (f"{_PAT}:patient_id", f"{_ASM}:patient_id")


@_rule(
    "ASM-ASSESSMENT-DATE-AFTER-EXTRACT",
    f"{_ASM}:assessment_date",
    _EXTRACT_ON,
    phase=1,
    compared={"extracted_on (manifest.json)": "extracted_on"},
)
def _asm_date_after_extract(ctx: Context) -> pl.DataFrame:
    return _after_extract(ctx, _ASM, "assessment_date")


@_rule("ASM-PATIENT-REF", *_ASM_PATIENT)
def _asm_patient_ref(ctx: Context) -> pl.DataFrame:
    return _unknown_patient(ctx, _ASM)


@_rule(
    "ASM-DATE-BEFORE-DIAGNOSIS",
    *_ASM_PATIENT,
    f"{_ASM}:assessment_date",
    f"{_PAT}:diagnosis_date",
    compared={"the patient's diagnosis_date": "pat_diagnosis_date"},
)
def _asm_date_before_diagnosis(ctx: Context) -> pl.DataFrame:
    return ctx.linked[_ASM].filter(pl.col("assessment_date") < pl.col("pat_diagnosis_date"))


@_rule(
    "ASM-DATE-AFTER-LAST-CONTACT",
    *_ASM_PATIENT,
    f"{_ASM}:assessment_date",
    f"{_PAT}:last_contact_date",
    compared={"the patient's last_contact_date": "pat_last_contact_date"},
)
def _asm_date_after_last_contact(ctx: Context) -> pl.DataFrame:
    return ctx.linked[_ASM].filter(pl.col("assessment_date") > pl.col("pat_last_contact_date"))


@_rule(
    "ASM-AFTER-DEATH",
    *_ASM_PATIENT,
    f"{_ASM}:assessment_date",
    f"{_PAT}:death_date",
    f"{_PAT}:last_contact_date",
    compared={"the patient's death_date": "pat_death_date"},
)
def _asm_after_death(ctx: Context) -> pl.DataFrame:
    when = pl.col("assessment_date")
    after_last_contact = (when > pl.col("pat_last_contact_date")).fill_null(False)
    return ctx.linked[_ASM].filter((when > pl.col("pat_death_date")) & ~after_last_contact)
