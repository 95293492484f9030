"""Helpers shared by the survival modules: input checks, normal and chi-square tails, JSON.

Private to :mod:`toolkit.survival`; the public API is in the modules named after each method.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = [
    "checked_times",
    "as_survival_data",
    "counted_survival_data",
    "counted_groups",
    "group_codes",
    "z_value",
    "normal_two_sided_p",
    "chi2_upper_p",
    "jsonable",
    "result_dict",
]


def checked_times(time: Any, values: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Times as a float64 vector, checked, and ``values`` (called ``name``) as a vector of the
    same length, unchecked.

    Raises
    ------
    ValueError
        Lengths differ, no observations, or a time is negative or not finite.
    """
    t = np.asarray(time, dtype=float).ravel()
    raw = np.asarray(values).ravel()
    if t.shape != raw.shape:
        raise ValueError(f"time and {name} differ in length ({t.size} and {raw.size})")
    if t.size == 0:
        raise ValueError("no observations")
    if not np.isfinite(t).all():
        raise ValueError("time holds a missing or infinite value")
    if (t < 0).any():
        raise ValueError(f"time holds a negative value ({t.min():g})")
    return t, raw


def as_survival_data(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    """Times as float64 and events as bool, checked.

    Raises
    ------
    ValueError
        Lengths differ, no observations, a time is negative or not finite, or an event value
        is other than 0/1/True/False.
    """
    t, raw = checked_times(time, event, "event")
    t = t + 0.0  # -0.0 becomes 0.0 (a copy: the caller's array is left as it is)
    if raw.dtype == bool:
        return t, raw
    numeric = raw.astype(float)
    if not np.isin(numeric, (0.0, 1.0)).all():
        raise ValueError("event must be 0/1 or True/False")
    return t, numeric == 1.0


def counted_survival_data(
    time: Any, event: Any, counts: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times, events and how many observations each row stands for, checked; rows of count 0
    (standing for no one) left out.

    ``counts`` (``None``: one each) are whole numbers, not negative: the rows of an aggregate
    (one row per distinct time, event and group, with its count) give the estimates the
    individual rows give.

    Raises
    ------
    ValueError
        As :func:`as_survival_data`; or a count is negative, fractional or missing, or its
        length differs, or no row has a count.
    """
    t, e = as_survival_data(time, event)
    w = _counts(counts, t.size)
    kept = w > 0
    return (t, e, w) if kept.all() else (t[kept], e[kept], w[kept])


def counted_groups(
    time: Any, event: Any, group: Any, counts: Any = None, labels: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray]:
    """As :func:`counted_survival_data`, with each row's group: ``(time, event, counts,
    labels, codes)`` of the rows that stand for someone (see :func:`group_codes`)."""
    t, e = as_survival_data(time, event)
    w = _counts(counts, t.size)
    values = np.asarray(group).ravel()
    if values.size != t.size:
        raise ValueError(f"group and time differ in length ({values.size} and {t.size})")
    kept = w > 0
    if not kept.all():
        t, e, w, values = t[kept], e[kept], w[kept], values[kept]
    labels, codes = group_codes(values, labels)
    return t, e, w, labels, codes


def _counts(counts: Any, n: int) -> np.ndarray:
    """``counts`` checked as whole numbers ≥ 0 of length ``n``, some positive (None: ones)."""
    if counts is None:
        return np.ones(n, dtype=np.int64)
    raw = np.asarray(counts).ravel()
    if raw.size != n:
        raise ValueError(f"time and counts differ in length ({n} and {raw.size})")
    try:
        w = raw.astype(float)
    except (TypeError, ValueError):
        raise ValueError("counts must be whole numbers, 0 or more") from None
    if not np.isfinite(w).all() or (w < 0).any() or (w != np.floor(w)).any():
        raise ValueError("counts must be whole numbers, 0 or more")
    if not (w > 0).any():
        raise ValueError("no observations (every count is 0)")
    return w.astype(np.int64)


def group_codes(group: Any, labels: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """Group labels and an integer code per observation, in the order the values sort.

    Parameters
    ----------
    group : array_like
        Group of each observation.
    labels : sequence of str, optional
        Labels of the distinct values in sorted order (e.g. ``group`` holds integer codes and
        ``labels`` their names); by default each value as text.
    """
    values = np.asarray(group).ravel()
    levels, codes = _small_int_unique(values) or np.unique(values, return_inverse=True)
    if labels is None:
        return [_label(v) for v in levels.tolist()], codes.astype(np.int64)
    if len(labels) != levels.size:
        raise ValueError(f"{len(labels)} labels given for {levels.size} distinct groups")
    return [str(x) for x in labels], codes.astype(np.int64)


def _small_int_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``np.unique(values, return_inverse=True)`` by counting, for integer codes in a small
    range (no sort); ``None`` for other values."""
    if values.dtype.kind not in "iub" or values.size == 0:
        return None
    low, high = int(values.min()), int(values.max())
    if high - low > 65_536:
        return None
    offset = values.astype(np.int64) - low
    present = np.flatnonzero(np.bincount(offset, minlength=high - low + 1))
    position = np.zeros(high - low + 1, dtype=np.int64)
    position[present] = np.arange(present.size)
    return (present + low).astype(values.dtype), position[offset]


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def z_value(conf_level: float) -> float:
    """Two-sided standard normal quantile for a confidence level (1.959964… for 0.95)."""
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level}")
    return NormalDist().inv_cdf(1.0 - (1.0 - conf_level) / 2.0)


def normal_two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def chi2_upper_p(statistic: float, df: int) -> float | None:
    """P(X ≥ statistic) for X chi-square with ``df`` degrees of freedom; ``None`` if df < 1."""
    if df < 1:
        return None
    from scipy.special import chdtrc

    return float(chdtrc(df, max(statistic, 0.0)))


def jsonable(value: Any) -> Any:
    """``value`` with arrays, tuples and NumPy scalars as lists and Python numbers.

    Non-finite floats (a bound that does not exist) become ``None``.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return [None if not math.isfinite(x) else x for x in value.tolist()]
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_dict(result: Any) -> dict:
    """A frozen result dataclass as a JSON-able dict, fitted names without the trailing ``_``."""
    assert is_dataclass(result)
    return {f.name.rstrip("_"): jsonable(getattr(result, f.name)) for f in fields(result)}
