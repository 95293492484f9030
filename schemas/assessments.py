"""assessments.csv of submission contract v1: one row per disease assessment, read as text."""

from __future__ import annotations

import pandera.polars as pa

from schemas import codes as c
from schemas.checks import field, iso_date, one_of, required

__all__ = ["AssessmentsModel"]


class AssessmentsModel(pa.DataFrameModel):
    """assessments.csv: one row per disease assessment (the file may hold only its header)."""

    patient_id: str = field("The patient, as in patients.csv.", "text")
    assessment_date: str = field("Date of the assessment.", "date")
    response: str = field("Response at this assessment.", "code", codes=c.RESPONSE)
    method: str = field("Response criteria used.", "code", codes=c.ASSESSMENT_METHOD)

    patient_id_required = required("patient_id", "ASM-PATIENT-ID-REQUIRED")
    assessment_date_required = required("assessment_date", "ASM-ASSESSMENT-DATE-REQUIRED")
    assessment_date_date = iso_date("assessment_date", "ASM-ASSESSMENT-DATE-DATE")
    response_required = required("response", "ASM-RESPONSE-REQUIRED")
    response_code = one_of("response", "ASM-RESPONSE-CODE", c.RESPONSE)
    method_code = one_of("method", "ASM-METHOD-CODE", c.ASSESSMENT_METHOD)
