"""Synthetic registry: contract-conformant submission folders, one per site, from a seed.

The generator draws every patient at once with NumPy (no Python loop per patient) and writes
the four CSV files and ``manifest.json`` of each site with polars. The ``proclaim`` preset
reproduces the cohort of the poster in ``shared/seed/abstract.txt``: its group sizes are exact,
its survival is drawn from Weibull distributions whose median and 12-month survival are the
poster's, and it adds the patients the eligibility criteria must exclude.

Survival times use Latin-hypercube uniforms (one draw per stratum of the unit interval,
shuffled) so a 35-patient group lands near its target instead of wherever chance puts it.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from toolkit.progress import OnStep, no_steps

__all__ = ["SynthSpec", "RegistryGenerator", "PROCLAIM", "KINDS"]

DAYS_PER_MONTH = 30.4375
EPOCH = date(1970, 1, 1)

# Patient kinds. The first three are the poster's strata; the last two must be excluded.
KINDS = ("il2_only", "il2_ipi", "il2_pd1", "excl_prior_checkpoint", "excl_zero_dose")
IL2_ONLY, IL2_IPI, IL2_PD1, EXCL_PRIOR_CP, EXCL_ZERO_DOSE = range(5)


@dataclass(frozen=True)
class SynthSpec:
    """What to generate.

    Attributes
    ----------
    kind_counts : patients of each kind in ``KINDS`` order.
    sites : number of sites; patients are spread over them at random.
    cutoff : the data cutoff the survival targets refer to.
    extract_lags_days : days from the cutoff to each site's extraction, cycled over sites.
    median_os, s12 : per stratum, the median OS (months) and 12-month survival targeted.
    accrual_months : per stratum, (low, high) months between index date and cutoff.
    late_pd1_trap : IL-2-only patients given an anti-PD-1 course after the cutoff (the cutoff
        must keep them in "HD IL-2 only").
    pd_before_pd1 : patients of the anti-PD-1 stratum with progression before that therapy.
    autoimmune_post : per stratum, patients with a treatment-related autoimmune event on or
        after the start of their later checkpoint therapy.
    """

    kind_counts: tuple[int, int, int, int, int]
    sites: int
    cutoff: date = date(2015, 3, 16)
    extract_lags_days: tuple[int, ...] = (0, 4, 9, 14, 21, 30)
    median_os: tuple[float, float, float] = (14.0, 15.8, 28.7)
    s12: tuple[float, float, float] = (0.57, 0.64, 0.97)
    accrual_months: tuple[tuple[float, float], ...] = ((1.0, 31.0), (4.0, 36.0), (16.0, 48.0))
    early_accrual_share: float = 0.10
    loss_to_follow_up_share: float = 0.04
    late_pd1_trap: int = 4
    pd_before_pd1: int = 22
    autoimmune_post: tuple[int, int, int] = (0, 10, 2)
    exact_counts: bool = True

    @property
    def n_patients(self) -> int:
        return sum(self.kind_counts)

    @property
    def site_ids(self) -> tuple[str, ...]:
        """S01, S02, …: one per site."""
        return tuple(f"S{i + 1:02d}" for i in range(self.sites))

    @property
    def site_extract_lags(self) -> tuple[int, ...]:
        """Days from the cutoff to each site's extraction (``extract_lags_days`` cycled)."""
        lags = self.extract_lags_days
        return tuple(lags[i % len(lags)] for i in range(self.sites))

    @property
    def extracted_on(self) -> dict[str, date]:
        """Each site's extraction date, by site id."""
        dates = (self.cutoff + timedelta(days=lag) for lag in self.site_extract_lags)
        return dict(zip(self.site_ids, dates, strict=True))


PROCLAIM = SynthSpec(kind_counts=(123, 78, 35, 8, 5), sites=6)


