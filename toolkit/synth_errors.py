"""Inject contract violations into a synthetic registry, and list exactly what was injected.

Each injection breaks one rule on one row, of one patient that no other injection touches, and
is chosen so that it breaks nothing else: a test can then require validation to report exactly
the injected findings and nothing on the clean rows. File-level faults (encoding, quoting,
columns) are not injected here; they have their own corpus of malformed submissions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

__all__ = ["inject_errors", "INJECTIONS"]

Frame = pl.DataFrame
Expr = pl.Expr


@dataclass(frozen=True)
class Injection:
    """One kind of violation: which rows may take it and what the new value is."""

    rule: str
    severity: str
    table: str
    column: str
    eligible: Callable[[], Expr] | None
    value: Callable[[], Expr]
    also: tuple[tuple[str, Callable[[], Expr]], ...] = ()


def _d(column: str) -> Expr:
    return pl.col(column).str.to_date("%Y-%m-%d", strict=False)


def _iso(expr: Expr) -> Expr:
    return expr.dt.strftime("%Y-%m-%d")


def _const(text: str | None) -> Callable[[], Expr]:
    return lambda: pl.lit(text, dtype=pl.String)


ALIVE = lambda: pl.col("_vital") == "alive"  # noqa: E731
DEAD = lambda: pl.col("_vital") == "dead"  # noqa: E731
ROOM_BEFORE_EXTRACT = lambda: (  # noqa: E731
    (pl.col("_vital") == "alive") & (_d("_last_contact") <= pl.col("_extract") - timedelta(10))
)
NOT_FIRST = lambda: pl.col("_start") > pl.col("_first_start")  # noqa: E731
HAS_END = lambda: pl.col("end_date").is_not_null()  # noqa: E731
IS_IL2 = lambda: pl.col("agent").str.to_lowercase().is_in(["aldesleukin", "proleukin", "il-2"])  # noqa: E731
IS_CHECKPOINT = lambda: pl.col("agent").is_in(["ipilimumab", "pembrolizumab", "nivolumab"])  # noqa: E731
UNREFERENCED = lambda: ~pl.col("_referenced")  # noqa: E731

INJECTIONS: tuple[Injection, ...] = (
    # patients.csv
    Injection("PAT-SEX-CODE", "error", "patients", "sex", None, _const("male")),
    Injection("PAT-SEX-REQUIRED", "error", "patients", "sex", None, _const(None)),
    Injection(
        "PAT-BIRTH-YEAR-INTEGER",
        "error",
        "patients",
        "birth_year",
        None,
        lambda: pl.col("birth_year") + ".0",
    ),
    Injection("PAT-BIRTH-YEAR-RANGE", "error", "patients", "birth_year", None, _const("1899")),
    Injection(
        "PAT-DIAGNOSIS-DATE-DATE",
        "error",
        "patients",
        "diagnosis_date",
        None,
        lambda: _d("diagnosis_date").dt.strftime("%m/%d/%Y"),
    ),
    Injection(
        "PAT-DIAGNOSIS-BEFORE-BIRTH",
        "error",
        "patients",
        "birth_year",
        lambda: _d("diagnosis_date").dt.year() < pl.col("_extract").dt.year(),
        lambda: (_d("diagnosis_date").dt.year() + 1).cast(pl.String),
    ),
    Injection("PAT-PRIMARY-SITE-CODE", "error", "patients", "primary_site", None, _const("skin")),
    Injection("PAT-M-STAGE-CODE", "error", "patients", "m_stage", None, _const("NA")),
    Injection("PAT-ECOG-RANGE", "error", "patients", "ecog", None, _const("5")),
    Injection("PAT-LDH-ELEVATED-CODE", "error", "patients", "ldh_elevated", None, _const("Y")),
    Injection(
        "PAT-BRAIN-METASTASES-CODE", "error", "patients", "brain_metastases", None, _const("maybe")
    ),
    Injection("PAT-BRAF-STATUS-CODE", "error", "patients", "braf_status", None, _const("V600E")),
    Injection(
        "PAT-VITAL-STATUS-CODE", "error", "patients", "vital_status", ALIVE, _const("living")
    ),
    Injection("PAT-DEATH-DATE-REQUIRED", "error", "patients", "death_date", DEAD, _const(None)),
    Injection(
        "PAT-DEATH-DATE-NOT-DEAD",
        "error",
        "patients",
        "death_date",
        ALIVE,
        lambda: pl.col("last_contact_date"),
    ),
    Injection(
        "PAT-CAUSE-NOT-DEAD", "error", "patients", "cause_of_death", ALIVE, _const("melanoma")
    ),
    Injection(
        "PAT-LAST-CONTACT-DATE-DATE",
        "error",
        "patients",
        "last_contact_date",
        None,
        lambda: _d("last_contact_date").dt.strftime("%Y-02-30"),
    ),
    Injection(
        "PAT-LAST-CONTACT-AFTER-EXTRACT",
        "error",
        "patients",
        "last_contact_date",
        ALIVE,
        lambda: _iso(pl.col("_extract") + timedelta(10)),
    ),
    Injection(
        "PAT-DEATH-AFTER-EXTRACT",
        "error",
        "patients",
        "death_date",
        DEAD,
        lambda: _iso(pl.col("_extract") + timedelta(5)),
    ),
    Injection("PAT-SITE-MANIFEST", "error", "patients", "site_id", None, _const("S99")),
    # treatments.csv
    Injection(
        "TRT-AGENT-UNKNOWN",
        "error",
        "treatments",
        "agent",
        IS_CHECKPOINT,
        lambda: pl.col("agent") + "b",
    ),
    Injection(
        "TRT-START-DATE-DATE",
        "error",
        "treatments",
        "start_date",
        NOT_FIRST,
        lambda: _d("start_date").dt.strftime("%d.%m.%Y"),
    ),
    Injection(
        "TRT-END-DATE-DATE",
        "error",
        "treatments",
        "end_date",
        HAS_END,
        lambda: _d("end_date").dt.strftime("%Y/%m/%d"),
    ),
    Injection(
        "TRT-END-BEFORE-START",
        "error",
        "treatments",
        "end_date",
        HAS_END,
        lambda: _iso(_d("start_date") - timedelta(3)),
    ),
    Injection("TRT-DOSES-REQUIRED", "error", "treatments", "doses", IS_IL2, _const(None)),
    Injection(
        "TRT-DOSES-INTEGER",
        "error",
        "treatments",
        "doses",
        lambda: pl.col("doses").is_not_null(),
        lambda: pl.col("doses") + ".5",
    ),
    Injection("TRT-DOSES-RANGE", "error", "treatments", "doses", None, _const("-2")),
    Injection("TRT-LINE-RANGE", "error", "treatments", "line", None, _const("16")),
    Injection(
        "TRT-BEST-RESPONSE-CODE",
        "error",
        "treatments",
        "best_response",
        None,
        _const("progression"),
    ),
    Injection(
        "TRT-PATIENT-REF",
        "error",
        "treatments",
        "patient_id",
        lambda: NOT_FIRST() & UNREFERENCED(),
        _const("UNKNOWN1"),
    ),
    Injection(
        "TRT-TREATMENT-ID-UNIQUE",
        "error",
        "treatments",
        "treatment_id",
        lambda: UNREFERENCED() & pl.col("_previous_id").is_not_null(),
        lambda: pl.col("_previous_id"),
    ),
    Injection(
        "TRT-START-AFTER-LAST-CONTACT",
        "error",
        "treatments",
        "start_date",
        lambda: ROOM_BEFORE_EXTRACT() & NOT_FIRST() & ~HAS_END(),
        lambda: _iso(_d("_last_contact") + timedelta(5)),
    ),
    Injection(
        "TRT-END-AFTER-LAST-CONTACT",
        "error",
        "treatments",
        "end_date",
        lambda: ROOM_BEFORE_EXTRACT() & HAS_END(),
        lambda: _iso(_d("_last_contact") + timedelta(3)),
    ),
    Injection(
        "TRT-START-BEFORE-DIAGNOSIS",
        "error",
        "treatments",
        "start_date",
        lambda: ~HAS_END(),
        lambda: _iso(_d("_diagnosis") - timedelta(400)),
    ),
    Injection(
        "TRT-START-EARLY",
        "warning",
        "treatments",
        "start_date",
        lambda: ~HAS_END(),
        lambda: _iso(_d("_diagnosis") - timedelta(120)),
    ),
    Injection("TRT-DOSES-HIGH", "warning", "treatments", "doses", IS_IL2, _const("42")),
    # adverse_events.csv
    Injection("AE-GRADE-RANGE", "error", "adverse_events", "grade", None, _const("6")),
    Injection("AE-GRADE-INTEGER", "error", "adverse_events", "grade", None, _const("II")),
    Injection("AE-AUTOIMMUNE-CODE", "error", "adverse_events", "autoimmune", None, _const("Y")),
    Injection(
        "AE-RELATEDNESS-CODE", "error", "adverse_events", "relatedness", None, _const("probably")
    ),
    Injection("AE-OUTCOME-CODE", "error", "adverse_events", "outcome", None, _const("recovered")),
    Injection("AE-OUTCOME-FATAL", "error", "adverse_events", "outcome", None, _const("fatal")),
    Injection(
        "AE-TREATMENT-REF", "error", "adverse_events", "treatment_id", None, _const("T9999999")
    ),
    Injection(
        "AE-ONSET-DATE-DATE", "error", "adverse_events", "onset_date", None, _const("2013-13-01")
    ),
    Injection("AE-TERM-REQUIRED", "error", "adverse_events", "term", None, _const(None)),
    Injection(
        "AE-PATIENT-REF",
        "error",
        "adverse_events",
        "patient_id",
        lambda: pl.col("treatment_id").is_null(),
        _const("UNKNOWN2"),
    ),
    Injection(
        "AE-ONSET-AFTER-LAST-CONTACT",
        "error",
        "adverse_events",
        "onset_date",
        ROOM_BEFORE_EXTRACT,
        lambda: _iso(_d("_last_contact") + timedelta(5)),
    ),
    Injection(
        "AE-AE-ID-UNIQUE",
        "error",
        "adverse_events",
        "ae_id",
        lambda: pl.col("_previous_id").is_not_null(),
        lambda: pl.col("_previous_id"),
    ),
    Injection(
        "AE-GRADE5-NOT-DEAD",
        "warning",
        "adverse_events",
        "grade",
        ALIVE,
        _const("5"),
        also=(("outcome", _const("fatal")),),
    ),
    Injection(
        "AE-BEFORE-TREATMENT",
        "warning",
        "adverse_events",
        "onset_date",
        None,
        lambda: _iso(pl.col("_first_start") - timedelta(10)),
    ),
    # assessments.csv
    Injection("ASM-RESPONSE-CODE", "error", "assessments", "response", None, _const("progressive")),
    Injection("ASM-RESPONSE-REQUIRED", "error", "assessments", "response", None, _const(None)),
    Injection("ASM-METHOD-CODE", "error", "assessments", "method", None, _const("RECIST 1.1")),
    Injection(
        "ASM-ASSESSMENT-DATE-DATE", "error", "assessments", "assessment_date", None, _const("41712")
    ),
    Injection("ASM-PATIENT-REF", "error", "assessments", "patient_id", None, _const("UNKNOWN3")),
    Injection(
        "ASM-DATE-BEFORE-DIAGNOSIS",
        "error",
        "assessments",
        "assessment_date",
        None,
        lambda: _iso(_d("_diagnosis") - timedelta(30)),
    ),
    Injection(
        "ASM-DATE-AFTER-LAST-CONTACT",
        "error",
        "assessments",
        "assessment_date",
        ROOM_BEFORE_EXTRACT,
        lambda: _iso(_d("_last_contact") + timedelta(5)),
    ),
)


def _context(text: dict[str, Frame], extracted_on: Mapping[str, date]) -> dict[str, Frame]:
    """Each table with the helper columns the eligibility rules read (prefixed ``_``)."""
    extract = pl.DataFrame({"_site": list(extracted_on), "_extract": list(extracted_on.values())})
    key = ["_site", "patient_id"]
    treat = text["treatments"]
    first_start = treat.group_by(key).agg(_first_start=_d("start_date").min())
    patient_facts = (
        text["patients"]
        .select(
            *key,
            _vital=pl.col("vital_status"),
            _last_contact=pl.col("last_contact_date"),
            _diagnosis=pl.col("diagnosis_date"),
        )
        .join(first_start, on=key, how="left")
        .join(extract, on="_site")
    )
    referenced = text["adverse_events"].select("_site", "treatment_id").drop_nulls().unique()
    out = {}
    for name, frame in text.items():
        frame = frame.with_row_index("_uid")
        facts = patient_facts.drop("_vital") if name == "patients" else patient_facts
        frame = frame.join(facts, on=key, how="left", maintain_order="left")
        if name == "patients":
            frame = frame.with_columns(_vital=pl.col("vital_status"))
        if name == "treatments":
            frame = frame.join(
                referenced.with_columns(_referenced=pl.lit(True)),
                on=["_site", "treatment_id"],
                how="left",
                maintain_order="left",
            ).with_columns(
                _referenced=pl.col("_referenced").fill_null(False),
                _start=_d("start_date"),
                _previous_id=pl.col("treatment_id").shift(1).over(key),
            )
        if name == "adverse_events":
            frame = frame.with_columns(_previous_id=pl.col("ae_id").shift(1).over(key))
        out[name] = frame
    return out


def inject_errors(
    text: dict[str, Frame],
    extracted_on: Mapping[str, date],
    rate: float,
    rng: np.random.Generator,
) -> tuple[dict[str, Frame], Frame]:
    """Return the tables with violations injected, and the list of what was injected.

    ``extracted_on`` gives each site's extraction date, by site id (the rules about the
    future compare with it).

    About ``rate`` of each table's rows receive one violation, spread evenly over the kinds
    that apply to that table (at least one of each kind).
    """
    frames = _context(text, extracted_on)
    used = pl.DataFrame(schema={"_site": pl.String, "patient_id": pl.String})
    records: list[dict] = []
    kinds_per_table = {t: sum(1 for k in INJECTIONS if k.table == t) for t in text}
    for kind in INJECTIONS:
        frame = frames[kind.table]
        wanted = max(1, round(rate * text[kind.table].height / kinds_per_table[kind.table]))
        eligible = frame
        if kind.eligible is not None:
            eligible = frame.filter(kind.eligible().fill_null(False))
        candidates = (
            eligible.select("_uid", "_site", "patient_id")
            .join(used, on=["_site", "patient_id"], how="anti", maintain_order="left")
            .unique(["_site", "patient_id"], keep="first", maintain_order=True)
        )
        if candidates.height == 0:
            continue
        pick = np.sort(rng.choice(candidates.height, min(wanted, candidates.height), replace=False))
        chosen = candidates[pick]
        used = pl.concat([used, chosen.select("_site", "patient_id")])
        uids = chosen["_uid"]
        hit = pl.col("_uid").is_in(uids.implode())
        frame = frame.with_columns(
            pl.when(hit).then(make()).otherwise(pl.col(column)).alias(column)
            for column, make in ((kind.column, kind.value), *kind.also)
        )
        frames[kind.table] = frame
        sent = frame.filter(pl.col("_uid").is_in(uids.implode())).select(
            "_uid", "_site", pl.col(kind.column).alias("value")
        )
        records += [
            {
                "table": kind.table,
                "uid": r["_uid"],
                "site_id": r["_site"],
                "column": kind.column,
                "value": r["value"],
                "rule": kind.rule,
                "severity": kind.severity,
            }
            for r in sent.iter_rows(named=True)
        ]
    frames, records = _append_rows(frames, records, rng, used)
    return _finish(frames, text, records)


def _append_rows(frames, records, rng, used):
    """Violations that need a row of their own, appended at the end of a site's file."""
    patients = frames["patients"]
    free = patients.join(used, on=["_site", "patient_id"], how="anti", maintain_order="left")
    picks = free[np.sort(rng.choice(free.height, 3, replace=False))]
    top = patients["_uid"].max() + 1

    # A second row for an existing patient id.
    duplicate = picks[0:1].with_columns(_uid=pl.lit(top, dtype=pl.UInt32))
    # A patient with no treatment at all.
    orphan = picks[1:2].with_columns(
        _uid=pl.lit(top + 1, dtype=pl.UInt32), patient_id=pl.lit("N0000001")
    )
    frames["patients"] = pl.concat([patients, duplicate, orphan], how="vertical_relaxed")
    records += [
        {
            "table": "patients",
            "uid": top,
            "site_id": duplicate["_site"][0],
            "column": "patient_id",
            "value": duplicate["patient_id"][0],
            "rule": "PAT-PATIENT-ID-UNIQUE",
            "severity": "error",
        },
        {
            "table": "patients",
            "uid": top + 1,
            "site_id": orphan["_site"][0],
            "column": "patient_id",
            "value": "N0000001",
            "rule": "PAT-NO-TREATMENT",
            "severity": "warning",
        },
    ]
    # The same course sent twice (new id, same patient, agent and start).
    treatments = frames["treatments"]
    course = treatments.filter(
        (pl.col("_site") == picks["_site"][2]) & (pl.col("patient_id") == picks["patient_id"][2])
    )[-1:]
    t_top = treatments["_uid"].max() + 1
    copy = course.with_columns(
        _uid=pl.lit(t_top, dtype=pl.UInt32), treatment_id=pl.lit("TDUP0000001")
    )
    frames["treatments"] = pl.concat([treatments, copy], how="vertical_relaxed")
    records.append(
        {
            "table": "treatments",
            "uid": t_top,
            "site_id": copy["_site"][0],
            "column": "start_date",
            "value": copy["start_date"][0],
            "rule": "TRT-DUPLICATE-COURSE",
            "severity": "warning",
        }
    )
    return frames, records


def _finish(frames, text, records) -> tuple[dict[str, Frame], Frame]:
    """Drop helper columns, order rows as the sites' files will, and give each record its row."""
    out: dict[str, Frame] = {}
    rows = []
    for name, frame in frames.items():
        frame = frame.sort("_site", "_uid", maintain_order=True).with_columns(
            _row=(pl.int_range(pl.len()).over("_site") + 2)
        )
        rows.append(frame.select(pl.lit(name).alias("table"), pl.col("_uid").alias("uid"), "_row"))
        out[name] = frame.select(text[name].columns)
    where = pl.concat(rows)
    injected = (
        pl.DataFrame(records, schema_overrides={"uid": pl.UInt32, "value": pl.String})
        .join(where, on=["table", "uid"], how="left")
        .select(
            (pl.col("table") + ".csv").alias("file"),
            "site_id",
            pl.col("_row").alias("row"),
            "column",
            "value",
            "rule",
            "severity",
        )
        .sort("site_id", "file", "row")
    )
    return out, injected
