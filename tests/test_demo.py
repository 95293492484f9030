"""The demo end to end, read back as a reader meets it: the PDF text holds the computed numbers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.render import fmt_months, fmt_pct

POSTER = {  # the poster's values; the demo must land within the tolerance
    "il2_only": {"n": 123, "median": 14.0, "s12": 0.57},
    "il2_ipi": {"n": 78, "median": 15.8, "s12": 0.64},
    "il2_pd1": {"n": 35, "median": 28.7, "s12": 0.97},
}


@pytest.fixture(scope="module")
def results(demo_dir: Path) -> dict:
    return json.loads((demo_dir / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pdf_text(demo_dir: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(demo_dir / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_demo_writes_the_report_files(demo_dir: Path) -> None:
    for name in ("report.html", "report.pdf", "results.json", "registry.duckdb"):
        assert (demo_dir / name).stat().st_size > 0, name
    assert (demo_dir / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_strata_have_the_poster_counts(results: dict) -> None:
    assert results["cohort"]["n_analysed"] == 236
    assert {g["key"]: g["n"] for g in results["strata"]} == {k: v["n"] for k, v in POSTER.items()}


def test_medians_and_landmarks_are_near_the_poster(results: dict) -> None:
    assert abs(results["overall"]["median"] - 18.4) <= 1.5
    assert abs(results["followup"]["median"] - 21.7) <= 1.5
    for group in results["strata"]:
        target = POSTER[group["key"]]
        if group["key"] == "il2_pd1":
            # the poster's 28.7 months rests on fewer than 10 patients at risk: not shown
            assert group["median"] == "NE (<10 at risk)"
            assert group["shown_until"] < target["median"]
        else:
            assert abs(group["median"] - target["median"]) <= 1.5, group["label"]
        (s12,) = [s for s in group["survival_at"] if s["time"] == 12]
        assert abs(s12["estimate"] - target["s12"]) <= 0.04, group["label"]


def test_pdf_shows_the_computed_sizes_and_medians(results: dict, pdf_text: str) -> None:
    flat = " ".join(pdf_text.split())
    assert "236" in flat
    for group in results["strata"]:
        assert group["label"] in flat
        assert str(group["n"]) in flat
        assert fmt_months(group["median"]) in flat, group["label"]
        (s12,) = [s for s in group["survival_at"] if s["time"] == 12]
        assert fmt_pct(s12["estimate"]) in flat
    assert fmt_months(results["overall"]["median"]) in flat
    assert fmt_months(results["followup"]["median"]) in flat


def test_pdf_carries_the_km_figure_with_numbers_at_risk(demo_dir: Path, results: dict) -> None:
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html
    first = results["strata"][0]
    assert first["at_risk"][0]["at_risk"] == first["n"]


def test_cli_demo_runs_again_to_identical_bytes(tmp_path: Path, demo_dir: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert str(out / "report.pdf") in done.stdout
    assert "Traceback" not in done.stderr
    for name in ("report.html", "report.pdf", "results.json"):
        assert (out / name).read_bytes() == (demo_dir / name).read_bytes(), name


def _renderings(results: dict) -> set[str]:
    """Every way the templates write a number of results.json (and numbers inside its texts)."""
    out: set[str] = set()

    def add(value) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            for scale in (1.0, 100.0):
                for decimals in range(4):
                    out.add(f"{float(value) * scale:.{decimals}f}")
            if float(value).is_integer():
                out.add(f"{int(value):,}")
        elif isinstance(value, str):
            for number in re.findall(r"\d+(?:[.,]\d+)*", value):
                parts = number.split(".")
                out.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))

    def walk(node) -> None:
        if isinstance(node, dict):
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)
        else:
            add(node)

    walk(results)
    return out


def test_every_number_in_the_pdf_comes_from_results_json(results: dict, pdf_text: str) -> None:
    """The templates render from results.json and nothing else: no number the PDF shows is
    missing from it (in one of the formats the report uses)."""
    tokens = set(re.findall(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?", pdf_text))
    assert sorted(tokens - _renderings(results)) == []
