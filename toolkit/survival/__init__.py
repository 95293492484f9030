"""Survival analysis as plain data: Kaplan–Meier, log-rank, RMST, follow-up, Cox models, and the
analyses that remove immortal-time bias (landmark, time-varying Cox, Simon–Makuch).

Results are frozen dataclasses whose fitted attributes end in ``_``; ``to_dict()`` gives the
JSON-able form. Formatting belongs to the report. Every result names its method.

- :mod:`~toolkit.survival.kaplan_meier` — :func:`kaplan_meier`, :func:`kaplan_meier_by_group`
- :mod:`~toolkit.survival.logrank` — :func:`logrank_test`, :func:`pairwise_logrank`
- :mod:`~toolkit.survival.rmst` — :func:`rmst`, :func:`rmst_by_group`
- :mod:`~toolkit.survival.followup` — :func:`median_followup`
- :mod:`~toolkit.survival.cox` — :func:`cox_ph`, :func:`stratum_cox` (Efron ties, cox.zph)
- :mod:`~toolkit.survival.time_varying` — :func:`time_varying_cox`
- :mod:`~toolkit.survival.landmark` — :func:`landmark_analysis`, :func:`landmark_analyses`
- :mod:`~toolkit.survival.simon_makuch` — :func:`simon_makuch`
- :mod:`~toolkit.survival.immortal_time` — :func:`assess_immortal_time`
- :mod:`~toolkit.survival.table` — :func:`read_survival_table` (CSV / Parquet input)
- :mod:`~toolkit.survival.association` — Table 1's tests: :func:`categorical_test` (chi-square
  or Fisher's exact), :func:`kruskal_wallis`
"""

from toolkit.survival.cox import CoxResult, CoxTerm, cox_ph, stratum_cox
from toolkit.survival.followup import FollowUp, median_followup
from toolkit.survival.immortal_time import ImmortalTimeAssessment, assess_immortal_time
from toolkit.survival.kaplan_meier import (
    CONF_TYPES,
    METHODS,
    KaplanMeierSummary,
    empty_summary,
    kaplan_meier,
    kaplan_meier_by_group,
)
from toolkit.survival.landmark import LandmarkResult, landmark_analyses, landmark_analysis
from toolkit.survival.logrank import LogRankTest, PairwiseLogRank, logrank_test, pairwise_logrank
from toolkit.survival.rmst import RMSTComparison, RMSTEstimate, rmst, rmst_by_group
from toolkit.survival.simon_makuch import SimonMakuchCurve, SimonMakuchResult, simon_makuch
from toolkit.survival.table import SurvivalTable, read_survival_table
from toolkit.survival.time_varying import TimeVaryingCoxResult, time_varying_cox

__all__ = [
    "CONF_TYPES",
    "METHODS",
    "CoxResult",
    "CoxTerm",
    "FollowUp",
    "ImmortalTimeAssessment",
    "KaplanMeierSummary",
    "LandmarkResult",
    "LogRankTest",
    "PairwiseLogRank",
    "RMSTComparison",
    "RMSTEstimate",
    "SimonMakuchCurve",
    "SimonMakuchResult",
    "SurvivalTable",
    "TimeVaryingCoxResult",
    "assess_immortal_time",
    "cox_ph",
    "empty_summary",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "landmark_analyses",
    "landmark_analysis",
    "logrank_test",
    "median_followup",
    "pairwise_logrank",
    "read_survival_table",
    "rmst",
    "rmst_by_group",
    "simon_makuch",
    "stratum_cox",
    "time_varying_cox",
]
