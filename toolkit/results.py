"""The report context declared: the shape of every key the report and ``results.json`` carry.

The report context is built by :func:`toolkit.report_context.build_context` (with the strata
comparisons of :mod:`toolkit.analyses.comparisons`), cut by :mod:`toolkit.disclosure` for an
edition, rendered by the templates and saved as ``results.json``. This module declares it, as
typed dicts, so that every producer and reader works to one documented shape:

- :func:`declared` validates a context against :class:`ReportContext` (strict types, no key that
  is not declared) and returns it in declaration order; the pipeline renders and saves only
  what it returns.
- :func:`json_schema` is the JSON Schema of ``results.json``, checked in as
  ``schemas/results-v1.schema.json`` (``python -m toolkit.results`` writes it).
- Every integer is declared either a :data:`Count` (a number of patients, events, records:
  what disclosure control must cover; ``"x-count": true`` in the schema) or a
  :data:`NonCount` (degrees of freedom, iterations, thresholds, numbers of sites or
  warnings; ``"x-count": false``). ``tests/test_results.py`` fails when a count is neither
  suppressed by the sponsor edition nor listed as a known gap.

A count is an integer, or in a suppressed edition the marker that replaced it: ``"<K"``
(primary suppression) or ``"*"`` (complementary). The sponsor edition keeps of the strata
comparisons only whether the grouping depends on events after the index date
(:class:`SponsorComparisons`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    ConfigDict,
    Field,
    NonNegativeInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    with_config,
)

# pydantic reads typing.TypedDict only from Python 3.12 on
from typing_extensions import TypedDict

from toolkit.errors import AnalysisError

__all__ = [
    "CompareContext",
    "Count",
    "NonCount",
    "ReportContext",
    "SCHEMA_PATH",
    "declared",
    "json_schema",
]

#: The checked-in JSON Schema of ``results.json``.
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "results-v1.schema.json"
SCHEMA_ID = "urn:registry-toolkit:results:v1"

#: No undeclared key, no coercion, and no NaN or infinity (which JSON cannot carry).
_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

#: What a suppressed count shows: ``"<11"`` (below the threshold) or ``"*"`` (complementary).
Marker = Annotated[str, StringConstraints(pattern=r"^(<[1-9][0-9]*|\*)$")]

#: A number of patients, events or records: disclosure control must cover it.
Count = Annotated[NonNegativeInt | Marker, Field(json_schema_extra={"x-count": True})]
#: A number of events that the estimator keeps as a float (the log-rank observed events).
EventCount = Annotated[float, Field(ge=0, json_schema_extra={"x-count": True})]
#: An integer that counts no patients: degrees of freedom, iterations, thresholds, sites.
NonCount = Annotated[int, Field(json_schema_extra={"x-count": False})]
#: An age, or the top code that replaced it in the sponsor edition (``"90+"``).
Age = float | Annotated[str, StringConstraints(pattern=r"^[0-9]+\+$")] | None
#: A suppressed edition's estimate where fewer than K remain at risk, ``"NE (<11 at risk)"``,
#: a rate resting on fewer than K events, ``"NE (<11 events)"``, or a CI limit, ``"NE"``.
NotEstimable = Annotated[
    str, StringConstraints(pattern=r"^NE( \(<[1-9][0-9]* (at risk|events)\))?$")
]
#: An estimate: a number, ``None`` (not reached, or not estimable from the data), or hidden.
Estimate = float | None | NotEstimable
#: A confidence interval: lower and upper limit, ``None`` where a limit is not reached.
Interval = list[Estimate]


# --- survival summaries -----------------------------------------------------------------------


@with_config(_STRICT)
class Quantile(TypedDict):
    """A survival quantile: ``p``, the first time S(t) <= 1 - p, and its CI."""

    p: float
    time: Estimate
    ci: Interval


@with_config(_STRICT)
class SurvivalAt(TypedDict):
    """S(t) at a landmark time, with its CI and the number at risk then."""

    time: float
    estimate: Estimate
    ci: Interval
    at_risk: Count


@with_config(_STRICT)
class AtRiskInterval(TypedDict):
    """One column of the number-at-risk table: at risk at ``time``, events and censored in the
    interval that ends there (``"–"`` where the table has no censored count)."""

    time: float
    at_risk: Count
    events: Count
    censored: Count | Literal["–"]


@with_config(_STRICT)
class Curve(TypedDict):
    """A survival curve's steps: one entry per event or censoring time (a suppressed edition
    keeps the steps up to ``shown_until``, rounded, without the per-step counts)."""

    time: list[float]
    survival: list[float]
    ci_lower: list[float | None]
    ci_upper: list[float | None]
    at_risk: NotRequired[list[Count]]
    events: NotRequired[list[Count]]


@with_config(_STRICT)
class CensorMarks(TypedDict):
    """Where the censored patients' ticks are drawn on a curve."""

    time: list[float]
    survival: list[float]


