"""``make mutate``: mutation testing of the core modules with mutmut, a score per module.

Run from the repository root::

    .venv/bin/python tests/mutation/run.py                     # every module below
    .venv/bin/python tests/mutation/run.py toolkit/disclosure.py   # one module
    make mutate MODULE=toolkit/survival/kaplan_meier.py

Each module is mutated in its own scratch copy of the working tree under ``.mutants/`` (mutmut
rewrites the sources it mutates, so the checkout is never touched), against the fast tests that
cover it (:data:`MODULES`); the copy is made afresh each run. The score is killed / (mutants -
equivalent): a mutant that times out counts as killed, and :data:`EQUIVALENT` lists, with the
reason, each surviving mutant that no test can kill because it does not change behaviour.
``mutmut show NAME``, run in the module's scratch folder, prints a mutant's diff. Timeouts are
shown apart: run it on an idle machine, where only an endless loop times out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRATCH = REPO / ".mutants"
MUTMUT = REPO / ".venv" / "bin" / "mutmut"
TARGET = 0.85

#: Leave out the tests that run the whole pipeline (tests/conftest.py marks them).
QUICK = ["-m", "not demo"]

#: The Cox model's public fit, engine and tests are tested together.
COX_TESTS = [
    "tests/survival/test_cox.py",
    "tests/survival/test_cox_engine.py",
    "tests/survival/test_time_varying.py",
    "tests/analyses/test_landmark.py",
    "tests/analyses/test_strata.py",
    "tests/survival/test_lifelines_oracle.py",
]

#: Module → the fast tests that cover it (no demo run, no subprocess per test).
MODULES: dict[str, list[str]] = {
    "toolkit/survival/kaplan_meier.py": [
        "tests/survival/test_kaplan_meier.py",
        "tests/survival/test_kaplan_meier_edges.py",
        "tests/survival/test_km_curve_zero.py",
        "tests/survival/test_lifelines_oracle.py",
        "tests/survival/test_counts.py",
    ],
    "toolkit/survival/cox.py": COX_TESTS,
    "toolkit/survival/cox_engine.py": COX_TESTS,
    "toolkit/survival/cox_inference.py": COX_TESTS,
    "schemas/cross.py": ["tests/test_validate.py", "tests/schemas"],
    "schemas/csv_format.py": ["tests/schemas/test_csv_format.py"],
    "toolkit/disclosure.py": ["tests/test_disclosure.py"],
    "toolkit/ingest.py": [
        "tests/test_ingest.py",
        # kills real ingest processes: its in-process part calls nothing of ingest.py
        "--deselect=tests/test_ingest.py::test_killed_ingest_leaves_the_database_before_or_after",
    ],
    "toolkit/report_context.py": ["tests/test_report_context.py"],
    "toolkit/portable_sql.py": ["tests/queries/test_portable.py"],
    "toolkit/survival/_common.py": [
        "tests/survival/test_counts.py",
        "tests/survival/test_kaplan_meier_edges.py",
        "tests/survival/test_logrank.py",
        "tests/survival/test_rmst.py",
        "tests/survival/test_followup.py",
        "tests/survival/test_association.py",
        "tests/survival/test_competing_risks.py",
    ],
    "toolkit/survival/association.py": [
        "tests/survival/test_association.py",
        "tests/test_report_context.py",
    ],
    "toolkit/analyses/safety.py": ["tests/analyses/test_safety.py"],
    "toolkit/survival/competing_risks.py": ["tests/survival/test_competing_risks.py"],
    # the cohort SQL, mutated by tests/mutation/sql.py and tested by its TESTS
    "queries": [],
}

#: Surviving mutants that do not change behaviour: mutant name → why.
EQUIVALENT: dict[str, str] = tomllib.loads(
    (Path(__file__).with_name("equivalent.toml")).read_text(encoding="utf-8")
).get("equivalent", {})

_COPIED = ("toolkit", "schemas", "queries", "templates", "tests", "pyproject.toml", "README.md")


def _copy_tree(module: str) -> Path:
    """A fresh copy of the working tree for ``module``; earlier results are not kept."""
    folder = SCRATCH / module.replace("/", "__").removesuffix(".py")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in _COPIED:
        source, target = REPO / name, folder / name
        if source.is_dir():
            shutil.copytree(
                source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, target)
    return folder


def _scratch(module: str) -> Path:
    """A fresh copy of the working tree for ``module``, configured for mutmut (which does not
    notice changed tests, so its earlier results are not kept)."""
    folder = _copy_tree(module)
    config = (
        "\n[tool.mutmut]\n"
        f'source_paths = ["{module}"]\n'
        f"pytest_add_cli_args_test_selection = {json.dumps([*MODULES[module], *QUICK])}\n"
        f"also_copy = {json.dumps(list(_COPIED))}\n"
        # A mutant that turns a loop endless is stopped once it runs 5× the clean tests' time
        # plus 10 s (the constant covers a forked child's start-up, which mutmut's estimate
        # of the tests' time leaves out).
        "timeout_multiplier = 5.0\n"
        "timeout_constant = 10.0\n"
        # polars' thread pool does not survive a fork from a process that has used it: fork
        # each mutant from a server that has only collected the tests.
        'process_isolation = "forkserver"\n'
    )
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + config, encoding="utf-8")
    return folder


def _results(folder: Path) -> dict[str, str]:
    """Mutant name → status (killed, survived, no tests, timeout, …) from mutmut."""
    done = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    statuses = {}
    for line in done.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            statuses[name] = status
    return statuses


def _sql_results(module: str) -> tuple[Path, dict[str, str]]:
    """Mutant name → status from the SQL mutator (tests/mutation/sql.py), on ``queries`` or
    one file ``queries/layer/file.sql``."""
    folder = _copy_tree("queries")
    only = module.removeprefix("queries").strip("/")
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("sql.py")),
            str(folder),
            *([only] if only else []),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return folder, json.loads(done.stdout)


def mutate(module: str) -> dict:
    """Run mutmut (or, on ``queries``, the SQL mutator) on ``module``; its counts, score and
    surviving mutants."""
    if module.startswith("queries"):
        folder, statuses = _sql_results(module)
    else:
        folder = _scratch(module)
        subprocess.run([str(MUTMUT), "run"], cwd=folder, check=False, stdout=subprocess.DEVNULL)
        statuses = _results(folder)
    killed = [n for n, s in statuses.items() if s in ("killed", "timeout")]
    timeouts = [n for n, s in statuses.items() if s == "timeout"]
    alive = sorted(n for n, s in statuses.items() if s not in ("killed", "timeout"))
    equivalent = {name for name in alive if name in EQUIVALENT}
    stale = sorted(name for name in killed if name in EQUIVALENT)
    counted = len(statuses) - len(equivalent)
    return {
        "module": module,
        "mutants": len(statuses),
        "killed": len(killed),
        "timeouts": len(timeouts),
        "equivalent": len(equivalent),
        "survived": [n for n in alive if n not in equivalent],
        "stale": stale,
        "score": len(killed) / counted if counted else 1.0,
        "folder": str(folder.relative_to(REPO)),
    }


def main(argv: list[str]) -> int:
    modules = argv or list(MODULES)
    unknown = [m for m in modules if m not in MODULES and not m.startswith("queries")]
    if unknown:
        print(f"no tests are listed for {', '.join(unknown)} in tests/mutation/run.py MODULES")
        return 2
    rows = [mutate(module) for module in modules]
    width = max(len(row["module"]) for row in rows)
    print(f"{'module':<{width}}  mutants  killed (timeouts)  equivalent  survived  score")
    for row in rows:
        print(
            f"{row['module']:<{width}}  {row['mutants']:>7}  {row['killed']:>6} "
            f"{'(' + str(row['timeouts']) + ')':>10}  "
            f"{row['equivalent']:>10}  {len(row['survived']):>8}  {row['score']:>6.1%}"
        )
    for row in rows:
        if row["stale"]:
            print(f"\nlisted as equivalent in {row['module']} but killed (remove them):")
            for name in row["stale"]:
                print(f"  {name}")
        if row["survived"]:
            print(f"\nsurviving in {row['module']} (mutmut show NAME, in {row['folder']}):")
            for name in row["survived"]:
                print(f"  {name}")
    return 0 if all(row["score"] >= TARGET for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
