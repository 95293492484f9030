"""Simon–Makuch curves of the study's strata, from the cohort's episodes.

Study-bound glue over the estimator :func:`toolkit.survival.simon_makuch.extended_kaplan_meier`:
one curve per stratum in the study's display order, S(t) at the study's landmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from toolkit.survival._common import result_dict
from toolkit.survival.simon_makuch import METHODS, SimonMakuchCurve, extended_kaplan_meier

__all__ = ["SimonMakuchResult", "simon_makuch"]


@dataclass(frozen=True)
class SimonMakuchResult:
    """Simon–Makuch curves of every group.

    Attributes
    ----------
    methods : the methods, in words.
    n_patients_ : patients in the data.
    groups_ : one :class:`SimonMakuchCurve` per group, in display order.
    """

    methods: dict[str, str]
    n_patients_: int
    groups_: list[SimonMakuchCurve]

    def group(self, key: str) -> SimonMakuchCurve:
        """The curve of the group ``key``."""
        return next(g for g in self.groups_ if g.key == key)

    def to_dict(self) -> dict:
        """JSON-able form (fitted names without the trailing ``_``)."""
        return result_dict(self)


def simon_makuch(
    episodes: pl.DataFrame,
    study,
    *,
    at_times: Sequence[float] | None = None,
    ticks: Sequence[float] = (),
    from_at_risk: int = 0,
) -> SimonMakuchResult:
    """Simon–Makuch curves of the study's strata from the cohort's episodes.

    Parameters
    ----------
    episodes : polars.DataFrame
        ``patient_key``, ``episode_stratum_key``, ``tstart`` and ``tstop`` (months),
        ``is_event``.
    study : toolkit.study.Study
        The strata (in display order) and landmarks.
    at_times : sequence of float, optional
        Times of S(t) (default: the study's landmarks).
    ticks : sequence of float
        Times of the numbers at risk (the report's, so that every figure's table has the same
        columns; none by default).
    from_at_risk : int
        Each curve starts at its first death with at least this many at risk, conditional on
        reaching it (see :func:`~toolkit.survival.simon_makuch.extended_kaplan_meier`).

    Returns
    -------
    SimonMakuchResult
    """
    if at_times is None:
        at_times = study.endpoint.landmarks_months
    # Integer patient codes: the patient counts need distinct ids, and text ids sort slowly.
    coded = episodes.with_columns(
        pl.col("patient_key").rank("dense").alias("patient_code"),
        # a patient's last episode ends the follow-up; the others end at a later therapy
        (
            (pl.col("tstop") == pl.col("tstop").max().over("patient_key")) & ~pl.col("is_event")
        ).alias("is_censored"),
    )
    groups = []
    for stratum in study.strata_for_display:
        rows = coded.filter(pl.col("episode_stratum_key") == stratum.key)
        groups.append(
            extended_kaplan_meier(
                rows["tstart"].to_numpy(),
                rows["tstop"].to_numpy(),
                rows["is_event"].to_numpy(),
                ids=rows["patient_code"].to_numpy(),
                censored=rows["is_censored"].to_numpy(),
                key=stratum.key,
                label=stratum.label,
                at_times=at_times,
                ticks=ticks,
                from_at_risk=from_at_risk,
            )
        )
    return SimonMakuchResult(
        methods=dict(METHODS),
        n_patients_=episodes["patient_key"].n_unique(),
        groups_=groups,
    )
