"""The pandera model of each file of submission contract v1, in contract order.

The one map from a file to its model: validation, the data dictionary and the synthetic
registry all read it (patients' birth-year bound is set per extract by
:meth:`schemas.patients.PatientsModel.for_extract_year`).
"""

from __future__ import annotations

import pandera.polars as pa

from schemas import codes as c
from schemas.adverse_events import AdverseEventsModel
from schemas.assessments import AssessmentsModel
from schemas.patients import PatientsModel
from schemas.treatments import TreatmentsModel

__all__ = ["MODELS"]

_PAT, _TRT, _AE, _ASM = c.CSV_FILES

MODELS: dict[str, type[pa.DataFrameModel]] = {
    _PAT: PatientsModel,
    _TRT: TreatmentsModel,
    _AE: AdverseEventsModel,
    _ASM: AssessmentsModel,
}
"""The model of each CSV file, keyed by file name (``patients.csv`` …)."""
