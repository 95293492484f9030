"""Cox proportional-hazards models of a frame, as plain data: the public fit.

:func:`cox_ph` builds the design matrix from a polars frame (:func:`design_matrix`), fits it
with the engine (:mod:`toolkit.survival.cox_engine`, leaving out what is not estimable:
:func:`fit_estimable`), and returns a :class:`CoxResult` with the Wald terms and the tests of
:mod:`toolkit.survival.cox_inference`.

Methods, named in every result (see :data:`METHODS`):

- ties: Efron's approximation (R ``coxph`` default, lifelines);
- estimation: Newton–Raphson with step halving, started at β = 0, until the largest step
  is below 1e-9 (or the log-likelihood stops increasing: an infinite coefficient, flagged);
- per-term CI and p: Wald, from the inverse of the observed information;
- model tests: likelihood ratio, Wald, and score (log-rank-type) test at β = 0, as R;
- proportional hazards: the score test of R ``cox.zph`` (survival ≥ 3.0).

Categorical covariates are treatment-coded; the reference level is the most frequent level
among the rows the model uses (ties broken alphabetically) unless given. Rows with a missing
value (null, NaN, or a level listed in ``missing_levels``, by default the SQL's ``'missing'``)
are dropped from the model and counted per covariate; recorded codes such as ``'unknown'``
are levels like any other unless listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from toolkit.errors import AnalysisError
from toolkit.survival._common import normal_two_sided_p, result_dict, z_value
from toolkit.survival.cox_engine import EfronFit, SingularInformation, aliased_columns, fit_efron
from toolkit.survival.cox_inference import (
    PH_TEST_METHOD,
    covariate_tests,
    model_tests,
    zph_test,
)

__all__ = [
    "METHODS",
    "CoxTerm",
    "CoxResult",
    "Design",
    "cox_ph",
    "design_matrix",
    "fit_estimable",
    "wald_terms",
]

METHODS = {
    "model": "Cox proportional hazards (partial likelihood)",
    "ties": "Efron",
    "estimation": "Newton–Raphson with step halving from beta = 0 (max step < 1e-9)",
    "engine": "vectorised NumPy evaluation of the Efron partial likelihood",
    "ci": "Wald 95% CI, exp(coef ± 1.96 se), se from the observed information",
    "p": "two-sided Wald test of each coefficient",
    "tests": "likelihood ratio, Wald and score (at beta = 0) tests of all coefficients",
    "ph_test": PH_TEST_METHOD,
    "coding": "categorical covariates treatment-coded against the reference level",
    "aliasing": (
        "a coefficient whose pivot in the information matrix at beta = 0 is below 1e-12 of "
        "its largest diagonal (constant or collinear among the risk sets of the events) is "
        "not estimable and left out, as R's coxph gives it NA"
    ),
    "missing": "complete cases: rows with a missing covariate value are dropped and counted",
}


# --------------------------------------------------------------------------------------------
# Design matrix from a frame
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """A model matrix built from a frame.

    Attributes
    ----------
    matrix : rows used × coefficients.
    columns : per coefficient, (covariate, level or None for a continuous covariate).
    assign : covariate → indices of its coefficients.
    references : categorical covariate → reference level.
    keep : boolean mask over the frame's rows: the rows used (complete cases).
    missing : covariate → rows with a missing value (before dropping).
    single_level : categorical covariate → its one value among the rows used (it has no
        column: nothing to compare).
    """

    matrix: np.ndarray
    columns: list[tuple[str, str | None]]
    assign: dict[str, list[int]]
    references: dict[str, str]
    keep: np.ndarray
    missing: dict[str, int]
    single_level: dict[str, str] = field(default_factory=dict)

    def without(self, drop: np.ndarray) -> Design:
        """The same design without the columns where ``drop`` is true."""
        kept = np.flatnonzero(~drop)
        new_index = {int(old): new for new, old in enumerate(kept)}
        assign = {
            name: [new_index[i] for i in cols if i in new_index]
            for name, cols in self.assign.items()
        }
        return replace(
            self,
            matrix=self.matrix[:, kept],
            columns=[self.columns[i] for i in kept],
            assign={name: cols for name, cols in assign.items() if cols},
        )


def _as_text(series: pl.Series) -> pl.Series:
    return series.cast(pl.Utf8) if series.dtype != pl.Utf8 else series


def missing_mask(series: pl.Series, missing_levels: Sequence[str]) -> np.ndarray:
    mask = series.is_null().to_numpy()
    if series.dtype.is_float():
        mask |= series.is_nan().fill_null(False).to_numpy()
    if missing_levels and not series.dtype.is_numeric():
        mask |= _as_text(series).is_in(list(missing_levels)).fill_null(False).to_numpy()
    return mask


def _reference_level(values: pl.Series, weights: pl.Series | None = None) -> str:
    """The most frequent level (ties: the first as text), each row counting ``weights``."""
    frame = pl.DataFrame({"level": values, "n": 1 if weights is None else weights})
    counts = frame.group_by("level").agg(pl.col("n").sum())
    counts = counts.sort(["n", "level"], descending=[True, False])
    return str(counts[0, 0])


def _patients(frame: pl.DataFrame, counts: str | None) -> np.ndarray:
    """How many patients each row stands for: the ``counts`` column, or one each."""
    return np.ones(frame.height) if counts is None else frame[counts].to_numpy()


def design_matrix(
    frame: pl.DataFrame,
    *,
    continuous: Sequence[str] = (),
    categorical: Sequence[str] | Mapping[str, str | None] = (),
    missing_levels: Sequence[str] = ("missing",),
    level_order: Mapping[str, Sequence[str]] | None = None,
    counts: str | None = None,
) -> Design:
    """Treatment-coded model matrix of complete cases.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per observation.
    continuous : sequence of str
        Columns used as numbers.
    categorical : sequence of str, or mapping of str to str or None
        Columns used as categories (values as text); a mapping gives the reference level of
        some (``None``: the most frequent level among the rows used, ties alphabetically).
    missing_levels : sequence of str
        Text values that mean "missing" (nulls and NaN always do).
    level_order : mapping of str to sequence of str, optional
        Order of the non-reference levels per covariate (else sorted as text).
    counts : str, optional
        Column of how many patients each row stands for (rows of an aggregate): the most
        frequent level and the missing values count patients, not rows.

    Returns
    -------
    Design
        The categorical covariates' columns first (in the order given), then the
        continuous ones.

    Raises
    ------
    AnalysisError
        A column is absent, or a given reference level has no row in the model.
    """
    refs = dict(categorical) if isinstance(categorical, Mapping) else dict.fromkeys(categorical)
    names = list(continuous) + list(refs)
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise AnalysisError(f"the data have no column {', '.join(absent)} for the Cox model")
    masks = {c: missing_mask(frame[c], missing_levels) for c in names}
    keep = ~np.logical_or.reduce([np.zeros(frame.height, bool), *masks.values()])
    used = frame.filter(pl.Series(keep))
    weights = used[counts] if counts else None
    blocks, columns, assign, references, single = [], [], {}, {}, {}
    for name, ref in refs.items():
        values = _as_text(used[name])
        ref = _reference_level(values, weights) if ref is None else str(ref)
        present = set(values.unique().to_list())
        if ref not in present:
            raise AnalysisError(f"the reference level {ref!r} of {name} has no row in the model")
        order = (level_order or {}).get(name)
        levels = [v for v in (order or sorted(present)) if v in present and v != ref]
        if not levels:
            single[name] = ref
            continue
        references[name] = ref
        assign[name] = list(range(len(columns), len(columns) + len(levels)))
        columns.extend((name, level) for level in levels)
        indicators = [(values == level).to_numpy() for level in levels]
        blocks.append(np.stack(indicators, axis=1).astype(float))
    for name in continuous:
        assign[name] = [len(columns)]
        columns.append((name, None))
        blocks.append(used[name].cast(pl.Float64).to_numpy()[:, None])
    matrix = np.hstack(blocks) if blocks else np.zeros((used.height, 0))
    patients = _patients(frame, counts)
    missing = {c: int(patients[m].sum()) for c, m in masks.items()}
    return Design(matrix, columns, assign, references, keep, missing, single)


# --------------------------------------------------------------------------------------------
# Results as plain data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoxTerm:
    """One coefficient.

    Attributes
    ----------
    term : ``covariate`` or ``covariate=level``.
    covariate, level, reference : what the coefficient compares (level and reference are
        ``None`` for a continuous covariate, whose HR is per unit).
    label : display label of the level when known (e.g. the stratum's label).
    coef_, se_, hr_, hr_ci_, z_, p_ : estimate, standard error, hazard ratio with its 95% CI,
        Wald z and two-sided p.
    infinite_ : the estimate runs off to ±infinity (monotone likelihood, e.g. a level
        without events); its HR, CI and p are then not meaningful and should not be shown.
    aliased_ : the coefficient is not estimable (constant or collinear among the risk sets
        of the events) and was left out of the fit; its estimate and HR are missing (NaN).
    """

    term: str
    covariate: str
    level: str | None
    reference: str | None
    label: str | None
    coef_: float
    se_: float
    hr_: float
    hr_ci_: tuple[float, float]
    z_: float
    p_: float
    infinite_: bool
    aliased_: bool = False

    def to_dict(self) -> dict:
        """JSON-able form (fitted names without the trailing ``_``)."""
        return result_dict(self)


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model as plain data.

    Attributes
    ----------
    name : what the model is (e.g. ``"unadjusted"``).
    methods : the methods used, in words.
    n_, events_ : patients (rows) and events in the model.
    n_input_, dropped_missing_ : rows given, and rows dropped for a missing covariate value
        (``total`` and ``by_covariate``, counted before dropping, so a row may count twice).
    references_ : categorical covariate → reference level.
    terms_ : the coefficients (:class:`CoxTerm`).
    covariate_tests_ : joint Wald test of each covariate's coefficients (term, chisq, df, p).
    loglik_ : log partial likelihood at β = 0 and at the estimate.
    tests_ : ``likelihood_ratio``, ``wald`` and ``score`` (chisq, df, p).
    ph_test_ : the ``cox.zph`` test per covariate and global (``None`` when not computed).
    iterations_, converged_ : Newton–Raphson iterations and convergence.
    warnings_ : problems a reader must know (an infinite coefficient, no convergence, a
        covariate left out).
    left_out_ : what the fit left out and why: ``{"covariate", "level", "reason"}`` with
        reason ``"single_level"`` (one value among the rows used) or ``"aliased"``.
    """

    name: str
    methods: dict[str, str]
    n_: int
    events_: int
    n_input_: int
    dropped_missing_: dict
    references_: dict[str, str]
    terms_: list[CoxTerm]
    covariate_tests_: list[dict]
    loglik_: tuple[float, float]
    tests_: dict[str, dict]
    ph_test_: dict | None
    iterations_: int
    converged_: bool
    warnings_: list[str]
    left_out_: list[dict] = field(default_factory=list)

    def term(self, name: str) -> CoxTerm:
        """The coefficient called ``name``."""
        for term in self.terms_:
            if term.term == name:
                return term
        raise KeyError(name)

    def to_dict(self) -> dict:
        """JSON-able form (fitted names without the trailing ``_``; tuples as lists)."""
        return result_dict(self)


def wald_terms(
    fit,
    columns: Sequence[tuple[str, str | None]],
    references,
    labels=None,
    alpha=0.05,
    aliased: np.ndarray | None = None,
) -> list[CoxTerm]:
    """Label the coefficients of a fit as :class:`CoxTerm` (Wald CI and p).

    With ``aliased`` (a mask over ``columns``) the fit holds the other columns only, and each
    aliased column gets a term of missing estimates in its place.
    """
    z_crit = z_value(1 - alpha)
    se = np.sqrt(np.diag(fit.var_))
    aliased = np.zeros(len(columns), dtype=bool) if aliased is None else aliased
    fitted = np.cumsum(~aliased) - 1
    nan = float("nan")
    terms = []
    for i, (covariate, level) in enumerate(columns):
        j = int(fitted[i])
        coef, s = (nan, nan) if aliased[i] else (float(fit.coef_[j]), float(se[j]))
        z = coef / s
        with np.errstate(over="ignore"):
            hr, low, high = np.exp([coef, coef - z_crit * s, coef + z_crit * s]).tolist()
        terms.append(
            CoxTerm(
                term=term_name(covariate, level),
                covariate=covariate,
                level=level,
                reference=references.get(covariate),
                label=(labels or {}).get(level),
                coef_=coef,
                se_=s,
                hr_=hr,
                hr_ci_=(low, high),
                z_=z,
                p_=normal_two_sided_p(z),  # NaN for an aliased column, as z is
                infinite_=False if aliased[i] else bool(fit.infinite_[j]),
                aliased_=bool(aliased[i]),
            )
        )
    return terms


def term_name(covariate: str, level: str | None) -> str:
    """A coefficient's name: ``covariate``, or ``covariate=level`` for a categorical level."""
    return covariate if level is None else f"{covariate}={level}"


def fit_warnings(fit, columns: Sequence[tuple[str, str | None]]) -> list[str]:
    """Plain-language warnings about a fit: infinite coefficients, no convergence."""
    notes = []
    if not fit.converged_:
        notes.append(f"Newton–Raphson did not converge in {fit.iterations_} iterations")
    for (covariate, level), infinite in zip(columns, fit.infinite_, strict=True):
        if infinite:
            notes.append(
                f"the coefficient of {term_name(covariate, level)} is infinite (monotone "
                "likelihood, e.g. a level without events or with all events); its hazard ratio "
                "is not estimable"
            )
    return notes


def left_out_warnings(left_out: Sequence[dict]) -> list[str]:
    """Plain-language warnings about what :func:`fit_estimable` left out of a model."""
    notes = []
    for item in left_out:
        if item["reason"] == "single_level":
            notes.append(
                f"{item['covariate']} takes one value ({item['level']}) among the rows used; "
                "it is left out of the model"
            )
        else:
            what = term_name(item["covariate"], item["level"])
            notes.append(
                f"the coefficient of {what} is not estimable (constant or collinear with other "
                "covariates among the risk sets of the events); it is left out of the model, "
                "as R's coxph gives it NA"
            )
    return notes


def fit_estimable(
    stop, event, design: Design, *, start=None, weights=None, collapse: bool = False
) -> tuple[EfronFit, np.ndarray, list[dict]]:
    """:func:`fit_efron` on the design's estimable columns.

    A column aliased at β = 0 (:func:`aliased_columns`) is left out and the rest refitted,
    which is R's ``coxph`` with the aliased coefficient NA; a categorical covariate with one
    value has no column at all (:class:`Design`).

    Parameters
    ----------
    stop, event, start, weights, collapse
        As for :func:`fit_efron`, over the design's rows.
    design : Design
        The model matrix and its columns.

    Returns
    -------
    tuple
        The fit (of the columns kept), the mask of aliased columns over ``design.columns``,
        and what was left out (``{"covariate", "level", "reason"}``).

    Raises
    ------
    AnalysisError
        No event, no column, or no estimable column.
    """
    left_out = [
        {"covariate": name, "level": level, "reason": "single_level"}
        for name, level in design.single_level.items()
    ]
    aliased = np.zeros(len(design.columns), dtype=bool)
    if not design.columns:
        raise AnalysisError(_nothing_to_estimate(design))
    try:
        fit = fit_efron(stop, event, design.matrix, start=start, weights=weights, collapse=collapse)
    except SingularInformation as error:
        aliased = aliased_columns(error.info)
        if aliased.all():
            raise AnalysisError(_nothing_to_estimate(design)) from None
        matrix = design.matrix[:, ~aliased]
        fit = fit_efron(stop, event, matrix, start=start, weights=weights, collapse=collapse)
    left_out += [
        {"covariate": covariate, "level": level, "reason": "aliased"}
        for (covariate, level), is_aliased in zip(design.columns, aliased, strict=True)
        if is_aliased
    ]
    return fit, aliased, left_out


def _nothing_to_estimate(design: Design) -> str:
    if design.single_level and not design.columns:
        names = ", ".join(design.single_level)
        return f"the Cox model has nothing to compare: {names} takes one value among the rows used"
    return (
        "no coefficient of the Cox model is estimable: every covariate is constant or "
        "collinear among the risk sets of the events"
    )


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def cox_ph(
    frame: pl.DataFrame,
    *,
    time: str,
    event: str,
    continuous: Sequence[str] = (),
    categorical: Sequence[str] | Mapping[str, str | None] = (),
    missing_levels: Sequence[str] = ("missing",),
    level_order: Mapping[str, Sequence[str]] | None = None,
    labels: Mapping[str, str] | None = None,
    name: str = "cox",
    ph_test: bool = True,
    alpha: float = 0.05,
    counts: str | None = None,
) -> CoxResult:
    """Fit a Cox proportional-hazards model (Efron ties) to right-censored data.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per patient, or per distinct (time, event, covariates) with ``counts``.
    time, event : str
        Columns of the follow-up time and the event indicator (1/True = event).
    continuous, categorical, missing_levels, level_order, counts
        As for :func:`design_matrix`: ``counts`` names the column of how many patients each
        row stands for (the same model as on the patients' own rows).
    labels : mapping of str to str, optional
        Display labels of categorical levels, carried into the terms.
    name : str
        Name of the model in the output.
    ph_test : bool
        Compute the ``cox.zph`` proportional-hazards test.
    alpha : float
        1 - confidence level of the CIs.

    Returns
    -------
    CoxResult
    """
    design = design_matrix(
        frame,
        continuous=continuous,
        categorical=categorical,
        missing_levels=missing_levels,
        level_order=level_order,
        counts=counts,
    )
    used = frame.filter(pl.Series(design.keep))
    patients = _patients(frame, counts)
    fit, aliased, left_out = fit_estimable(
        used[time].cast(pl.Float64).to_numpy(),
        used[event].cast(pl.Boolean).to_numpy(),
        design,
        weights=None if counts is None else used[counts].to_numpy(),
        collapse=not continuous,
    )
    kept = design.without(aliased)
    dropped = int(patients[~design.keep].sum())
    return CoxResult(
        name=name,
        methods=dict(METHODS),
        n_=fit.n_,
        events_=fit.events_,
        n_input_=int(patients.sum()),
        dropped_missing_={"total": dropped, "by_covariate": design.missing},
        references_=design.references,
        terms_=wald_terms(fit, design.columns, design.references, labels, alpha, aliased),
        covariate_tests_=covariate_tests(fit, kept.assign),
        loglik_=fit.loglik_,
        tests_=model_tests(fit),
        ph_test_=zph_test(fit, kept.assign) if ph_test else None,
        iterations_=fit.iterations_,
        converged_=fit.converged_,
        warnings_=fit_warnings(fit, kept.columns) + left_out_warnings(left_out),
        left_out_=left_out,
    )