@with_config(_STRICT)
class KaplanMeierMethods(TypedDict):
    """The estimator, CI and quantile rules of a Kaplan–Meier summary, in words."""

    estimator: str
    ci: str
    quantile: str
    quantile_ci: str


@with_config(_STRICT)
class KaplanMeierSummary(TypedDict):
    """A Kaplan–Meier summary of one group (:class:`toolkit.survival.KMSummary`)."""

    key: str
    label: str
    n: Count
    events: Count
    censored: Count
    median: Estimate
    median_ci: Interval
    quantiles: list[Quantile]
    survival_at: list[SurvivalAt]
    at_risk: list[AtRiskInterval]
    curve: Curve
    censor_marks: CensorMarks
    conf_type: str
    conf_level: float
    method: KaplanMeierMethods


@with_config(_STRICT)
class OverallSummary(KaplanMeierSummary):
    """All patients; in a suppressed edition the curve stops at ``shown_until``; Table 2's
    deaths and censored as percentages of the patients."""

    events_pct: NotRequired[float | None]
    censored_pct: NotRequired[float | None]
    shown_until: NotRequired[float | None]


@with_config(_STRICT)
class StratumCounts(TypedDict):
    """The poster's per-stratum counts, from the metrics SQL."""

    progressed_before_later_therapy: Count
    related_autoimmune_post_therapy: Count
    treatment_related_deaths: Count


@with_config(_STRICT)
class StratumSummary(KaplanMeierSummary):
    """One stratum: its Kaplan–Meier summary, whether later therapy defines it, its counts;
    in a suppressed edition the curve stops at ``shown_until``."""

    later_therapy: bool
    counts: StratumCounts
    followup: FollowUp | None
    events_pct: float | None
    censored_pct: float | None
    shown_until: NotRequired[float | None]


@with_config(_STRICT)
class FollowUp(TypedDict):
    """Median follow-up by the reverse Kaplan–Meier method."""

    n: Count
    median: Estimate
    ci: Interval
    potential_median: float | None
    conf_type: str
    conf_level: float
    method: str
    potential_method: str


# --- the study, cohort and tables ------------------------------------------------------------


@with_config(_STRICT)
class Texts(TypedDict):
    """The study's own texts and the cautions its design calls for."""

    background: str
    conclusions: str
    cautions: list[str]


@with_config(_STRICT)
class Methods(TypedDict):
    """The Methods section, in words."""

    eligibility: str
    exclusions: str
    index_date: str
    strata: list[str]
    endpoint: str
    censoring: str
    km_method: str
    ci_method: str
    median_ci_method: str
    followup_method: str
    time_unit: str


@with_config(_STRICT)
class FlowStep(TypedDict):
    """One eligibility step: patients remaining, and those excluded at it and why."""

    label: str
    n: Count
    excluded: Count
    reason: str | None


@with_config(_STRICT)
class Exclusion(TypedDict):
    """Patients excluded for one reason."""

    reason: str
    n: Count


@with_config(_STRICT)
class CohortFlow(TypedDict):
    """The patients analysed and the eligibility flow."""

    n_analysed: Count
    flow: list[FlowStep]
    excluded: list[Exclusion]


@with_config(_STRICT)
class TableColumn(TypedDict):
    """A column of Table 1 or the safety table: a stratum, or all patients (``overall``)."""

    key: str
    label: str
    n: Count


@with_config(_STRICT)
class AgeCell(TypedDict):
    """Age in one column: median, quartiles, range, and the patients without an age."""

    median: Age
    q1: Age
    q3: Age
    minimum: Age
    maximum: Age
    n_missing: Count


