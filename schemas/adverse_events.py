"""adverse_events.csv of submission contract v1: one row per adverse event, read as text."""

from __future__ import annotations

import pandera.polars as pa

from schemas import codes as c
from schemas.checks import field, int_range, integer, iso_date, one_of, required, unique

__all__ = ["AdverseEventsModel"]


class AdverseEventsModel(pa.DataFrameModel):
    """adverse_events.csv: one row per adverse event (the file may hold only its header)."""

    ae_id: str = field("Adverse event identifier, unique in the file.", "text")
    patient_id: str = field("The patient, as in patients.csv.", "text")
    onset_date: str = field("Date of onset.", "date")
    term: str = field("Free text, e.g. colitis, hypophysitis.", "text")
    autoimmune: str = field("Immune-related event.", "code", codes=c.YES_NO)
    grade: str = field("CTCAE grade.", "integer")
    relatedness: str = field("Relation to treatment.", "code", codes=c.RELATEDNESS)
    treatment_id: str = field("The course it is attributed to, as in treatments.csv.", "text")
    outcome: str = field("Outcome; fatal exactly when grade is 5.", "code", codes=c.AE_OUTCOME)

    ae_id_required = required("ae_id", "AE-AE-ID-REQUIRED")
    ae_id_unique = unique("ae_id", "AE-AE-ID-UNIQUE")
    patient_id_required = required("patient_id", "AE-PATIENT-ID-REQUIRED")
    onset_date_required = required("onset_date", "AE-ONSET-DATE-REQUIRED")
    onset_date_date = iso_date("onset_date", "AE-ONSET-DATE-DATE")
    term_required = required("term", "AE-TERM-REQUIRED")
    autoimmune_required = required("autoimmune", "AE-AUTOIMMUNE-REQUIRED")
    autoimmune_code = one_of("autoimmune", "AE-AUTOIMMUNE-CODE", c.YES_NO)
    grade_required = required("grade", "AE-GRADE-REQUIRED")
    grade_integer = integer("grade", "AE-GRADE-INTEGER")
    grade_range = int_range("grade", "AE-GRADE-RANGE", *c.GRADE_RANGE)
    relatedness_required = required("relatedness", "AE-RELATEDNESS-REQUIRED")
    relatedness_code = one_of("relatedness", "AE-RELATEDNESS-CODE", c.RELATEDNESS)
    outcome_code = one_of("outcome", "AE-OUTCOME-CODE", c.AE_OUTCOME)