def scaled_spec(n_patients: int, sites: int | None = None) -> SynthSpec:
    """The proclaim mix scaled to ``n_patients`` (proportions kept, counts rounded)."""
    base = np.array(PROCLAIM.kind_counts, dtype=float)
    counts = np.floor(base / base.sum() * n_patients).astype(int)
    counts[0] += n_patients - counts.sum()
    share = n_patients / PROCLAIM.n_patients
    n_sites = sites or max(1, min(50, n_patients // 2000 or 1))
    return SynthSpec(
        kind_counts=tuple(int(c) for c in counts),
        sites=n_sites,
        late_pd1_trap=int(round(PROCLAIM.late_pd1_trap * share)),
        pd_before_pd1=int(round(counts[IL2_PD1] * PROCLAIM.pd_before_pd1 / 35)),
        autoimmune_post=tuple(
            int(round(counts[k] * PROCLAIM.autoimmune_post[k] / PROCLAIM.kind_counts[k]))
            if PROCLAIM.kind_counts[k]
            else 0
            for k in range(3)
        ),
        exact_counts=False,
    )


def _day(d: date) -> int:
    return (d - EPOCH).days


def weibull_params(median: float, s12: float) -> tuple[float, float]:
    """Shape k and scale λ of the Weibull with the given median and S(12 months)."""
    shape = math.log(math.log(2) / -math.log(s12)) / math.log(median / 12.0)
    scale = median / math.log(2) ** (1 / shape)
    return shape, scale


@dataclass
class _Patients:
    """Per-patient arrays (days since 1970-01-01 for dates)."""

    kind: np.ndarray
    site: np.ndarray
    index_day: np.ndarray
    death_day: np.ndarray  # true death day, may lie after extraction
    extract_day: np.ndarray
    last_contact_day: np.ndarray
    is_dead: np.ndarray
    is_lost: np.ndarray
    later_day: np.ndarray  # start of the stratum-defining later therapy, or -1
    extra: dict[str, np.ndarray] = field(default_factory=dict)


class _Courses:
    """Treatment courses, added part by part (patients, agent as sent, dates, doses, response)."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, who, agent, start, end, doses, response) -> None:
        who = np.asarray(who)
        m = who.size

        def full(x, dtype=None):
            arr = np.asarray(x, dtype=dtype)
            return np.broadcast_to(arr, (m,)).copy() if arr.ndim == 0 else arr

        self.parts.append(
            {
                "patient": who,
                "agent": full(agent, object),
                "start": full(start).astype(np.int64),
                "end": full(end).astype(np.float64),
                "doses": full(doses).astype(np.float64),
                "response": full(response, object),
            }
        )

    def frame(self) -> pl.DataFrame:
        parts = self.parts
        frame = pl.DataFrame(
            {k: np.concatenate([part[k] for part in parts]) for k in parts[0] if k != "agent"}
            | {"agent": pl.Series([x for part in parts for x in part["agent"]], dtype=pl.String)}
            | {
                "response": pl.Series(
                    [x for part in parts for x in part["response"]], dtype=pl.String
                )
            }
        )
        return frame.sort(["patient", "start", "agent"])


def _course_ids(treatments: pl.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per patient index, the treatment_id of the first HD IL-2 course and of the course that
    starts the later therapy (``None`` where there is none)."""
    il2 = (
        treatments.filter(pl.col("agent").is_in(["aldesleukin", "Proleukin", "IL-2"]))
        .group_by("patient")
        .agg(pl.col("treatment_id").first(), pl.col("start").first())
        .sort("patient")
    )
    il2_tid = np.empty(n, dtype=object)
    il2_tid[il2["patient"].to_numpy()] = il2["treatment_id"].to_list()
    later = (
        treatments.filter(pl.col("start") == pl.col("later_day"))
        .group_by("patient")
        .agg(pl.col("treatment_id").first())
        .sort("patient")
    )
    later_tid = np.empty(n, dtype=object)
    later_tid[later["patient"].to_numpy()] = later["treatment_id"].to_list()
    return il2_tid, later_tid


class _Events:
    """Adverse events, added part by part, then one frame."""

    def __init__(self) -> None:
        self.rows: list[pl.DataFrame] = []

    def add(self, who, term, autoimmune, grade, relatedness, onset, tid, outcome) -> None:
        m = len(who)
        if m == 0:
            return

        def col(x):
            arr = np.asarray(x, dtype=object)
            return (np.broadcast_to(arr, (m,)) if arr.ndim == 0 else arr).tolist()

        self.rows.append(
            pl.DataFrame(
                {
                    "patient": np.asarray(who, dtype=np.int64),
                    "onset": np.asarray(onset, dtype=np.int64),
                    "term": pl.Series(col(term), dtype=pl.String),
                    "autoimmune": pl.Series(col(autoimmune), dtype=pl.String),
                    "grade": np.broadcast_to(np.asarray(grade, dtype=np.int64), (m,)),
                    "relatedness": pl.Series(col(relatedness), dtype=pl.String),
                    "ae_treatment_id": pl.Series(col(tid), dtype=pl.String),
                    "outcome": pl.Series(col(outcome), dtype=pl.String),
                }
            )
        )

    def frame(self) -> pl.DataFrame:
        return pl.concat(self.rows).sort(["patient", "onset", "term"])


class RegistryGenerator:
    """Draw a synthetic registry and write it as submission folders.

    Parameters
    ----------
    spec : what to generate.
    seed : the random seed; the same seed and spec give byte-identical files.
    """

    def __init__(self, spec: SynthSpec, seed: int = 20150316):
        self.spec = spec
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    # ----------------------------------------------------------------- patients
    def _lhs(self, n: int) -> np.ndarray:
        """Latin-hypercube uniforms: one draw in each of n equal slices of (0, 1), shuffled."""
        u = (np.arange(n) + self.rng.uniform(0.05, 0.95, n)) / n
        return self.rng.permutation(u)

    def _draw_patients(self) -> _Patients:
        spec, rng = self.spec, self.rng
        kind = np.repeat(np.arange(5), spec.kind_counts)
        n = kind.size
        site = rng.integers(0, spec.sites, n)
        lags = np.array(spec.site_extract_lags)
        cutoff = _day(spec.cutoff)
        extract_day = cutoff + lags[site]

        stratum = np.where(kind <= IL2_PD1, kind, IL2_ONLY)
        lo = np.array([a for a, _ in spec.accrual_months])[stratum]
        hi = np.array([b for _, b in spec.accrual_months])[stratum]
        months_to_cutoff = lo + (hi - lo) * rng.uniform(size=n)
        early = (rng.uniform(size=n) < spec.early_accrual_share) & (stratum != IL2_PD1)
        months_to_cutoff[early] = rng.uniform(36.0, 95.0, early.sum())  # accrual from 2007
        index_day = cutoff - np.round(months_to_cutoff * DAYS_PER_MONTH).astype(np.int64)

        survival_months = np.empty(n)
        for s in range(3):
            members = np.flatnonzero(stratum == s)
            shape, scale = weibull_params(spec.median_os[s], spec.s12[s])
            u = self._lhs(members.size)
            survival_months[members] = scale * (-np.log(u)) ** (1.0 / shape)
        death_day = index_day + np.maximum(np.round(survival_months * DAYS_PER_MONTH), 1)
        death_day = death_day.astype(np.int64)

        lost = rng.uniform(size=n) < spec.loss_to_follow_up_share
        loss_day = index_day + np.round(
            rng.uniform(0.2, 1.0, n) * (extract_day - index_day)
        ).astype(np.int64)
        loss_day = np.where(lost, loss_day, np.iinfo(np.int64).max)
        is_dead = death_day <= np.minimum(extract_day, loss_day)
        is_lost = ~is_dead & lost
        lag = rng.integers(0, 30, n)
        alive_contact = np.maximum(extract_day - lag, index_day + 1)
        last_contact = np.where(is_dead, death_day, np.where(is_lost, loss_day, alive_contact))
        last_contact = np.maximum(last_contact, index_day + 1)

        later_day = np.full(n, -1, dtype=np.int64)
        treated_later = (kind == IL2_IPI) | (kind == IL2_PD1)
        # The later therapy starts while the patient is followed and before the cutoff.
        window_end = np.minimum(last_contact, cutoff) - 14
        frac = rng.uniform(0.15, 0.7, n)
        start = index_day + 21 + np.round(frac * np.maximum(window_end - index_day - 21, 0))
        later_day[treated_later] = start[treated_later].astype(np.int64)
        # A patient dying before day 21 cannot have had the later therapy: push the death back.
        too_early = treated_later & (last_contact < later_day + 14)
        bump = later_day + 14
        death_day = np.where(too_early & is_dead, bump, death_day)
        last_contact = np.where(too_early, np.maximum(last_contact, bump), last_contact)
        return _Patients(
            kind=kind,
            site=site,
            index_day=index_day,
            death_day=death_day,
            extract_day=extract_day,
            last_contact_day=last_contact,
            is_dead=is_dead,
            is_lost=is_lost,
            later_day=later_day,
        )

    def _pick(self, mask: np.ndarray, k: int) -> np.ndarray:
        """k patients chosen at random where ``mask`` holds (all of them if fewer)."""
        idx = np.flatnonzero(mask)
        if self.spec.exact_counts and idx.size < k:
            raise RuntimeError(f"synth: wanted {k} patients, only {idx.size} qualify")
        return np.sort(self.rng.choice(idx, size=min(k, idx.size), replace=False))

    # --------------------------------------------------------------- treatments
    def _treatments(self, p: _Patients) -> pl.DataFrame:
        """All courses, one row each: patient index, agent as sent, dates, doses, response.

        The parts draw from the generator in this order, so a seed gives the same courses.
        """
        courses = _Courses()
        self._courses_before_index(p, courses)
        pd_flag = self._il2_courses(p, courses)
        self._checkpoint_courses(p, courses, pd_flag)
        self._later_courses(p, courses)
        return courses.frame()

    def _courses_before_index(self, p: _Patients, courses: _Courses) -> None:
        rng, n = self.rng, p.kind.size
        everyone = np.arange(n)
        # Prior non-checkpoint therapy for a fifth of patients (line 1 before HD IL-2).
        prior = everyone[rng.uniform(size=n) < 0.2]
        prior_start = p.index_day[prior] - rng.integers(90, 240, prior.size)
        courses.add(
            prior,
            rng.choice(["vemurafenib", "dabrafenib", "dacarbazine", "Zelboraf"], prior.size),
            prior_start,
            p.index_day[prior] - rng.integers(20, 60, prior.size),
            np.nan,
            rng.choice(["PD", "PD", "SD", "PR"], prior.size),
        )
        # Checkpoint before HD IL-2: these patients must be excluded.
        pre = np.flatnonzero(p.kind == EXCL_PRIOR_CP)
        pre_start = p.index_day[pre] - rng.integers(100, 300, pre.size)
        courses.add(pre, "ipilimumab", pre_start, pre_start + 63, 4, "PD")

    def _il2_courses(self, p: _Patients, courses: _Courses) -> np.ndarray:
        """The index and second HD IL-2 courses; returns who progresses on HD IL-2."""
        rng, n = self.rng, p.kind.size
        everyone = np.arange(n)
        cutoff = _day(self.spec.cutoff)
        # The index course of HD IL-2 (0 doses for the zero-dose exclusions).
        zero = p.kind == EXCL_ZERO_DOSE
        il2_doses = np.where(zero, 0, rng.integers(6, 29, n))
        il2_end = np.minimum(
            p.index_day + np.where(zero, 0, rng.integers(4, 22, n)), p.last_contact_day
        )
        pd_flag = self._progression_flags(p)
        il2_resp = np.where(
            pd_flag,
            "PD",
            rng.choice(["SD", "PR", "CR", "SD", "NE"], n),
        )
        il2_resp = np.where(zero, None, il2_resp)
        il2_name = rng.choice(["aldesleukin", "aldesleukin", "aldesleukin", "Proleukin", "IL-2"], n)
        courses.add(everyone, il2_name, p.index_day, il2_end, il2_doses, il2_resp)

        # A second HD IL-2 course for a quarter of those followed long enough.
        second_gap = rng.integers(56, 95, n)
        limit = np.where(p.later_day > 0, p.later_day - 10, p.last_contact_day - 10)
        second = everyone[
            (rng.uniform(size=n) < 0.25)
            & ~zero
            & (p.index_day + second_gap + 6 <= np.minimum(limit, cutoff))
        ]
        s2 = p.index_day[second] + second_gap[second]
        courses.add(
            second,
            "aldesleukin",
            s2,
            s2 + rng.integers(4, 8, second.size),
            rng.integers(4, 15, second.size),
            np.where(pd_flag[second], "PD", "SD"),
        )
        return pd_flag

    def _checkpoint_courses(self, p: _Patients, courses: _Courses, pd_flag: np.ndarray) -> None:
        """The later checkpoint courses of the strata, and the courses after the cutoff."""
        rng, spec = self.rng, self.spec
        cutoff = _day(spec.cutoff)
        # Ipilimumab for the ipilimumab stratum, and before anti-PD-1 for some of that stratum.
        ipi = np.flatnonzero(p.kind == IL2_IPI)
        pd1 = np.flatnonzero(p.kind == IL2_PD1)
        ipi_then_pd1 = pd1[pd_flag[pd1] & (rng.uniform(size=pd1.size) < 0.3)]
        ipi_then_pd1 = ipi_then_pd1[p.later_day[ipi_then_pd1] - p.index_day[ipi_then_pd1] > 150]
        ipi_start = np.concatenate(
            [
                p.later_day[ipi],
                p.index_day[ipi_then_pd1]
                + (p.later_day[ipi_then_pd1] - p.index_day[ipi_then_pd1]) // 3,
            ]
        )
        ipi_who = np.concatenate([ipi, ipi_then_pd1])
        courses.add(
            ipi_who,
            rng.choice(["ipilimumab", "ipilimumab", "Yervoy"], ipi_who.size),
            ipi_start,
            np.minimum(ipi_start + 63, p.last_contact_day[ipi_who]),
            rng.integers(1, 5, ipi_who.size),
            rng.choice(["PD", "SD", "PR", "PD"], ipi_who.size),
        )
        pd1_agent = rng.choice(
            ["pembrolizumab", "nivolumab", "Keytruda", "Opdivo", "atezolizumab"],
            pd1.size,
            p=[0.35, 0.3, 0.15, 0.12, 0.08],
        )
        ongoing = ~p.is_dead[pd1]
        courses.add(
            pd1,
            pd1_agent,
            p.later_day[pd1],
            np.where(ongoing, np.nan, p.last_contact_day[pd1]),
            np.nan,
            rng.choice(["PR", "SD", "CR", "PD", None], pd1.size),
        )

        # Trap: IL-2-only patients whose anti-PD-1 starts after the cutoff.
        trap_ok = (p.kind == IL2_ONLY) & (p.last_contact_day > cutoff + 2)
        trap = self._pick(trap_ok, spec.late_pd1_trap)
        trap_start = cutoff + 1 + (p.last_contact_day[trap] - cutoff - 1) // 2
        courses.add(trap, "pembrolizumab", trap_start, np.nan, np.nan, None)

    def _later_courses(self, p: _Patients, courses: _Courses) -> None:
        rng, n = self.rng, p.kind.size
        # Chemotherapy or targeted therapy later for some HD IL-2-only patients.
        later = np.flatnonzero(
            (p.kind == IL2_ONLY)
            & (rng.uniform(size=n) < 0.2)
            & (p.last_contact_day - p.index_day > 120)
        )
        later_start = p.index_day[later] + (p.last_contact_day[later] - p.index_day[later]) // 2
        courses.add(
            later,
            rng.choice(["dacarbazine", "temozolomide", "dabrafenib", "trametinib"], later.size),
            later_start,
            np.minimum(later_start + 42, p.last_contact_day[later]),
            np.nan,
            rng.choice(["PD", "SD"], later.size),
        )

    def _progression_flags(self, p: _Patients) -> np.ndarray:
        """Which patients progress on HD IL-2 (before any later therapy)."""
        n = p.kind.size
        flags = self.rng.uniform(size=n) < 0.55
        pd1 = np.flatnonzero(p.kind == IL2_PD1)
        chosen = self.rng.choice(pd1, size=min(self.spec.pd_before_pd1, pd1.size), replace=False)
        flags[pd1] = False
        flags[chosen] = True
        return flags

    # ------------------------------------------------------------- assessments
    def _assessments(self, p: _Patients, treatments: pl.DataFrame) -> pl.DataFrame:
        """Scans every ~12 weeks from 8 weeks after the index date while the patient is followed.

        Responses before a patient's progression day are SD/PR/CR, from it on PD. Patients of the
        anti-PD-1 stratum without recorded progression only progress after that therapy starts.
        """
        rng = self.rng
        n = p.kind.size
        il2_pd = (
            treatments.filter(pl.col("agent").is_in(["aldesleukin", "Proleukin", "IL-2"]))
            .group_by("patient")
            .agg((pl.col("response") == "PD").any().alias("pd"))
            .sort("patient")
        )
        pd_flag = np.zeros(n, dtype=bool)
        pd_flag[il2_pd["patient"].to_numpy()] = il2_pd["pd"].fill_null(False).to_numpy()
        span = p.last_contact_day - p.index_day
        count = np.clip((span - 56) // 84 + 1, 0, 10)
        who = np.repeat(np.arange(n), count)
        k = np.arange(who.size) - np.repeat(np.cumsum(count) - count, count)
        day = p.index_day[who] + 56 + 84 * k + rng.integers(-7, 8, who.size)
        day = np.minimum(day, p.last_contact_day[who])
        progression_day = p.index_day + np.round(rng.uniform(0.2, 0.8, n) * span)
        no_pd_pd1 = (p.kind == IL2_PD1) & ~pd_flag
        progression_day = np.where(no_pd_pd1, p.later_day + 30, progression_day)
        progression_day = np.where(pd_flag & (p.later_day > 0), p.later_day - 1, progression_day)
        progressed = day >= progression_day[who]
        response = np.where(progressed, "PD", rng.choice(["SD", "PR", "SD", "CR", "NE"], who.size))
        method = rng.choice(["RECIST", "RECIST", "irRC", "clinical", None], who.size)
        return pl.DataFrame(
            {
                "patient": who,
                "day": day.astype(np.int64),
                "response": pl.Series(response.tolist(), dtype=pl.String),
                "method": pl.Series(method.tolist(), dtype=pl.String),
            }
        ).unique(["patient", "day"], keep="first", maintain_order=True)

    # ---------------------------------------------------------- adverse events
    def _adverse_events(self, p: _Patients, treatments: pl.DataFrame) -> pl.DataFrame:
        """Adverse events: HD IL-2 toxicity, and autoimmune events and decoys after the later
        therapy. The parts draw from the generator in this order."""
        il2_tid, later_tid = _course_ids(treatments, p.kind.size)
        ae = _Events()
        self._il2_events(p, ae, il2_tid)
        self._later_therapy_events(p, ae, later_tid)
        return ae.frame()

    def _il2_events(self, p: _Patients, ae: _Events, il2_tid: np.ndarray) -> None:
        rng = self.rng
        dosed = np.flatnonzero(p.kind != EXCL_ZERO_DOSE)
        # Acute HD IL-2 toxicity: common, related, not autoimmune.
        acute = dosed[rng.uniform(size=dosed.size) < 0.6]
        ae.add(
            acute,
            rng.choice(
                ["hypotension", "capillary leak syndrome", "renal insufficiency", "fever"],
                acute.size,
            ),
            "no",
            rng.integers(1, 4, acute.size),
            rng.choice(["related", "related", "possibly_related"], acute.size),
            np.minimum(
                p.index_day[acute] + rng.integers(1, 5, acute.size), p.last_contact_day[acute]
            ),
            il2_tid[acute],
            "resolved",
        )
        # Autoimmune events on HD IL-2, before any later therapy: not "post-therapy".
        room = np.where(p.later_day > 0, p.later_day, p.last_contact_day) - p.index_day
        early = dosed[(rng.uniform(size=dosed.size) < 0.1) & (room[dosed] > 20)]
        ae.add(
            early,
            rng.choice(["vitiligo", "thyroiditis"], early.size),
            "yes",
            rng.integers(1, 3, early.size),
            "related",
            p.index_day[early] + np.maximum(room[early] // 3, 1),
            il2_tid[early],
            rng.choice(["resolved", "ongoing"], early.size),
        )

    def _later_therapy_events(self, p: _Patients, ae: _Events, later_tid: np.ndarray) -> None:
        rng, spec = self.rng, self.spec
        cutoff = _day(spec.cutoff)
        # Post-therapy, treatment-related autoimmune events: exact counts per stratum.
        terms = {
            IL2_IPI: ["colitis", "hypophysitis", "dermatitis", "hepatitis"],
            IL2_PD1: ["thyroiditis", "pneumonitis", "colitis"],
        }
        followed_after = np.minimum(p.last_contact_day, cutoff) - p.later_day
        for stratum, k in ((IL2_IPI, spec.autoimmune_post[1]), (IL2_PD1, spec.autoimmune_post[2])):
            who = self._pick((p.kind == stratum) & (followed_after >= 21), k)
            onset = p.later_day[who] + 7 + (followed_after[who] - 7) * rng.uniform(0, 0.5, who.size)
            ae.add(
                who,
                rng.choice(terms[stratum], who.size),
                "yes",
                rng.integers(2, 4, who.size),
                rng.choice(["related", "possibly_related"], who.size),
                np.round(onset),
                later_tid[who],
                rng.choice(["resolved", "ongoing"], who.size),
            )
        # Decoys that the definition must not count: unrelated autoimmune, related non-autoimmune.
        treated = np.flatnonzero((p.later_day > 0) & (followed_after >= 21))
        decoy = treated[rng.uniform(size=treated.size) < 0.15]
        ae.add(
            decoy,
            rng.choice(["arthritis", "psoriasis flare"], decoy.size),
            "yes",
            1,
            "unrelated",
            p.later_day[decoy] + followed_after[decoy] // 2,
            None,
            "ongoing",
        )
        fatigue = treated[rng.uniform(size=treated.size) < 0.3]
        ae.add(
            fatigue,
            "fatigue",
            "no",
            rng.integers(1, 3, fatigue.size),
            "possibly_related",
            p.later_day[fatigue] + followed_after[fatigue] // 3,
            later_tid[fatigue],
            "resolved",
        )

    # -------------------------------------------------------------- write out
    def generate(self) -> dict[str, pl.DataFrame]:
        """Draw the registry: one typed frame per contract file, each with ``site_id``."""
        p = self._draw_patients()
        ids = self._identifiers(p)
        treatments = self._treatments(p)
        treatments = (
            treatments.with_columns(
                later_day=pl.Series(p.later_day)[treatments["patient"].to_numpy()]
            )
            .join(ids, on="patient", how="left")
            .sort(["_order", "start", "agent"])
            .with_columns(
                treatment_id=_numbered("T"),
                line=pl.int_range(1, pl.len() + 1).over("patient"),
            )
        )
        adverse = (
            self._adverse_events(p, treatments)
            .join(ids, on="patient", how="left")
            .sort(["_order", "onset", "term"])
            .with_columns(ae_id=_numbered("AE"))
        )
        assessments = (
            self._assessments(p, treatments)
            .join(ids, on="patient", how="left")
            .sort(["_order", "day"])
        )
        patients = self._patient_table(p, treatments).join(ids, on="patient", how="left")
        self.patients_ = p
        return {
            "patients": patients.sort("_order"),
            "treatments": treatments.with_columns(
                start_date=_as_date("start"),
                end_date=_as_date("end"),
                doses=pl.col("doses").fill_nan(None).cast(pl.Int64),
                best_response=pl.col("response"),
            ),
            "adverse_events": adverse.with_columns(
                onset_date=_as_date("onset"), treatment_id=pl.col("ae_treatment_id")
            ),
            "assessments": assessments.with_columns(assessment_date=_as_date("day")),
        }

    def _identifiers(self, p: _Patients) -> pl.DataFrame:
        """Zero-padded numeric patient ids, numbered in random order within each site."""
        n = p.kind.size
        order = np.lexsort((self.rng.permutation(n), p.site))
        counts = np.bincount(p.site, minlength=self.spec.sites)
        local = np.empty(n, dtype=np.int64)
        local[order] = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
        site_ids = np.array(self.spec.site_ids)
        return pl.DataFrame(
            {
                "patient": np.arange(n),
                "patient_id": pl.Series(local + 1).cast(pl.String).str.zfill(6),
                "site_id": site_ids[p.site],
                "_order": p.site.astype(np.int64) * n + local,  # sorts as (site_id, patient_id)
            }
        )

    def _patient_table(self, p: _Patients, treatments: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng
        n = p.kind.size
        first_treatment = (
            treatments.group_by("patient").agg(pl.col("start").min()).sort("patient")["start"]
        ).to_numpy()
        diagnosis = first_treatment - rng.integers(10, 200, n)
        age = np.clip(np.round(rng.normal(54, 11, n)), 19, 84).astype(np.int64)
        index_year = pl.Series(p.index_day).cast(pl.Int32).cast(pl.Date).dt.year().to_numpy()
        dead = p.is_dead

        def codes(values, probs):
            return pl.Series(rng.choice(values, n, p=probs).tolist(), dtype=pl.String)

        return pl.DataFrame(
            {
                "patient": np.arange(n),
                "sex": codes(["M", "F", "U"], [0.62, 0.375, 0.005]),
                "birth_year": index_year.astype(np.int64) - age,
                "diagnosis_date": diagnosis,
                "primary_site": codes(
                    ["cutaneous", "acral", "mucosal", "uveal", "unknown_primary", None],
                    [0.70, 0.05, 0.04, 0.03, 0.15, 0.03],
                ),
                "m_stage": codes(["M1a", "M1b", "M1c", "M1d", None], [0.2, 0.25, 0.48, 0.05, 0.02]),
                "ecog": pl.Series(
                    rng.choice(np.array([0, 1, 2, -1]), n, p=[0.68, 0.28, 0.02, 0.02])
                ),
                "ldh_elevated": codes(["yes", "no", "unknown", None], [0.25, 0.65, 0.05, 0.05]),
                "brain_metastases": codes(["yes", "no", "unknown", None], [0.08, 0.88, 0.02, 0.02]),
                "braf_status": codes(
                    ["mutant", "wildtype", "unknown", None], [0.45, 0.45, 0.07, 0.03]
                ),
                "vital_status": np.where(
                    dead, "dead", np.where(p.is_lost, "lost_to_follow_up", "alive")
                ),
                "last_contact": p.last_contact_day,
                "death": np.where(dead, p.death_day, -1),
                "cause_of_death": pl.Series(
                    np.where(
                        dead, rng.choice(np.array(["melanoma"] * 18 + ["other", "unknown"]), n), ""
                    )
                ),
            }
        ).with_columns(
            ecog=pl.when(pl.col("ecog") >= 0).then(pl.col("ecog")),
            diagnosis_date=_as_date("diagnosis_date"),
            last_contact_date=_as_date("last_contact"),
            death_date=pl.when(pl.col("death") >= 0).then(_as_date("death")),
            cause_of_death=pl.when(pl.col("cause_of_death") != "").then(pl.col("cause_of_death")),
        )


def _numbered(prefix: str) -> pl.Expr:
    """Identifiers ``<prefix>0000001``, ``<prefix>0000002``, … in row order."""
    return pl.format(
        "{}{}", pl.lit(prefix), pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(7)
    )


def _as_date(column: str) -> pl.Expr:
    """Whole days since 1970-01-01 (NaN or null → missing) as a date."""
    return pl.col(column).cast(pl.Int32, strict=False).cast(pl.Date)


@functools.cache
def contract_columns() -> dict[str, list[str]]:
    """Each contract file's columns in order, read from the pandera models in ``schemas/``."""
    from schemas.codes import TABLE_NAME
    from schemas.models import MODELS

    return {TABLE_NAME[file]: list(model.to_schema().columns) for file, model in MODELS.items()}


def as_text(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Each file's contract columns, in order, as the text a site sends, plus ``_site``."""
    return {
        name: tables[name].select(
            pl.col("site_id").alias("_site"),
            *[pl.col(c).cast(pl.String).alias(c) for c in columns],
        )
        for name, columns in contract_columns().items()
    }


def write_submissions(
    text_tables: dict[str, pl.DataFrame], spec: SynthSpec, out_dir: Path
) -> list[Path]:
    """One folder per site with ``manifest.json`` and the four CSV files."""
    from schemas.codes import CONTRACT_VERSION

    out_dir.mkdir(parents=True, exist_ok=True)
    folders = []
    by_site = {
        name: frame.partition_by("_site", as_dict=True, include_key=False)
        for name, frame in text_tables.items()
    }
    for site_id, extracted in spec.extracted_on.items():
        folder = out_dir / site_id
        folder.mkdir(exist_ok=True)
        manifest = {
            "site_id": site_id,
            "contract_version": CONTRACT_VERSION,
            "extracted_on": extracted.isoformat(),
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        for name, columns in contract_columns().items():
            empty = pl.DataFrame(schema={c: pl.String for c in columns})
            frame = by_site[name].get((site_id,), empty).select(columns)
            frame.write_csv(folder / f"{name}.csv", quote_style="necessary", line_terminator="\n")
        folders.append(folder)
    return folders


PROCLAIM_SEED = 16
"""The proclaim preset's seed: of seeds 0–29, the draw whose medians, 12-month rates and
follow-up sit closest to the poster (the synthetic cohort is one draw, not a fit)."""


def synthesise(
    out_dir: Path,
    *,
    preset: str | None = None,
    patients: int | None = None,
    sites: int | None = None,
    seed: int | None = None,
    error_rate: float = 0.0,
    on_step: OnStep = no_steps,
) -> str:
    """Generate and write a registry; return a one-line summary for the user. ``on_step``
    hears of the steps (generating, injecting errors, writing the files)."""
    if preset == "proclaim":
        spec = PROCLAIM if sites is None else replace(PROCLAIM, sites=sites)
        seed = PROCLAIM_SEED if seed is None else seed
    else:
        spec = scaled_spec(int(patients), sites)
        seed = 1 if seed is None else seed
    generator = RegistryGenerator(spec, seed=seed)
    text = as_text(generator.generate())
    injected = None
    if error_rate > 0:
        from toolkit.synth_errors import inject_errors

        on_step("injecting contract violations")
        rng = np.random.default_rng(seed + 1)
        text, injected = inject_errors(text, spec.extracted_on, error_rate, rng)
    on_step("writing the site submissions")
    folders = write_submissions(text, spec, out_dir)
    if injected is not None:
        injected.write_csv(out_dir / "injected.csv", line_terminator="\n")
    on_step(None)
    rows = {name: frame.height for name, frame in text.items()}
    extra = (
        f"; {injected.height} injected violations in injected.csv" if injected is not None else ""
    )
    return (
        f"wrote {len(folders)} site submission{'' if len(folders) == 1 else 's'} to {out_dir} "
        f"(seed {seed}): "
        + ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in rows.items())
        + extra
    )