@with_config(_STRICT)
class KruskalWallis(TypedDict):
    """The Kruskal–Wallis test of age across the strata."""

    name: str
    statistic: float
    df: NonCount
    p_value: float


@with_config(_STRICT)
class AgeRow(TypedDict):
    """Table 1's age row."""

    key: str
    label: str
    cells: list[AgeCell]
    test: KruskalWallis | None


@with_config(_STRICT)
class LevelCell(TypedDict):
    """n (%) of one level in one column."""

    n: Count
    pct: float | None


@with_config(_STRICT)
class Level(TypedDict):
    """One level of a categorical covariate."""

    key: str
    label: str
    cells: list[LevelCell]


@with_config(_STRICT)
class CategoricalTest(TypedDict):
    """Chi-square, or Fisher's exact test by Monte Carlo (``resamples``) for sparse tables."""

    name: str
    statistic: float | None
    df: NonCount | None
    resamples: NotRequired[NonCount]
    seed: NotRequired[NonCount]
    p_value: float


@with_config(_STRICT)
class CovariateRows(TypedDict):
    """A categorical covariate of Table 1 with its test across the strata."""

    key: str
    label: str
    levels: list[Level]
    test: CategoricalTest | None


@with_config(_STRICT)
class Table1(TypedDict):
    """Table 1: baseline characteristics by stratum and overall."""

    groups: list[TableColumn]
    age: AgeRow | None
    covariates: list[CovariateRows]
    missing_excluded_from_tests: bool


@with_config(_STRICT)
class SafetyCell(TypedDict):
    """n/N (%) of one safety row in one column; ``n`` is ``None`` where the row does not
    apply to the stratum."""

    n: Count | None
    N: Count
    pct: float | None


@with_config(_STRICT)
class SafetyRow(TypedDict):
    """One row of the adverse-events table, with its total over the strata it applies to
    that share one window (``total_over``: their keys)."""

    key: str
    label: str
    later_only: bool
    cells: list[SafetyCell]
    total_over: list[str]
    total: SafetyCell


@with_config(_STRICT)
class IncidenceAt(TypedDict):
    """The cumulative incidence at one time, with its CI, the patients still at risk then
    and the events up to it (a suppressed edition keeps neither count)."""

    time: float
    estimate: Estimate
    ci: Interval
    at_risk: Count | None
    events: Count | None


@with_config(_STRICT)
class IncidenceGroup(TypedDict):
    """One stratum's cumulative incidence and incidence rate of the safety event (a suppressed
    edition keeps no count of them, nor the person-years that would give the events back)."""

    key: str
    label: str
    window: str
    n: Count
    events: Count | None
    deaths_before: Count | None
    person_years: float | None
    rate: Estimate
    rate_ci: Interval
    at: list[IncidenceAt]


@with_config(_STRICT)
class GrayTestResult(TypedDict):
    """Gray's test among the strata that share a window."""

    groups: list[str]
    keys: list[str]
    window: str
    statistic: float | None
    df: NonCount
    p: Estimate


@with_config(_STRICT)
class IncidenceMethods(TypedDict):
    """The safety analysis's methods, in words."""

    estimator: str
    variance: str
    ci: str
    rate: str
    test: str


@with_config(_STRICT)
class SafetyIncidence(TypedDict):
    """Cumulative incidence of the safety event, death competing, by stratum."""

    times: list[float]
    groups: list[IncidenceGroup]
    gray: GrayTestResult | None
    methods: IncidenceMethods


@with_config(_STRICT)
class Safety(TypedDict):
    """The adverse-events table."""

    columns: list[TableColumn]
    rows: list[SafetyRow]
    description: str
    total_note: str
    incidence: SafetyIncidence


@with_config(_STRICT)
class Submission(TypedDict):
    """One submission the cutoff used (internal edition only)."""

    site_id: str
    extracted_on: str | None
    sha256: str
    rows: dict[str, Count]
    n_warnings: NonCount


@with_config(_STRICT)
class SincePrevious(TypedDict):
    """What changed in the registry's data since the previous frozen cutoff (``toolkit
    compare`` lists each change): patients new to a site's extract or gone from it, deaths
    added, reported dates that moved."""

    previous_cutoff: str
    new_patients: Count
    patients_dropped: Count
    deaths_added: Count
    dates_changed: Count
    treatment_dates_changed: Count


