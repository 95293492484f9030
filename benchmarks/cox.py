"""Cox models at 10^4, 10^5 and 10^6 patients: toolkit vs lifelines vs R (not a test).

    .venv/bin/python benchmarks/cox.py [--sizes 10000,100000,1000000] [--runs 3]
        [--lifelines-max 1000000] [--lifelines-tv-max 100000] [--no-r]

Data: generated directly with NumPy in the shape of the analysis relations (not through
``toolkit synth`` + ingest + SQL, which would time the pipeline rather than the model):
one ADTTE row per patient (follow-up in whole days / 30.4375, so events tie as in the
registry; about 45% of patients start a later therapy, in one of two strata) and the
episodes (tstart, tstop] of the time-varying strata. Both models have 5 coefficients:

- Cox: stratum (2 dummies) + age + sex + LDH elevated, on the ADTTE rows;
- time-varying Cox: episode stratum (2 dummies) + age + sex + LDH, on the episode rows.

Timed, on the same data: the toolkit's engine (:func:`toolkit.survival.cox.fit_efron`, best of
``--runs``), the full :func:`toolkit.survival.cox.cox_ph` (design matrix from a polars frame,
fit, Wald terms, tests and the cox.zph test), lifelines ``CoxPHFitter`` and
``CoxTimeVaryingFitter`` (once; skipped above ``--lifelines-max`` / ``--lifelines-tv-max``),
and R ``coxph`` (Efron; ``system.time`` of the fit alone inside Rscript, after reading a CSV
this script writes into benchmarks/cache/; skipped without Rscript). Coefficients are compared
across the three. Prints a Markdown table and writes benchmarks/results/cox.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
RESULTS = HERE / "results"
DAYS_PER_MONTH = 30.4375
NAMES = ["ipi", "pd1", "age", "male", "ldh"]

R_CODE = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
if (args[2] == "cox") {
  f <- Surv(time, event) ~ ipi + pd1 + age + male + ldh
} else {
  f <- Surv(tstart, tstop, event) ~ ipi + pd1 + age + male + ldh
}
elapsed <- system.time(fit <- coxph(f, data = d, ties = "efron"))[["elapsed"]]
zph <- if (args[2] == "cox") system.time(cox.zph(fit))[["elapsed"]] else NA
cat(sprintf("%.17g", c(elapsed, zph, coef(fit))), sep = "\n")
"""


def generate(n: int, seed: int = 2015) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(adtte, episodes) of ``n`` synthetic patients with the registry's shape."""
    rng = np.random.default_rng(seed)
    age = rng.normal(58, 12, n).round()
    male = (rng.random(n) < 0.62).astype(float)
    ldh = (rng.random(n) < 0.3).astype(float)
    base = np.exp(0.015 * (age - 58) + 0.1 * male + 0.5 * ldh) / 20.0
    death = np.ceil(rng.exponential(1 / base) * DAYS_PER_MONTH)
    censor = np.ceil(rng.uniform(1, 60, n) * DAYS_PER_MONTH)
    end = np.minimum(death, censor)
    event = death <= censor
    later = rng.choice([0, 1, 2], n, p=[0.55, 0.3, 0.15])
    switch = np.ceil(rng.uniform(0.1, 0.9, n) * end)
    moves = (later > 0) & (switch > 0) & (switch < end)
    later = np.where(moves, later, 0)
    adtte = pl.DataFrame(
        {
            "patient": np.arange(n),
            "time": end / DAYS_PER_MONTH,
            "event": event,
            "ipi": (later == 1).astype(float),
            "pd1": (later == 2).astype(float),
            "age": age,
            "male": male,
            "ldh": ldh,
        }
    )
    first = pl.DataFrame(
        {
            "patient": np.arange(n),
            "tstart": np.zeros(n),
            "tstop": np.where(moves, switch, end) / DAYS_PER_MONTH,
            "event": event & ~moves,
            "ipi": np.zeros(n),
            "pd1": np.zeros(n),
        }
    )
    second = pl.DataFrame(
        {
            "patient": np.flatnonzero(moves),
            "tstart": switch[moves] / DAYS_PER_MONTH,
            "tstop": end[moves] / DAYS_PER_MONTH,
            "event": event[moves],
            "ipi": (later[moves] == 1).astype(float),
            "pd1": (later[moves] == 2).astype(float),
        }
    )
    covariates = adtte.select("patient", "age", "male", "ldh")
    episodes = pl.concat([first, second]).sort("patient", "tstart").join(covariates, on="patient")
    return adtte, episodes


