"""The code base stays ruff-clean: lint and format are part of the test suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PATHS = ["toolkit", "schemas", "tests", "benchmarks"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    existing = [p for p in PATHS if (REPO / p).exists()]
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *existing], cwd=REPO, capture_output=True, text=True
    )


def test_ruff_check_is_clean() -> None:
    done = _ruff("check")
    assert done.returncode == 0, done.stdout


def test_ruff_format_is_clean() -> None:
    done = _ruff("format", "--check")
    assert done.returncode == 0, done.stdout