@with_config(_STRICT)
class Provenance(TypedDict):
    """The submissions the cutoff used: their number, rows per file, one hash of the set."""

    n_submissions: NonCount
    n_sites: NonCount
    set_sha256: str
    set_sha256_method: str
    extracted_from: str | None
    extracted_to: str | None
    rows_total: dict[str, Count]
    n_warnings_total: NonCount
    submissions: list[Submission]
    since_previous: SincePrevious | None


@with_config(_STRICT)
class Software(TypedDict):
    """The versions that computed the report."""

    toolkit: str
    python: str
    duckdb: str
    lifelines: str
    numpy: str
    pandera: str
    polars: str
    scipy: str
    weasyprint: str
    spark: NotRequired[str]  # when the cohort SQL ran on Spark, translated by sqlglot
    sqlglot: NotRequired[str]


@with_config(_STRICT)
class Disclosure(TypedDict):
    """What disclosure control did; the markers and numbers only when it suppressed."""

    suppressed: bool
    threshold: NonCount | None
    primary_marker: NotRequired[str]
    complementary_marker: NotRequired[str]
    n_primary: NotRequired[NonCount]
    n_complementary: NotRequired[NonCount]
    rules: list[str]


@with_config(_STRICT)
class RmstCell(TypedDict):
    """Restricted mean survival time of a group, with its CI and standard error (not estimable
    in a suppressed edition when the horizon lies after the group's curve stops)."""

    estimate: float | NotEstimable
    ci: Interval
    se: float | None


@with_config(_STRICT)
class RmstDifferenceCell(TypedDict):
    """A stratum's RMST minus the reference stratum's, with its CI and p."""

    estimate: float | NotEstimable
    ci: Interval
    p: float | None


@with_config(_STRICT)
class Rmst(TypedDict):
    """RMST up to ``tau`` overall and by stratum key (``None`` without a horizon)."""

    tau: float | None
    overall: RmstCell | None
    strata: dict[str, RmstCell]
    reference: str | None
    differences: dict[str, RmstDifferenceCell]


# --- models and tests of the strata comparisons ----------------------------------------------


@with_config(_STRICT)
class ChiSquareTest(TypedDict):
    """A chi-square statistic, its degrees of freedom and p-value."""

    chisq: float | None
    df: NonCount
    p: float | None


@with_config(_STRICT)
class TermTest(TypedDict):
    """A chi-square test of one covariate (all its coefficients), or of one cox.zph term."""

    term: str
    chisq: float | None
    df: NonCount
    p: float | None


@with_config(_STRICT)
class ModelTests(TypedDict):
    """The model's global tests."""

    likelihood_ratio: ChiSquareTest
    wald: ChiSquareTest
    score: ChiSquareTest


#: cox.zph: the proportional-hazards test of each term and globally (the functional form,
#: since ``global`` is a Python keyword).
PhTest = with_config(_STRICT)(
    TypedDict(
        "PhTest",
        {"terms": list[TermTest], "global": ChiSquareTest, "transform": str, "method": str},
    )
)


@with_config(_STRICT)
class CoxMethods(TypedDict):
    """The Cox model's methods, in words."""

    model: str
    ties: str
    estimation: str
    engine: str
    ci: str
    p: str
    tests: str
    ph_test: str
    coding: str
    aliasing: str
    missing: str


@with_config(_STRICT)
class DroppedMissing(TypedDict):
    """Rows dropped for a missing covariate, in all and by covariate."""

    total: Count
    by_covariate: dict[str, Count]


@with_config(_STRICT)
class CoxTerm(TypedDict):
    """One coefficient: its covariate level against the reference, HR and Wald test."""

    term: str
    covariate: str
    level: str | None
    reference: str | None
    label: str | None
    coef: float | None
    se: float | None
    hr: float | None
    hr_ci: Interval
    z: float | None
    p: float | None
    infinite: bool
    aliased: bool


@with_config(_STRICT)
class LeftOut(TypedDict):
    """A covariate or level the model left out, and why."""

    covariate: str
    level: str | None
    reason: str


