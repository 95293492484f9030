"""patients.csv of submission contract v1: one row per patient, every column read as text."""

from __future__ import annotations

import functools

import pandera.polars as pa

from schemas import codes as c
from schemas.checks import (
    field,
    in_range,
    int_range,
    integer,
    iso_date,
    matches,
    model_check,
    one_of,
    required,
    unique,
)

__all__ = ["PatientsModel"]


class PatientsModel(pa.DataFrameModel):
    """patients.csv: one row per patient with metastatic melanoma.

    ``_latest_birth_year`` is the upper bound of ``birth_year`` (the year of the manifest's
    ``extracted_on``); use :meth:`for_extract_year` to get a model with it set. On the base
    model it is ``None`` and only the lower bound is checked.
    """

    patient_id: str = field("Patient identifier, kept as text (00123 stays 00123).", "text")
    site_id: str = field("Site identifier; equals the manifest's site_id.", "text")
    sex: str = field("Sex.", "code", codes=c.SEX)
    birth_year: str = field("Year of birth.", "integer")
    diagnosis_date: str = field("Date of diagnosis of metastatic melanoma.", "date")
    primary_site: str = field("Primary tumour site.", "code", codes=c.PRIMARY_SITE)
    m_stage: str = field("AJCC M category at metastatic diagnosis.", "code", codes=c.M_STAGE)
    ecog: str = field("ECOG performance status at start of first therapy.", "integer")
    ldh_elevated: str = field(
        "LDH above the upper limit of normal.", "code", codes=c.YES_NO_UNKNOWN
    )
    brain_metastases: str = field("Brain metastases present.", "code", codes=c.YES_NO_UNKNOWN)
    braf_status: str = field("BRAF V600 mutation status.", "code", codes=c.BRAF_STATUS)
    vital_status: str = field("Vital status at last contact.", "code", codes=c.VITAL_STATUS)
    last_contact_date: str = field("Last date known alive, or the death date.", "date")
    death_date: str = field("Date of death; only when vital_status is dead.", "date")
    cause_of_death: str = field("Cause of death; only when dead.", "code", codes=c.CAUSE_OF_DEATH)

    _latest_birth_year = None  # set by for_extract_year; no annotation: not a column

    patient_id_required = required("patient_id", "PAT-PATIENT-ID-REQUIRED")
    patient_id_format = matches("patient_id", "PAT-PATIENT-ID-FORMAT", c.ID_PATTERN)
    patient_id_unique = unique("patient_id", "PAT-PATIENT-ID-UNIQUE")
    site_id_required = required("site_id", "PAT-SITE-ID-REQUIRED")
    sex_required = required("sex", "PAT-SEX-REQUIRED")
    sex_code = one_of("sex", "PAT-SEX-CODE", c.SEX)
    birth_year_required = required("birth_year", "PAT-BIRTH-YEAR-REQUIRED")
    birth_year_integer = integer("birth_year", "PAT-BIRTH-YEAR-INTEGER")
    diagnosis_date_required = required("diagnosis_date", "PAT-DIAGNOSIS-DATE-REQUIRED")
    diagnosis_date_date = iso_date("diagnosis_date", "PAT-DIAGNOSIS-DATE-DATE")
    primary_site_code = one_of("primary_site", "PAT-PRIMARY-SITE-CODE", c.PRIMARY_SITE)
    m_stage_code = one_of("m_stage", "PAT-M-STAGE-CODE", c.M_STAGE)
    ecog_integer = integer("ecog", "PAT-ECOG-INTEGER")
    ecog_range = int_range("ecog", "PAT-ECOG-RANGE", *c.ECOG_RANGE)
    ldh_elevated_code = one_of("ldh_elevated", "PAT-LDH-ELEVATED-CODE", c.YES_NO_UNKNOWN)
    brain_metastases_code = one_of(
        "brain_metastases", "PAT-BRAIN-METASTASES-CODE", c.YES_NO_UNKNOWN
    )
    braf_status_code = one_of("braf_status", "PAT-BRAF-STATUS-CODE", c.BRAF_STATUS)
    vital_status_required = required("vital_status", "PAT-VITAL-STATUS-REQUIRED")
    vital_status_code = one_of("vital_status", "PAT-VITAL-STATUS-CODE", c.VITAL_STATUS)
    last_contact_date_required = required("last_contact_date", "PAT-LAST-CONTACT-DATE-REQUIRED")
    last_contact_date_date = iso_date("last_contact_date", "PAT-LAST-CONTACT-DATE-DATE")
    death_date_date = iso_date("death_date", "PAT-DEATH-DATE-DATE")
    cause_of_death_code = one_of("cause_of_death", "PAT-CAUSE-OF-DEATH-CODE", c.CAUSE_OF_DEATH)

    birth_year_range = model_check(
        "birth_year",
        "PAT-BIRTH-YEAR-RANGE",
        lambda model: in_range(c.BIRTH_YEAR_MIN, model._latest_birth_year),
    )

    @classmethod
    @functools.lru_cache(maxsize=64)
    def for_extract_year(cls, year: int | None) -> type[PatientsModel]:
        """This model with ``birth_year`` bounded above by ``year``.

        Parameters
        ----------
        year : int or None
            The year of the manifest's ``extracted_on``; ``None`` when it is unknown.

        Returns
        -------
        type
            A subclass whose ``PAT-BIRTH-YEAR-RANGE`` check uses ``year`` as upper bound.
        """
        if year is None:
            return cls
        return type(f"PatientsModel{year}", (cls,), {"_latest_birth_year": year})
