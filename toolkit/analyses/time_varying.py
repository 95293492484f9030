"""The study's strata as a time-varying covariate of a Cox model, from the cohort's episodes.

Study-bound glue over :func:`toolkit.survival.time_varying.counting_process_cox`: each patient
starts in the default (or baseline) stratum and moves to a later-therapy stratum on the day
that therapy starts, so the time before it counts in the group the patient was in.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from toolkit.analyses.strata import reference_stratum, study_covariates
from toolkit.errors import AnalysisError
from toolkit.survival.time_varying import TimeVaryingCoxResult, counting_process_cox

__all__ = ["time_varying_cox"]


def time_varying_cox(
    episodes: pl.DataFrame,
    study,
    *,
    adtte: pl.DataFrame | None = None,
    adjusted: bool = False,
    engine: str = "numpy",
    missing_levels: Sequence[str] = ("missing",),
) -> TimeVaryingCoxResult:
    """Cox model of the study's strata as a time-varying covariate, from the episodes.

    Parameters
    ----------
    episodes : polars.DataFrame
        The cohort's episodes (``patient_key``, ``episode_stratum_key``, ``tstart`` and
        ``tstop`` in months, ``is_event``).
    study : toolkit.study.Study
        The strata; the reference is the default stratum.
    adtte : polars.DataFrame, optional
        The ADTTE, for the baseline covariates (needed when ``adjusted``).
    adjusted : bool
        Also adjust for the study's baseline covariates (as
        :func:`toolkit.analyses.strata.stratum_cox`).
    engine : {"numpy", "lifelines"}
        See :func:`counting_process_cox`.
    missing_levels : sequence of str
        Covariate values treated as missing (besides nulls).

    Returns
    -------
    TimeVaryingCoxResult
        Named ``"time-varying, unadjusted"`` or ``"time-varying, adjusted"``.
    """
    default = reference_stratum(study, episodes["episode_stratum_key"])
    frame = episodes
    continuous, categorical = [], []
    if adjusted:
        if adtte is None:
            raise AnalysisError("the adjusted time-varying Cox model needs the ADTTE")
        continuous, categorical = study_covariates(study, adtte.columns)
        covariates = adtte.select("patient_key", *continuous, *categorical)
        frame = episodes.join(covariates, on="patient_key", how="left")
    return counting_process_cox(
        frame,
        start="tstart",
        stop="tstop",
        event="is_event",
        id_col="patient_key",
        continuous=continuous,
        categorical={"episode_stratum_key": default} | dict.fromkeys(categorical),
        missing_levels=missing_levels,
        level_order={"episode_stratum_key": [s.key for s in study.strata_for_display]},
        labels={s.key: s.label for s in study.strata},
        name="time-varying, adjusted" if adjusted else "time-varying, unadjusted",
        engine=engine,
    )