@with_config(_STRICT)
class CoxModel(TypedDict):
    """A Cox proportional-hazards fit (:class:`toolkit.survival.CoxResult`)."""

    name: str
    methods: CoxMethods
    n: Count
    events: Count
    n_input: Count
    dropped_missing: DroppedMissing
    references: dict[str, str]
    terms: list[CoxTerm]
    covariate_tests: list[TermTest]
    loglik: list[float]
    tests: ModelTests
    ph_test: PhTest
    iterations: NonCount
    converged: bool
    warnings: list[str]
    left_out: list[LeftOut]


@with_config(_STRICT)
class TimeVaryingCoxMethods(TypedDict):
    """The counting-process Cox model's methods, in words."""

    model: str
    data: str
    ties: str
    ci: str
    p: str
    tests: str
    missing: str
    engine: str


@with_config(_STRICT)
class TimeVaryingCox(TypedDict):
    """The Cox model with later therapy as a time-varying covariate."""

    name: str
    engine: str
    methods: TimeVaryingCoxMethods
    n_patients: Count
    n_intervals: Count
    events: Count
    dropped_missing: DroppedMissing
    references: dict[str, str]
    terms: list[CoxTerm]
    covariate_tests: list[TermTest]
    loglik: list[float]
    tests: ModelTests
    iterations: NonCount
    converged: bool
    warnings: list[str]
    left_out: list[LeftOut]


@with_config(_STRICT)
class LogRank(TypedDict):
    """The k-group log-rank test."""

    groups: list[str]
    n: list[Count]
    observed: list[EventCount]
    expected: list[float]
    statistic: float
    df: NonCount
    p: float | None
    method: str


@with_config(_STRICT)
class LogRankPair(TypedDict):
    """The log-rank test of one pair of groups, with its Holm-adjusted p-value."""

    groups: list[str]
    statistic: float
    df: NonCount
    p: float | None
    p_adjusted: float | None


@with_config(_STRICT)
class PairwiseLogRank(TypedDict):
    """The log-rank test of each pair of groups."""

    pairs: list[LogRankPair]
    adjustment: str
    method: str


@with_config(_STRICT)
class RmstGroup(TypedDict):
    """Restricted mean survival time of one group."""

    group: str
    tau: float
    n: Count
    events: Count
    rmst: float
    se: float
    ci: list[float]
    conf_level: float
    method: str


@with_config(_STRICT)
class RmstDifference(TypedDict):
    """A group's RMST against the reference: difference and ratio."""

    group: str
    difference: float
    se: float
    ci: list[float]
    p: float
    ratio: float
    ratio_ci: list[float]
    ratio_p: float


@with_config(_STRICT)
class RmstComparison(TypedDict):
    """RMST by group up to ``tau``, each against the reference group."""

    tau: float
    reference: str
    groups: list[RmstGroup]
    differences: list[RmstDifference]
    conf_level: float
    method: str


@with_config(_STRICT)
class SimonMakuchMethods(TypedDict):
    """The Simon–Makuch estimator's methods, in words."""

    estimator: str
    ci: str
    median: str
    at_risk: str
    reference: str


@with_config(_STRICT)
class SimonMakuchAtRisk(TypedDict):
    """Patients in a Simon–Makuch group just before ``time``; in the interval, those who
    entered it, its events, those censored and those who left it for another group."""

    time: float
    at_risk: Count
    entered: Count
    events: Count
    censored: Count
    left: Count


@with_config(_STRICT)
class SimonMakuchGroup(TypedDict):
    """One group of the Simon–Makuch curves: patients move in as they start later therapy."""

    key: str
    label: str
    n_patients: Count
    n_start: Count
    n_entered_later: Count
    events: Count
    median: float | None
    median_ci: Interval
    survival_at: list[SurvivalAt]
    at_risk: list[SimonMakuchAtRisk]
    curve: Curve
    start_time: float


@with_config(_STRICT)
class SimonMakuch(TypedDict):
    """The Simon–Makuch (extended Kaplan–Meier) curves of the strata."""

    methods: SimonMakuchMethods
    n_patients: Count
    groups: list[SimonMakuchGroup]


@with_config(_STRICT)
class LandmarkMethods(TypedDict):
    """A landmark analysis's methods, in words."""

    design: str
    at_risk: str
    grouping: str
    time: str
    survival: str
    test: str
    hazard_ratio: str


