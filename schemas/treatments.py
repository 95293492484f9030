"""treatments.csv of submission contract v1: one row per course of one agent, read as text."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import codes as c
from schemas.checks import field, int_range, integer, iso_date, one_of, required, rule_check, unique
from schemas.vocabulary import AGENT_ALIASES, AGENT_CLASS

__all__ = ["TreatmentsModel", "AGENT_LOOKUP", "canonical_agent", "agent_class"]

AGENT_LOOKUP: dict[str, str] = {**{name: name for name in AGENT_CLASS}, **AGENT_ALIASES}
"""Every accepted spelling (trimmed, lower case) mapped to its canonical agent name."""


def canonical_agent(text: pl.Expr) -> pl.Expr:
    """Canonical agent name of ``text``, null when unknown; the vectorised ``normalise_agent``.

    Matching is case-insensitive after trimming, exactly as
    :func:`schemas.vocabulary.normalise_agent` does it.
    """
    key = text.str.strip_chars().str.to_lowercase()
    return key.replace_strict(AGENT_LOOKUP, default=None, return_dtype=pl.String)


def agent_class(canonical: pl.Expr) -> pl.Expr:
    """Class (``il2``, ``pd1`` ...) of a canonical agent name; null when unknown."""
    return canonical.replace_strict(AGENT_CLASS, default=None, return_dtype=pl.String)


class TreatmentsModel(pa.DataFrameModel):
    """treatments.csv: one row per course of one agent."""

    treatment_id: str = field("Course identifier, unique in the file.", "text")
    patient_id: str = field("The patient, as in patients.csv.", "text")
    agent: str = field(
        "Agent: a generic, brand or common name of the agent vocabulary (case-insensitive).",
        "code",
        codes=tuple(AGENT_CLASS),
    )
    start_date: str = field("First day of the course.", "date")
    end_date: str = field("Last day of the course; empty while ongoing.", "date")
    doses: str = field("Number of doses given; required for aldesleukin.", "integer")
    line: str = field("Line of therapy in the metastatic setting.", "integer")
    best_response: str = field("Best response on this course.", "code", codes=c.RESPONSE)

    treatment_id_required = required("treatment_id", "TRT-TREATMENT-ID-REQUIRED")
    treatment_id_unique = unique("treatment_id", "TRT-TREATMENT-ID-UNIQUE")
    patient_id_required = required("patient_id", "TRT-PATIENT-ID-REQUIRED")
    agent_required = required("agent", "TRT-AGENT-REQUIRED")
    agent_known = rule_check(
        "agent", "TRT-AGENT-UNKNOWN", lambda v: canonical_agent(v).is_not_null()
    )
    start_date_required = required("start_date", "TRT-START-DATE-REQUIRED")
    start_date_date = iso_date("start_date", "TRT-START-DATE-DATE")
    end_date_date = iso_date("end_date", "TRT-END-DATE-DATE")
    doses_integer = integer("doses", "TRT-DOSES-INTEGER")
    doses_range = int_range("doses", "TRT-DOSES-RANGE", c.DOSES_MIN, None)
    line_integer = integer("line", "TRT-LINE-INTEGER")
    line_range = int_range("line", "TRT-LINE-RANGE", *c.LINE_RANGE)
    best_response_code = one_of("best_response", "TRT-BEST-RESPONSE-CODE", c.RESPONSE)
