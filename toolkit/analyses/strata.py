"""The study's strata compared by a Cox model: the reference stratum and the baseline covariates.

Study-bound glue over the estimator :func:`toolkit.survival.cox.cox_ph`: the strata in the
study's display order, the default stratum as the reference, and the study's baseline
covariates as the ADTTE's columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import polars as pl

from toolkit.errors import AnalysisError
from toolkit.study import BASELINE_COVARIATES
from toolkit.survival.cox import CoxResult, cox_ph

__all__ = ["IMMORTAL_TIME_WARNING", "reference_stratum", "stratum_cox", "study_covariates"]

IMMORTAL_TIME_WARNING = (
    "the strata depend on therapy received after the index date: this comparison counts the "
    "time before that therapy (immortal time) in the later-therapy groups and is biased in "
    "their favour; see the landmark, time-varying Cox and Simon–Makuch analyses"
)


def reference_stratum(study, present: pl.Series) -> str | None:
    """The study's reference stratum (its default stratum unless it names another) when the
    data have it, else ``None`` (most frequent)."""
    reference = study.reference_stratum
    return reference if (present == reference).any() else None


def study_covariates(study, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """The study's baseline covariates as (continuous, categorical) columns of the ADTTE.

    Each covariate's column is declared in :data:`toolkit.study.BASELINE_COVARIATES` (``age``
    is the ADTTE's ``age_years``).
    """
    continuous, categorical = [], []
    for name in study.baseline.covariates:
        covariate = BASELINE_COVARIATES[name]
        if covariate.column not in columns:
            raise AnalysisError(f"the analysis data have no column for the covariate {name}")
        (continuous if covariate.kind == "continuous" else categorical).append(covariate.column)
    return continuous, categorical


def stratum_cox(
    adtte: pl.DataFrame,
    study,
    *,
    adjusted: bool = False,
    missing_levels: Sequence[str] = ("missing",),
    ph_test: bool = True,
    counts: str | None = None,
) -> CoxResult:
    """Cox model of the study's strata (reference: the default stratum) on the ADTTE.

    Parameters
    ----------
    adtte : polars.DataFrame
        One row per patient with ``aval`` (months), ``is_event``, ``stratum_key`` and the
        baseline covariate columns.
    study : toolkit.study.Study
        The strata (reference: the study's reference stratum; without patients in it, the
        most frequent stratum) and the baseline covariates.
    adjusted : bool
        Also adjust for the study's baseline covariates (``age`` continuous, others
        categorical with the most frequent level as reference).
    missing_levels : sequence of str
        Covariate values treated as missing (besides nulls).
    ph_test : bool
        Compute the ``cox.zph`` test.
    counts : str, optional
        Column of how many patients each row stands for: the unadjusted model fitted on the
        risk sets of ``survival_risk_sets`` (``n_patients``) rather than the ADTTE's rows.

    Returns
    -------
    CoxResult
        Named ``"unadjusted"`` or ``"adjusted"``. When the strata depend on later therapy
        its ``warnings_`` start with the immortal-time warning: see
        :mod:`toolkit.analyses.immortal_time`.
    """
    order = [s.key for s in study.strata_for_display]
    continuous, categorical = study_covariates(study, adtte.columns) if adjusted else ([], [])
    default = reference_stratum(study, adtte["stratum_key"])
    result = cox_ph(
        adtte,
        time="aval",
        event="is_event",
        continuous=continuous,
        categorical={"stratum_key": default} | dict.fromkeys(categorical),
        missing_levels=missing_levels,
        level_order={"stratum_key": order},
        labels={s.key: s.label for s in study.strata},
        name="adjusted" if adjusted else "unadjusted",
        ph_test=ph_test,
        counts=counts,
    )
    if not study.strata_depend_on_later_therapy:
        return result
    return replace(result, warnings_=[IMMORTAL_TIME_WARNING, *result.warnings_])