@with_config(_STRICT)
class LandmarkExclusions(TypedDict):
    """Patients left out at a landmark: all, those who died and those censored before it."""

    total: Count
    died: Count
    censored: Count


@with_config(_STRICT)
class LandmarkGroup(TypedDict):
    """One group at a landmark: its size, events, patients whose naive stratum differs."""

    key: str
    label: str
    n: Count
    events: Count
    reclassified: Count
    km: KaplanMeierSummary | None


@with_config(_STRICT)
class LandmarkAnalysis(TypedDict):
    """The landmark analysis at one landmark time."""

    landmark: float
    grouping: str
    methods: LandmarkMethods
    n_input: Count
    n_at_risk: Count
    excluded: LandmarkExclusions
    groups: list[LandmarkGroup]
    logrank: LogRank | None
    cox: CoxModel | None
    cox_not_estimable: str | None


@with_config(_STRICT)
class LaterTherapyStratum(TypedDict):
    """A stratum defined by therapy after the index date."""

    key: str
    label: str
    agent_classes: list[str]


@with_config(_STRICT)
class ImmortalTimeGroup(TypedDict):
    """Immortal time in one group: patients, those whose therapy started after the index date,
    the delays, and the immortal person-months with their share of the follow-up."""

    patients: Count
    started_after_index: Count
    median_delay_months: float | None
    min_delay_months: float | None
    max_delay_months: float | None
    immortal_person_months: float
    share_of_follow_up: float | None


@with_config(_STRICT)
class ImmortalTimeEvidence(TypedDict):
    """Immortal time overall and by later-therapy stratum key."""

    overall: ImmortalTimeGroup
    by_stratum: dict[str, ImmortalTimeGroup]


@with_config(_STRICT)
class Remedy(TypedDict):
    """An analysis that addresses immortal time, and the function that computes it."""

    analysis: str
    function: str
    description: str


@with_config(_STRICT)
class ImmortalTimeMethods(TypedDict):
    """How immortal time was assessed, in words."""

    design: str
    data: str
    immortal_time: str


@with_config(_STRICT)
class ImmortalTime(TypedDict):
    """Whether the grouping is subject to immortal-time bias, with the evidence."""

    depends_on_post_index: bool
    by_design: bool | None
    in_data: bool | None
    later_therapy_strata: list[LaterTherapyStratum]
    evidence: ImmortalTimeEvidence | None
    statement: str
    remedies: list[Remedy]
    methods: ImmortalTimeMethods


@with_config(_STRICT)
class Comparisons(TypedDict):
    """The strata comparisons; an analysis the data cannot support is ``None`` and
    ``not_estimable`` says why, by analysis."""

    immortal_time: ImmortalTime
    strata_compared: NonCount
    not_estimable: dict[str, str]
    logrank: LogRank | None
    pairwise_logrank: PairwiseLogRank | None
    cox_unadjusted: CoxModel | None
    cox_adjusted: CoxModel | None
    rmst: RmstComparison | None
    time_varying_cox: TimeVaryingCox | None
    simon_makuch: SimonMakuch | None
    rmst_tau: float | None
    landmarks: list[LandmarkAnalysis]


@with_config(_STRICT)
class SponsorImmortalTimeGroup(TypedDict):
    """Immortal time of all later-therapy patients as page 1 prints it; the delays are
    ``None`` where those who started after the index date are suppressed."""

    patients: Count
    started_after_index: Count
    median_delay_months: float | None
    immortal_person_months: float | None
    share_of_follow_up: float | None


@with_config(_STRICT)
class SponsorImmortalTimeEvidence(TypedDict):
    """The sponsor edition's immortal time: all later-therapy patients, not per stratum."""

    overall: SponsorImmortalTimeGroup


@with_config(_STRICT)
class SponsorImmortalTime(TypedDict):
    """The sponsor edition's immortal-time assessment: whether the bias applies, and how much
    immortal time the data hold."""

    depends_on_post_index: bool
    evidence: SponsorImmortalTimeEvidence | None


@with_config(_STRICT)
class SponsorComparisons(TypedDict):
    """The sponsor edition keeps no model result (their counts are outside the sets that
    disclosure control makes safe), only the immortal-time flag."""

    immortal_time: SponsorImmortalTime


# --- what the report draws of the comparisons ------------------------------------------------


