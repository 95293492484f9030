"""Landmark analysis: groups fixed at a landmark time L, survival compared from L on.

For a grouping by therapy received after the index date, the naive comparison credits the
later-therapy groups with the time their patients had to survive to receive it (immortal
time). The landmark analysis removes it (Anderson, Cain and Gelber, J Clin Oncol 1983):

- **at risk at L**: patients whose follow-up goes beyond L, ``aval > L`` (alive and under
  follow-up just after L). Patients who died at or before L, or were censored at or before
  L, are excluded and counted; an observation ending exactly at L has no time after L.
- **group at L**: the stratum the patient was in at L: from the episodes
  (``treatment_episodes.sql``), the last episode with ``tstart ≤ L``, so a later therapy
  started on or before L counts and one started after L does not (the patient stays in
  the group they were in at L, as in an intention-to-treat analysis from L). Without
  episodes, from ``stratum_start_date``: a later-therapy stratum whose therapy started on or
  before L (in months of ``days_per_month`` days), otherwise the default stratum; strata
  of baseline rules keep their stratum.
- **clock restarted at L**: time = ``aval - L``; events as in the ADTTE.

Per landmark the result gives the excluded counts, per group the number of patients and the
Kaplan–Meier summary from L (:func:`toolkit.survival.kaplan_meier.kaplan_meier`: median
from L, S at the requested times after L, numbers at risk), the log-rank test
(:func:`toolkit.survival.logrank.logrank_test`) and the Cox hazard ratios from L
(:func:`toolkit.survival.cox.cox_ph`, reference: the default stratum).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from toolkit.analyses.strata import reference_stratum
from toolkit.errors import AnalysisError
from toolkit.survival._common import result_dict
from toolkit.survival.cox import CoxResult, cox_ph
from toolkit.survival.kaplan_meier import KaplanMeierSummary, kaplan_meier
from toolkit.survival.logrank import LogRankTest, logrank_test

__all__ = ["METHODS", "LandmarkResult", "landmark_analysis", "landmark_analyses"]

METHODS = {
    "design": "landmark analysis (Anderson, Cain and Gelber 1983)",
    "at_risk": "included: follow-up beyond the landmark (aval > L); excluded: death or "
    "censoring at or before L",
    "grouping": "stratum at the landmark: later therapy started on or before L counts, "
    "started after L does not",
    "time": "clock restarted at the landmark (time since L)",
    "survival": "Kaplan–Meier from L, 95% log-log CI",
    "test": "log-rank test from L",
    "hazard_ratio": "Cox proportional hazards from L (Efron ties), reference: default stratum",
}


@dataclass(frozen=True)
class LandmarkResult:
    """One landmark analysis as plain data.

    Attributes
    ----------
    landmark : the landmark L in months since the index date.
    grouping : ``"episodes"`` or ``"stratum_start_date"`` — what the groups at L came from.
    methods : the methods, in words.
    n_input_ : patients in the analysis data.
    n_at_risk_ : patients followed beyond L (the landmark population).
    excluded_ : ``{"total", "died", "censored"}``: patients whose follow-up ended at or
        before L, by how it ended.
    groups_ : per stratum (display order), ``{"key", "label", "n", "events", "km"}`` with the
        Kaplan–Meier summary from L (times since L; ``None`` for an empty group) and
        ``reclassified``: patients in the group at L whose naive stratum (the ADTTE's
        ``stratum_key``, from all follow-up) is another one.
    logrank_ : the log-rank test across the non-empty groups (``None`` if fewer than two).
    cox_ : the Cox model from L (``None`` if fewer than two groups, no event or nothing
        estimable).
    cox_not_estimable_ : why there is no Cox model from L (``None`` when there is one).
    """

    landmark: float
    grouping: str
    methods: dict[str, str]
    n_input_: int
    n_at_risk_: int
    excluded_: dict[str, int]
    groups_: list[dict]
    logrank_: LogRankTest | None
    cox_: CoxResult | None
    cox_not_estimable_: str | None = None

    def group(self, key: str) -> dict:
        """The entry of ``groups_`` for the stratum ``key``."""
        return next(g for g in self.groups_ if g["key"] == key)

    def to_dict(self) -> dict:
        """JSON-able form (fitted names without the trailing ``_``)."""
        return result_dict(self)


def _groups_from_episodes(episodes: pl.DataFrame, landmark: float) -> pl.DataFrame:
    """patient_key → the stratum of the last episode started at or before the landmark."""
    return (
        episodes.filter(pl.col("tstart") <= landmark)
        .sort("patient_key", "tstart")
        .group_by("patient_key", maintain_order=True)
        .agg(pl.col("episode_stratum_key").last().alias("landmark_group"))
    )


def _groups_from_start_dates(adtte: pl.DataFrame, study, landmark: float) -> pl.Series:
    """The stratum at the landmark from ``stratum_start_date`` (later-therapy strata only)."""
    default = study.default_stratum
    later = [s.key for s in study.strata if s.depends_on_later_therapy]
    started = (pl.col("stratum_start_date") - pl.col("startdt")).dt.total_days() / (
        study.endpoint.days_per_month
    )
    in_time = pl.col("stratum_start_date").is_not_null() & (started <= landmark)
    return adtte.select(
        pl.when(pl.col("stratum_key").is_in(later) & ~in_time)
        .then(pl.lit(default))
        .otherwise(pl.col("stratum_key"))
        .alias("landmark_group")
    ).to_series()


def _landmark_population(adtte, study, landmark, episodes) -> pl.DataFrame:
    """Patients followed beyond the landmark with their group at it and time since it."""
    at_risk = adtte.filter(pl.col("aval") > landmark)
    if episodes is None:
        groups = _groups_from_start_dates(at_risk, study, landmark)
        at_risk = at_risk.with_columns(groups)
    else:
        groups = _groups_from_episodes(episodes, landmark)
        at_risk = at_risk.join(groups, on="patient_key", how="left")
        if at_risk["landmark_group"].null_count():
            raise AnalysisError(f"a patient at risk at {landmark:g} months has no episode then")
    return at_risk.with_columns((pl.col("aval") - landmark).alias("time_from_landmark"))


def _group_entry(stratum, rows: pl.DataFrame, at_times, ticks) -> dict:
    entry = {
        "key": stratum.key,
        "label": stratum.label,
        "n": rows.height,
        "events": int(rows["is_event"].sum()),
        "reclassified": int((rows["stratum_key"] != stratum.key).sum()) if rows.height else 0,
        "km": None,
    }
    if rows.height:
        km: KaplanMeierSummary = kaplan_meier(
            rows["time_from_landmark"].to_numpy(),
            rows["is_event"].to_numpy(),
            key=stratum.key,
            label=stratum.label,
            at_times=at_times,
            ticks=ticks,
        )
        entry["km"] = km.to_dict()
    return entry


def landmark_analysis(
    adtte: pl.DataFrame,
    study,
    landmark: float,
    *,
    episodes: pl.DataFrame | None = None,
    horizons: Sequence[float] = (12.0,),
    ticks: Sequence[float] | None = None,
) -> LandmarkResult:
    """Landmark analysis at ``landmark`` months.

    Parameters
    ----------
    adtte : polars.DataFrame
        One row per patient (``patient_key``, ``aval`` in months, ``is_event``,
        ``stratum_key``, ``stratum_start_date``, ``startdt``).
    study : toolkit.study.Study
        The strata (display order, default) and ``days_per_month``.
    landmark : float
        L, in months since the index date.
    episodes : polars.DataFrame, optional
        The cohort's episodes; when given, the group at L comes from them (exact when a
        patient had more than one later therapy), else from ``stratum_start_date``.
    horizons : sequence of float
        Times after L at which to report S (12: S(L + 12), as 12 months after L).
    ticks : sequence of float, optional
        Times after L of the numbers-at-risk tables (default: every
        ``at_risk_every_months`` of the study up to the longest follow-up after L).

    Returns
    -------
    LandmarkResult
    """
    population = _landmark_population(adtte, study, landmark, episodes)
    ended = adtte.filter(pl.col("aval") <= landmark)
    if ticks is None:
        every = study.endpoint.at_risk_every_months
        longest = float(population["time_from_landmark"].max() or 0.0)
        ticks = [every * i for i in range(int(longest // every) + 1)]
    groups = [
        _group_entry(s, population.filter(pl.col("landmark_group") == s.key), horizons, ticks)
        for s in study.strata_for_display
    ]
    present = [g["key"] for g in groups if g["n"]]
    logrank, cox, why = None, None, "fewer than two groups at the landmark"
    if len(present) >= 2:
        # The groups as integer codes in the order their keys sort (text sorts slowly).
        keys = sorted(population["landmark_group"].unique().to_list())
        codes = population["landmark_group"].replace_strict(
            {key: code for code, key in enumerate(keys)}, return_dtype=pl.Int64
        )
        logrank = logrank_test(
            population["time_from_landmark"].to_numpy(),
            population["is_event"].to_numpy(),
            codes.to_numpy(),
            labels=keys,
        )
        cox, why = _landmark_cox(population, study, landmark)
    return LandmarkResult(
        landmark=float(landmark),
        grouping="stratum_start_date" if episodes is None else "episodes",
        methods=dict(METHODS),
        n_input_=adtte.height,
        n_at_risk_=population.height,
        excluded_={
            "total": ended.height,
            "died": int(ended["is_event"].sum()),
            "censored": int((~ended["is_event"]).sum()),
        },
        groups_=groups,
        logrank_=logrank,
        cox_=cox,
        cox_not_estimable_=why,
    )


def _landmark_cox(
    population: pl.DataFrame, study, landmark: float
) -> tuple[CoxResult | None, str | None]:
    """The Cox model from L, or ``None`` and why it cannot be estimated."""
    if not population["is_event"].any():
        return None, "no event after the landmark"
    reference = reference_stratum(study, population["landmark_group"])
    try:
        return cox_ph(
            population,
            time="time_from_landmark",
            event="is_event",
            categorical={"landmark_group": reference},
            level_order={"landmark_group": [s.key for s in study.strata_for_display]},
            labels={s.key: s.label for s in study.strata},
            name=f"landmark {landmark:g} months",
        ), None
    except AnalysisError as error:
        return None, str(error)


def landmark_analyses(
    adtte: pl.DataFrame,
    study,
    *,
    episodes: pl.DataFrame | None = None,
    horizons: Sequence[float] = (12.0,),
) -> list[LandmarkResult]:
    """:func:`landmark_analysis` at each of the study's ``endpoint.landmarks_months``.

    Parameters
    ----------
    adtte, study, episodes, horizons
        As for :func:`landmark_analysis`.

    Returns
    -------
    list of LandmarkResult
        One per landmark, in the study's order.
    """
    return [
        landmark_analysis(adtte, study, float(L), episodes=episodes, horizons=horizons)
        for L in study.endpoint.landmarks_months
    ]
