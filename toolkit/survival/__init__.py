"""Survival estimators as plain data: Kaplan–Meier, log-rank, RMST, follow-up, Cox models
(right-censored and counting-process), the extended Kaplan–Meier, and Table 1's tests.

The estimators take arrays or frames plus column names and know nothing of studies: the
study-bound analyses (strata models, landmark, Simon–Makuch curves of the strata, the
immortal-time assessment, the comparisons) are :mod:`toolkit.analyses`.

Results are frozen dataclasses whose fitted attributes end in ``_``; ``to_dict()`` gives the
JSON-able form. Formatting belongs to the report. Every result names its method.

- :mod:`~toolkit.survival.kaplan_meier` — :func:`kaplan_meier`, :func:`kaplan_meier_by_group`
- :mod:`~toolkit.survival.logrank` — :func:`logrank_test`, :func:`pairwise_logrank`
- :mod:`~toolkit.survival.rmst` — :func:`rmst`, :func:`rmst_by_group`
- :mod:`~toolkit.survival.followup` — :func:`median_followup`
- :mod:`~toolkit.survival.competing_risks` — :func:`aalen_johansen` (cumulative incidence with
  competing risks), :func:`aalen_johansen_by_group`, :func:`gray_test`, :func:`incidence_rate`
- :mod:`~toolkit.survival.cox` — :func:`cox_ph`, the public fit (design matrix, Wald terms);
  its engine :mod:`~toolkit.survival.cox_engine` (Efron ties, Newton–Raphson on arrays) and
  its tests :mod:`~toolkit.survival.cox_inference` (likelihood ratio, Wald, score, cox.zph)
- :mod:`~toolkit.survival.time_varying` — :func:`counting_process_cox`
- :mod:`~toolkit.survival.simon_makuch` — :func:`extended_kaplan_meier`
- :mod:`~toolkit.survival.table` — :func:`read_survival_table` (CSV / Parquet input)
- :mod:`~toolkit.survival.association` — Table 1's tests: :func:`categorical_test` (chi-square
  or Fisher's exact), :func:`kruskal_wallis`
"""

from toolkit.survival.competing_risks import (
    CIF_CONF_TYPES,
    CIF_VARIANCES,
    COMPETING_RISKS_METHODS,
    CumulativeIncidence,
    GrayTest,
    IncidenceRate,
    aalen_johansen,
    aalen_johansen_by_group,
    cif_confidence_limits,
    gray_test,
    incidence_rate,
)
from toolkit.survival.cox import CoxResult, CoxTerm, cox_ph
from toolkit.survival.followup import FollowUp, median_followup
from toolkit.survival.kaplan_meier import (
    CONF_TYPES,
    METHODS,
    KaplanMeierSummary,
    empty_summary,
    kaplan_meier,
    kaplan_meier_by_group,
)
from toolkit.survival.logrank import LogRankTest, PairwiseLogRank, logrank_test, pairwise_logrank
from toolkit.survival.rmst import RMSTComparison, RMSTEstimate, rmst, rmst_by_group
from toolkit.survival.simon_makuch import SimonMakuchCurve, extended_kaplan_meier
from toolkit.survival.table import SurvivalTable, read_survival_table
from toolkit.survival.time_varying import TimeVaryingCoxResult, counting_process_cox

__all__ = [
    "CIF_CONF_TYPES",
    "CIF_VARIANCES",
    "COMPETING_RISKS_METHODS",
    "CONF_TYPES",
    "METHODS",
    "CoxResult",
    "CoxTerm",
    "CumulativeIncidence",
    "FollowUp",
    "GrayTest",
    "IncidenceRate",
    "KaplanMeierSummary",
    "LogRankTest",
    "PairwiseLogRank",
    "RMSTComparison",
    "RMSTEstimate",
    "SimonMakuchCurve",
    "SurvivalTable",
    "TimeVaryingCoxResult",
    "aalen_johansen",
    "aalen_johansen_by_group",
    "cif_confidence_limits",
    "counting_process_cox",
    "cox_ph",
    "empty_summary",
    "extended_kaplan_meier",
    "gray_test",
    "incidence_rate",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "logrank_test",
    "median_followup",
    "pairwise_logrank",
    "read_survival_table",
    "rmst",
    "rmst_by_group",
]