@with_config(_STRICT)
class HazardRatio(TypedDict):
    """A hazard ratio with its CI and p-value, as the comparisons table shows it (not
    estimable in a suppressed edition when a compared group has fewer than K patients)."""

    hr: Estimate
    ci: Interval
    p: float | None
    infinite: bool
    aliased: bool


@with_config(_STRICT)
class LandmarkHazardRatio(TypedDict):
    """The hazard ratio at a landmark, with the patients at risk then."""

    landmark: float
    n_at_risk: Count | None
    hr: Estimate
    ci: Interval
    p: float | None
    infinite: bool
    aliased: bool


@with_config(_STRICT)
class ComparisonRow(TypedDict):
    """One row of the comparisons table: a stratum against the reference stratum."""

    key: str
    label: str
    reference_label: str
    later_therapy: bool
    logrank_p_holm: Estimate
    naive: HazardRatio | None
    adjusted: HazardRatio | None
    time_varying: HazardRatio | None
    landmarks: list[LandmarkHazardRatio]


@with_config(_STRICT)
class LogRankRow(TypedDict):
    """One log-rank test of the tests table: all strata, or a pair (with Holm's p)."""

    label: str
    keys: list[str]
    statistic: float | None
    df: NonCount
    p: Estimate
    p_holm: Estimate


@with_config(_STRICT)
class PhRow(TypedDict):
    """The global cox.zph test of one Cox model (``fails``: p below ``ph_alpha``)."""

    model: str
    chisq: float | None
    df: NonCount
    p: float | None
    fails: bool


@with_config(_STRICT)
class StrataTests(TypedDict):
    """Every test of the strata: log-rank global and pairwise, proportional hazards."""

    logrank: list[LogRankRow]
    logrank_method: str
    adjustment: str
    ph: list[PhRow]
    ph_method: str
    ph_alpha: float


@with_config(_STRICT)
class AdjustedTerm(TypedDict):
    """One coefficient of the adjusted model as a reader names it."""

    covariate: str
    level: str | None
    reference: str | None
    hr: float | None
    ci: Interval
    p: float | None
    infinite: bool
    aliased: bool


@with_config(_STRICT)
class AdjustedModel(TypedDict):
    """The adjusted Cox model's own table (the internal edition only: its counts lie outside
    the sets disclosure control makes safe)."""

    n: Count
    n_input: Count
    n_dropped_missing: Count
    events: Count
    terms: list[AdjustedTerm]
    ph_p: float | None
    method: str


@with_config(_STRICT)
class SimonMakuchFigureGroup(TypedDict):
    """One Simon–Makuch curve as the figure draws it: from ``starts_at`` (0, or its first death
    with the study's minimum at risk, conditional on reaching it) up to ``shown_until``, its
    first death among fewer patients at risk than that minimum (``None``: no such death)."""

    key: str
    label: str
    n: Count
    n_start: Count
    n_entered_later: Count
    median: float | None
    curve: Curve
    shown_until: float | None
    starts_at: float
    drawn: bool
    at_risk: list[AtRiskInterval]


@with_config(_STRICT)
class LandmarkFigure(TypedDict):
    """The landmark figure: Kaplan–Meier curves from the landmark."""

    landmark: float
    n_at_risk: Count
    excluded: LandmarkExclusions
    groups: list[OverallSummary]


@with_config(_STRICT)
class AwareFigures(TypedDict):
    """The immortal-time-aware figures (a suppressed edition keeps the landmark figure, with
    its cells suppressed, and no Simon–Makuch curves)."""

    simon_makuch: list[SimonMakuchFigureGroup]
    landmark: LandmarkFigure | None


# --- the whole context -----------------------------------------------------------------------


@with_config(_STRICT)
class ReportContext(TypedDict):
    """Every number and text of one report, in the order ``results.json`` writes them."""

    title: str
    short_title: str
    registry: str
    cutoff: str
    edition: Literal["internal", "sponsor"]
    study_sha256: str
    texts: Texts
    methods: Methods
    cohort: CohortFlow
    overall: OverallSummary
    strata: list[StratumSummary]
    followup: FollowUp
    landmarks: list[float]
    at_risk_times: list[float]
    software: Software
    table1: Table1
    safety: Safety
    provenance: Provenance
    min_at_risk_shown: NonCount
    disclosure: Disclosure
    rmst: Rmst
    comparisons: Comparisons | SponsorComparisons
    comparison_rows: list[ComparisonRow]
    comparison_notes: list[str]
    strata_tests: StrataTests
    adjusted_model: AdjustedModel | None
    aware_figures: AwareFigures