def timed(function, runs: int = 1):
    """(best seconds, last result) of ``runs`` calls."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def toolkit_cox(adtte: pl.DataFrame, runs: int) -> dict:
    from toolkit.survival.cox import cox_ph
    from toolkit.survival.cox_engine import fit_efron

    x = adtte.select(NAMES).to_numpy()
    engine_s, fit = timed(
        lambda: fit_efron(adtte["time"].to_numpy(), adtte["event"].to_numpy(), x), runs
    )
    full_s, _ = timed(
        lambda: cox_ph(adtte, time="time", event="event", continuous=NAMES, ph_test=True), runs
    )
    return {"engine_s": engine_s, "full_s": full_s, "coef": fit.coef_.tolist()}


def toolkit_tv(episodes: pl.DataFrame, runs: int) -> dict:
    from toolkit.survival.cox_engine import fit_efron

    x = episodes.select(NAMES).to_numpy()
    seconds, fit = timed(
        lambda: fit_efron(
            episodes["tstop"].to_numpy(),
            episodes["event"].to_numpy(),
            x,
            start=episodes["tstart"].to_numpy(),
        ),
        runs,
    )
    return {"engine_s": seconds, "coef": fit.coef_.tolist()}


def lifelines_cox(adtte: pl.DataFrame) -> dict:
    from lifelines import CoxPHFitter

    frame = adtte.select("time", "event", *NAMES).to_pandas()
    seconds, fitter = timed(lambda: CoxPHFitter().fit(frame, "time", "event"))
    return {"seconds": seconds, "coef": fitter.params_[NAMES].tolist()}


def lifelines_tv(episodes: pl.DataFrame) -> dict:
    from lifelines import CoxTimeVaryingFitter

    frame = episodes.select("patient", "tstart", "tstop", "event", *NAMES).to_pandas()
    seconds, fitter = timed(
        lambda: CoxTimeVaryingFitter().fit(
            frame, event_col="event", start_col="tstart", stop_col="tstop", id_col="patient"
        )
    )
    return {"seconds": seconds, "coef": fitter.params_[NAMES].tolist()}


def r_fit(frame: pl.DataFrame, kind: str, n: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    CACHE.mkdir(exist_ok=True)
    csv = CACHE / f"cox-{kind}-{n}.csv"
    frame.with_columns(pl.col("event").cast(pl.Int8)).write_csv(csv)
    script = CACHE / "cox_bench.R"
    script.write_text(R_CODE, encoding="utf-8")
    done = subprocess.run(
        ["Rscript", str(script), str(csv), kind], capture_output=True, text=True, check=True
    )
    values = [float(v) if v != "NA" else None for v in done.stdout.split()]
    return {"seconds": values[0], "zph_seconds": values[1], "coef": values[2:]}


def max_diff(a: list[float], b: list[float] | None) -> float | None:
    if b is None:
        return None
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def run_size(n: int, args) -> dict:
    adtte, episodes = generate(n)
    ours = toolkit_cox(adtte, args.runs)
    ours_tv = toolkit_tv(episodes, args.runs)
    life = lifelines_cox(adtte) if n <= args.lifelines_max else None
    life_tv = lifelines_tv(episodes) if n <= args.lifelines_tv_max else None
    r_cox = None if args.no_r else r_fit(adtte, "cox", n)
    r_tv = None if args.no_r else r_fit(episodes, "tv", n)
    return {
        "patients": n,
        "events": int(adtte["event"].sum()),
        "episode_rows": episodes.height,
        "cox": {
            "toolkit_engine_s": ours["engine_s"],
            "toolkit_cox_ph_with_zph_s": ours["full_s"],
            "lifelines_s": life and life["seconds"],
            "r_coxph_s": r_cox and r_cox["seconds"],
            "r_cox_zph_s": r_cox and r_cox["zph_seconds"],
            "max_coef_diff_lifelines": max_diff(ours["coef"], life and life["coef"]),
            "max_coef_diff_r": max_diff(ours["coef"], r_cox and r_cox["coef"]),
        },
        "time_varying": {
            "toolkit_engine_s": ours_tv["engine_s"],
            "lifelines_s": life_tv and life_tv["seconds"],
            "r_coxph_s": r_tv and r_tv["seconds"],
            "max_coef_diff_lifelines": max_diff(ours_tv["coef"], life_tv and life_tv["coef"]),
            "max_coef_diff_r": max_diff(ours_tv["coef"], r_tv and r_tv["coef"]),
        },
    }


def fmt(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1e-2 else f"{x:.2f}"
    return str(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lifelines-max", type=int, default=1_000_000)
    parser.add_argument("--lifelines-tv-max", type=int, default=100_000)
    parser.add_argument("--no-r", action="store_true")
    args = parser.parse_args()
    report = [run_size(int(n), args) for n in args.sizes.split(",")]
    RESULTS.mkdir(exist_ok=True)
    meta = {"machine": platform.platform(), "python": platform.python_version()}
    (RESULTS / "cox.json").write_text(json.dumps({"meta": meta, "runs": report}, indent=2) + "\n")
    for model in ("cox", "time_varying"):
        keys = list(report[0][model])
        print(f"\n{model}\n")
        print("| patients | " + " | ".join(keys) + " |")
        print("|---|" + "---|" * len(keys))
        for row in report:
            print(f"| {row['patients']} | " + " | ".join(fmt(row[model][k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
