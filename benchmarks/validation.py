"""Validation throughput at scale, with DuckDB reading the same files as the floor.

    .venv/bin/python benchmarks/validation.py [--patients 1000000] [--runs 3]

Generates one site submission of N patients (cached in benchmarks/cache/), clean and with 5%
of rows broken, then times, each in a fresh process (so peak memory is that stage's own):
DuckDB reading the four CSV files as text (the floor) and ``toolkit.validate`` on them.
Prints a Markdown table and writes benchmarks/results/validation.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
RESULTS = HERE / "results"
FILES = ("patients", "treatments", "adverse_events", "assessments")

CHILD = {
    "duckdb-read": """
import duckdb
con = duckdb.connect()
for name in {files!r}:
    con.execute(
        "select count(*) from read_csv(?, all_varchar = true, header = true)",
        [f"{folder}/{{name}}.csv"],
    ).fetchall()
""",
    "validate": """
from toolkit.submission import open_submission
from toolkit.validate import validate
result = validate(open_submission({folder!r}))
print(result.findings.height, file=__import__("sys").stderr)
""",
}

TIMER = """
import json, resource, time
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed,
                   "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def registry(patients: int, error_rate: float) -> Path:
    """One-site registry of ``patients`` patients, generated once and cached."""
    out = CACHE / f"validate-{patients}-{error_rate:g}"
    if not (out / "S01" / "patients.csv").exists():
        from toolkit.synth import synthesise

        synthesise(out, patients=patients, sites=1, error_rate=error_rate)
    return out / "S01"


def measure(stage: str, folder: Path) -> dict:
    body = CHILD[stage].format(folder=str(folder), files=FILES)
    done = subprocess.run(
        [sys.executable, "-c", TIMER.format(body=body)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def rows_in(folder: Path) -> int:
    return sum(sum(1 for _ in open(folder / f"{name}.csv", "rb")) - 1 for name in FILES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    report = []
    for label, rate in (("clean", 0.0), ("5% of rows broken", 0.05)):
        folder = registry(args.patients, rate)
        rows = rows_in(folder)
        timings = {s: [measure(s, folder) for _ in range(args.runs)] for s in CHILD}
        floor = statistics.median(t["seconds"] for t in timings["duckdb-read"])
        seconds = statistics.median(t["seconds"] for t in timings["validate"])
        report.append(
            {
                "submission": label,
                "patients": args.patients,
                "rows": rows,
                "duckdb_read_s": round(floor, 3),
                "validate_s": round(seconds, 3),
                "ratio_to_floor": round(seconds / floor, 2),
                "rows_per_s": round(rows / seconds),
                "validate_peak_mb": round(max(t["peak_mb"] for t in timings["validate"])),
                "target": "≤ 3× floor, < 4096 MB",
                "meets_target": seconds <= 3 * floor
                and max(t["peak_mb"] for t in timings["validate"]) < 4096,
            }
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validation.json").write_text(json.dumps(report, indent=2) + "\n")
    keys = list(report[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in report:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
