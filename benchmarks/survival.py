"""Kaplan–Meier + log-rank + landmark rates at 10⁴–10⁶ patients: toolkit, NumPy floor, lifelines.

    .venv/bin/python benchmarks/survival.py [--sizes 10000,100000,1000000] [--runs 3]
        [--no-lifelines] [--ties days|none]

For each size, three groups of synthetic patients (exponential survival, uniform censoring;
times in whole days expressed in months, so tied times as in a registry, or continuous with
``--ties none``) are analysed three ways, each timed as the best of ``--runs``:

- toolkit: :func:`toolkit.survival.kaplan_meier_by_group` (curve, median and quartiles with
  log-log CI, S(t) with CI and number at risk at 6/12/24 months, numbers-at-risk table) and
  :func:`toolkit.survival.logrank_test`;
- floor: the least NumPy that gives S(t) at the landmarks, the medians and the log-rank
  statistic — one sort, cumulative counts, a product, a bincount; no CI, no checks;
- lifelines: ``KaplanMeierFitter`` per group (median, S at the landmarks) and
  ``multivariate_logrank_test``.

Prints a Markdown table and writes benchmarks/results/survival.json. Not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
LANDMARKS = (6.0, 12.0, 24.0)
DAYS_PER_MONTH = 30.4375


def cohort(n: int, ties: str, seed: int = 2015) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time (months), event (bool) and group (0, 1, 2) of ``n`` synthetic patients."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    death = rng.exponential(np.array([20.0, 23.0, 41.0])[group])
    censor = rng.uniform(1.0, 60.0, n)
    months = np.minimum(death, censor)
    if ties == "days":
        months = np.maximum(np.round(months * DAYS_PER_MONTH), 1) / DAYS_PER_MONTH
    return months, death <= censor, group


def run_toolkit(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> tuple:
    from toolkit.survival import kaplan_meier_by_group, logrank_test

    ticks = tuple(float(x) for x in range(0, 61, 6))
    groups = kaplan_meier_by_group(t, e, g, at_times=LANDMARKS, ticks=ticks)
    test = logrank_test(t, e, g)
    landmarks = [[s["estimate"] for s in k.survival_at_] for k in groups]
    return [k.median_ for k in groups], landmarks, test.statistic_


def run_floor(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> tuple:
    """One sort; per group cumulative counts → S; one bincount → the log-rank statistic."""
    order = np.argsort(t)
    t, e, g = t[order], e[order], g[order]
    medians, landmarks = [], []
    for k in range(3):
        tk, ek = t[g == k], e[g == k]
        first = np.flatnonzero(np.r_[True, tk[1:] != tk[:-1]])
        d = np.add.reduceat(ek.astype(np.int64), first)
        s = np.cumprod(1.0 - d / (tk.size - first))
        below = np.flatnonzero(s <= 0.5)
        medians.append(float(tk[first][below[0]]) if below.size else None)
        idx = np.searchsorted(tk[first], LANDMARKS, side="right") - 1
        landmarks.append(np.where(idx >= 0, s[np.maximum(idx, 0)], 1.0).tolist())
    row = np.cumsum(np.r_[True, t[1:] != t[:-1]]) - 1
    cells = row * 3 + g
    total = np.bincount(cells, minlength=(row[-1] + 1) * 3).reshape(-1, 3)
    events = np.bincount(cells[e], minlength=(row[-1] + 1) * 3).reshape(-1, 3)
    at_risk = np.cumsum(total[::-1], axis=0)[::-1]
    n, d = at_risk.sum(1).astype(float), events.sum(1).astype(float)
    o_minus_e = (events - at_risk * (d / n)[:, None]).sum(0)
    w = np.where(n > 1, d * (n - d) / (n * n * np.maximum(n - 1, 1)), 0.0)
    v = np.diag((at_risk * (w * n)[:, None]).sum(0)) - (at_risk * w[:, None]).T @ at_risk
    statistic = float(o_minus_e[1:] @ np.linalg.solve(v[1:, 1:], o_minus_e[1:]))
    return medians, landmarks, statistic


def run_lifelines(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> tuple:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    medians, landmarks = [], []
    for k in range(3):
        fitter = KaplanMeierFitter().fit(t[g == k], e[g == k])
        median = fitter.median_survival_time_
        medians.append(None if not np.isfinite(median) else float(median))
        landmarks.append(fitter.survival_function_at_times(list(LANDMARKS)).tolist())
    statistic = float(multivariate_logrank_test(t, g, e).test_statistic)
    return medians, landmarks, statistic


def best_of(function, args: tuple, runs: int) -> tuple[float, tuple]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def agree(a: tuple, b: tuple) -> bool:
    """Same medians, landmark rates and log-rank statistic (to 1e-6)."""
    medians_a, landmarks_a, stat_a = a
    medians_b, landmarks_b, stat_b = b
    return bool(
        medians_a == medians_b
        and np.allclose(landmarks_a, landmarks_b, rtol=1e-6)
        and np.isclose(stat_a, stat_b, rtol=1e-6)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ties", choices=("days", "none"), default="days")
    parser.add_argument("--no-lifelines", action="store_true")
    args = parser.parse_args()
    report = []
    run_toolkit(*cohort(1000, args.ties))  # imports and first-call costs out of the timings
    for n in (int(x) for x in args.sizes.split(",")):
        data = cohort(n, args.ties)
        toolkit_s, ours = best_of(run_toolkit, data, args.runs)
        floor_s, floor = best_of(run_floor, data, args.runs)
        row = {
            "patients": n,
            "ties": args.ties,
            "toolkit_s": round(toolkit_s, 4),
            "numpy_floor_s": round(floor_s, 4),
            "ratio_to_floor": round(toolkit_s / floor_s, 2),
            "agrees_with_floor": agree(ours, floor),
        }
        if not args.no_lifelines:
            lifelines_s, theirs = best_of(run_lifelines, data, 1 if n >= 10**6 else args.runs)
            row |= {
                "lifelines_s": round(lifelines_s, 4),
                "lifelines_vs_toolkit": round(lifelines_s / toolkit_s, 1),
                "agrees_with_lifelines": agree(ours, theirs),
            }
        row["target"] = "10^6 < 2 s and ≤ 3× floor"
        row["meets_target"] = toolkit_s <= 3 * floor_s and (n < 10**6 or toolkit_s < 2.0)
        report.append(row)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "survival.json").write_text(json.dumps(report, indent=2) + "\n")
    keys = list(report[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in report:
        print("| " + " | ".join(str(row.get(k, "")) for k in keys) + " |")


if __name__ == "__main__":
    main()
