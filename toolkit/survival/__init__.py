"""Survival analysis as plain data: Kaplan–Meier, log-rank, RMST, follow-up.

Results are frozen dataclasses whose fitted attributes end in ``_``; ``to_dict()`` gives the
JSON-able form. Formatting belongs to the report. Every result names its method.

- :mod:`~toolkit.survival.kaplan_meier` — :func:`kaplan_meier`, :func:`kaplan_meier_by_group`
- :mod:`~toolkit.survival.logrank` — :func:`logrank_test`, :func:`pairwise_logrank`
- :mod:`~toolkit.survival.rmst` — :func:`rmst`, :func:`rmst_by_group`
- :mod:`~toolkit.survival.followup` — :func:`median_followup`
- :mod:`~toolkit.survival.table` — :func:`read_survival_table` (CSV / Parquet input)
"""

from toolkit.survival.followup import FollowUp, median_followup
from toolkit.survival.kaplan_meier import (
    CONF_TYPES,
    METHODS,
    KaplanMeierSummary,
    kaplan_meier,
    kaplan_meier_by_group,
)
from toolkit.survival.logrank import LogRankTest, PairwiseLogRank, logrank_test, pairwise_logrank
from toolkit.survival.rmst import RMSTComparison, RMSTEstimate, rmst, rmst_by_group
from toolkit.survival.table import SurvivalTable, read_survival_table

__all__ = [
    "CONF_TYPES",
    "METHODS",
    "FollowUp",
    "KaplanMeierSummary",
    "LogRankTest",
    "PairwiseLogRank",
    "RMSTComparison",
    "RMSTEstimate",
    "SurvivalTable",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "logrank_test",
    "median_followup",
    "pairwise_logrank",
    "read_survival_table",
    "rmst",
    "rmst_by_group",
]
