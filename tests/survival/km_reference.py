"""R reference values for the Kaplan–Meier / log-rank / RMST tests, and how to compare.

The values were written by ``r/km_logrank_rmst.R`` (R's survival package) into ``reference/``
from the CSV files it exported into ``data/``; the tests read them and never need R.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl

from toolkit.survival.table import survival_table

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REFERENCE = HERE / "reference"
R_SCRIPT = HERE / "r" / "km_logrank_rmst.R"
DATASETS = ("lung", "veteran", "ovarian", "aml", "edge")
CONF_TYPES = ("log-log", "log", "plain")

REL = 1e-4
"""Relative tolerance of every comparison with R (the issue's bar)."""

ABS = 1e-9
"""Absolute tolerance, for values that are 0 in R."""


@cache
def analyses() -> dict[str, dict]:
    """Every analysis of every reference file, by name (``lung_sex``, ``edge_ties`` …)."""
    out = {}
    for dataset in DATASETS:
        reference = json.loads((REFERENCE / f"{dataset}.json").read_text(encoding="utf-8"))
        for analysis in reference["analyses"]:
            out[analysis["name"]] = analysis
    return out


@cache
def data(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Time, event and group (as text, or ``None``) of an analysis, read from its CSV."""
    analysis = analyses()[name]
    frame = pl.read_csv(DATA / f"{analysis['dataset']}.csv", infer_schema=False)
    if analysis["case"] is not None:
        frame = frame.filter(pl.col("case") == analysis["case"])
    table = survival_table(
        frame,
        time=analysis["time_column"],
        event=analysis["event_column"],
        group=analysis["group_column"],
    )
    assert table.excluded() == {"missing_time": 0, "missing_event": 0, "missing_group": 0}
    return table.time, table.event, table.group_labels()


def group_names(name: str) -> list[str]:
    """The group labels of an analysis as R sorted them (empty without groups)."""
    return list(analyses()[name]["fits"]["log-log"].get("groups", {}))


def fit(name: str, conf_type: str, group: str | None) -> dict:
    """R's reference fit of one group (``None``: all patients)."""
    fits = analyses()[name]["fits"][conf_type]
    return fits["overall"] if group is None else fits["groups"][group]


def close(ours: float | None, theirs: float | None) -> bool:
    """Equal within the tolerances; ``None`` (ours) matches ``null`` (R's NA) only."""
    if ours is None or theirs is None:
        return ours is None and theirs is None
    return math.isclose(ours, theirs, rel_tol=REL, abs_tol=ABS)


def ci_close(ours: float | None, theirs: float | None, survival: float) -> bool:
    """As :func:`close`, except that where S(t) = 1 R's log-log limit is NA and ours is 1."""
    if theirs is None and survival == 1.0:
        return ours == 1.0
    return close(ours, theirs)


def monotone(values: list[float | None]) -> bool:
    """Whether a reference curve never rises (NAs left out)."""
    present = np.array([v for v in values if v is not None], dtype=float)
    return bool((np.diff(present) <= 0).all())


def first_crossing(times: list[float], values: list[float | None], p: float) -> float | None:
    """First time a (non-tied) reference curve is at or below 1 − p; ``None`` if never."""
    hits = [t for t, v in zip(times, values, strict=True) if v is not None and v <= 1 - p]
    return hits[0] if hits else None


def same(a: object, b: object) -> bool:
    """Equal JSON values, numbers to 1e-12 (relative): a stored R reference against the one the
    R script writes now."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return a == b
