"""The analysis dataset for R or SAS: ADaM-style ADTTE, time-varying episodes, flow and counts.

Written from the cohort SQL's relations as Parquet (exact values) and CSV (formula-safe).
Column names of the ADTTE follow ADaM (upper case); the rest keep the SQL's names.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from toolkit.cohort import Cohort
from toolkit.study import BASELINE_COVARIATES
from toolkit.tabular import write_parquet, write_safe_csv

__all__ = ["export_cohort", "ADTTE_COLUMNS"]

ADTTE_COLUMNS = {
    "patient_key": "USUBJID",
    "site_id": "SITEID",
    "paramcd": "PARAMCD",
    "param": "PARAM",
    "stratum_key": "STRATUM",
    "stratum_label": "STRATUML",
    "startdt": "STARTDT",
    "adt": "ADT",
    "aval": "AVAL",
    "aval_days": "AVALDY",
    "cnsr": "CNSR",
    "evntdesc": "EVNTDESC",
    "cnsdtdsc": "CNSDTDSC",
    "stratum_start_date": "STRSTDT",
    **{c.column: c.adam for c in BASELINE_COVARIATES.values()},
}


def adtte_frame(cohort: Cohort) -> pl.DataFrame:
    """The ADTTE rows with ADaM column names and ``AVALU``."""
    return (
        cohort.adtte.select(list(ADTTE_COLUMNS))
        .rename(ADTTE_COLUMNS)
        .with_columns(AVALU=pl.lit("MONTHS"))
        .sort("USUBJID")
    )


def export_cohort(cohort: Cohort, out_dir: Path) -> list[Path]:
    """Write the analysis dataset and its companions; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "adtte": adtte_frame(cohort),
        "episodes": cohort.episodes.sort("patient_key", "tstart_days"),
        "flow": cohort.flow,
        "stratum_counts": cohort.stratum_counts,
        "submissions": cohort.submissions,
    }
    written = []
    for name, frame in tables.items():
        written.append(write_parquet(frame, out_dir / f"{name}.parquet"))
        written.append(write_safe_csv(frame, out_dir / f"{name}.csv"))
    return written