_ADAPTER: TypeAdapter[ReportContext] = TypeAdapter(ReportContext)


# --- compare.json: what changed between two cutoffs -------------------------------------------


@with_config(_STRICT)
class RateAt(TypedDict):
    """A survival rate at a time, with its CI, as a report shows it."""

    time: float
    estimate: Estimate
    ci: Interval


@with_config(_STRICT)
class LandmarkNumbers(TypedDict):
    """A group at the first landmark: its patients, median OS from the landmark, rates."""

    n: Count
    median: Estimate
    median_ci: Interval
    survival_at: list[RateAt]


@with_config(_STRICT)
class HeadlineNumbers(TypedDict):
    """A group's headline numbers at one cutoff, naive (Kaplan–Meier from the index date) and
    immortal-time aware (time-varying Cox, landmark, Simon–Makuch), as its report shows them."""

    n: Count
    events: Count
    median: Estimate
    median_ci: Interval
    survival_at: list[RateAt]
    hr_naive: HazardRatio | None
    hr_time_varying: HazardRatio | None
    landmark: LandmarkNumbers | None
    simon_makuch_median: float | None


#: One group at both cutoffs (``from`` is ``None`` for a group the earlier report lacks).
HeadlineGroup = with_config(_STRICT)(
    TypedDict(
        "HeadlineGroup",
        {"key": str, "label": str, "from": HeadlineNumbers | None, "to": HeadlineNumbers},
    )
)


@with_config(_STRICT)
class Headline(TypedDict):
    """The headline numbers of both cutoffs' reports, side by side."""

    landmarks: list[float]
    landmark: float | None
    reference_label: str | None
    groups: list[HeadlineGroup]


@with_config(_STRICT)
class Change(TypedDict):
    """One change of one patient, with the old and new value and the submissions (SHA-256,
    first 12 digits) they came from."""

    patient_id: str
    field: str | None
    old_value: str | None
    new_value: str | None
    old_submission: str | None
    new_submission: str | None
    treatment_id: NotRequired[str]


@with_config(_STRICT)
class SiteChanges(TypedDict):
    """Every change of one site, by kind."""

    site_id: str
    new_patients: list[Change]
    patients_dropped: list[Change]
    deaths_added: list[Change]
    dates_changed: list[Change]
    patients_left_analysis: list[Change]
    patients_entered_analysis: list[Change]
    strata_changed: list[Change]
    treatment_dates_changed: list[Change]


#: The whole of compare.json (``from`` and ``to`` are the two cutoffs).
CompareContext = with_config(_STRICT)(
    TypedDict(
        "CompareContext",
        {
            "from": str,
            "to": str,
            "edition": Literal["internal", "sponsor"],
            "totals": dict[str, Count],
            "sites": list[SiteChanges],
            "headline": Headline,
            "disclosure": Disclosure,
        },
    )
)

_COMPARE_ADAPTER: TypeAdapter[CompareContext] = TypeAdapter(CompareContext)


class UndeclaredContext(AnalysisError):
    """A report context that does not have the declared shape: a bug of the toolkit, said in
    one line by the CLI before anything is written."""


def declared(context: dict[str, Any], *, shape: str = "report") -> ReportContext:
    """``context`` checked against :class:`ReportContext` (``shape="compare"``: against
    :data:`CompareContext`, compare.json's), in declaration order.

    Raises
    ------
    UndeclaredContext
        Naming each key path that is missing, not declared or of another type.
    """
    adapter = {"report": _ADAPTER, "compare": _COMPARE_ADAPTER}[shape]
    try:
        return adapter.validate_python(context)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors(include_url=False)
        ]
        raise UndeclaredContext(
            f"the {shape} context does not have the shape toolkit.results declares (a bug of "
            "the toolkit; nothing was written): " + "; ".join(problems[:20])
        ) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``results.json``."""
    schema = _ADAPTER.json_schema(ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def schema_text() -> str:
    """The checked-in schema file's exact text."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
