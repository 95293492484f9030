"""The sponsor edition: small-cell suppression that cannot be undone by subtraction, and no
identifiers or full dates in anything the sponsor receives."""

from __future__ import annotations

import copy
import csv
import itertools
import json
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.disclosure import (
    COMPLEMENTARY,
    month_year,
    primary_marker,
    sponsor_edition,
    suppress_cells,
    top_code_age,
)

K = 11


# --- an independent checker -------------------------------------------------------------------


def recovered_by_subtraction(values: dict, sets: list, hidden: set) -> set:
    """Hidden cells a reader can compute from the shown ones, chaining subtractions.

    Every additive set ``total = sum(cells)`` with exactly one unknown member gives that member
    away; it then counts as known for the other sets, until nothing more can be computed.
    """
    known = {key for key in values if key not in hidden}
    recovered: set = set()
    progress = True
    while progress:
        progress = False
        for total, cells in sets:
            unknown = [key for key in dict.fromkeys([total, *cells]) if key not in known]
            if len(unknown) == 1:
                known.add(unknown[0])
                recovered.add(unknown[0])
                progress = True
    return recovered


def table_sets(table: list[list[int]]) -> tuple[dict, list]:
    """Cells, row totals, column totals and the grand total of a table, with every additive set."""
    values, sets = {}, []
    rows, cols = len(table), len(table[0])
    for r, c in itertools.product(range(rows), range(cols)):
        values[("cell", r, c)] = table[r][c]
    for r in range(rows):
        values[("row", r)] = sum(table[r])
        sets.append((("row", r), [("cell", r, c) for c in range(cols)]))
    for c in range(cols):
        values[("col", c)] = sum(row[c] for row in table)
        sets.append((("col", c), [("cell", r, c) for r in range(rows)]))
    values[("all",)] = sum(map(sum, table))
    sets.append((("all",), [("row", r) for r in range(rows)]))
    sets.append((("all",), [("col", c) for c in range(cols)]))
    return values, sets


def assert_safe(values: dict, sets: list, hidden: dict) -> None:
    small = {k for k, v in values.items() if 1 <= v < K}
    assert small <= set(hidden), "every small cell is hidden"
    assert not recovered_by_subtraction(values, sets, set(hidden))


# --- the rules on small tables ----------------------------------------------------------------


def test_a_single_small_cell_gets_a_complementary_partner() -> None:
    values, sets = table_sets([[40, 3, 57]])
    hidden = suppress_cells(values, sets, K)
    assert hidden[("cell", 0, 1)] == "primary"
    assert hidden[("cell", 0, 0)] == "complementary"  # the next smallest of the row
    assert_safe(values, sets, hidden)


def test_zero_is_shown_and_not_picked_while_a_non_zero_cell_is_left() -> None:
    values, sets = table_sets([[0, 5, 30, 20]])
    hidden = suppress_cells(values, sets, K)
    assert ("cell", 0, 0) not in hidden
    assert hidden[("cell", 0, 3)] == "complementary"
    assert_safe(values, sets, hidden)


def test_suppression_propagates_across_rows_and_columns_until_stable() -> None:
    table = [[50, 4, 30], [60, 25, 35], [45, 20, 2]]
    values, sets = table_sets(table)
    hidden = suppress_cells(values, sets, K)
    assert {k for k, v in hidden.items() if v == "primary"} == {("cell", 0, 1), ("cell", 2, 2)}
    assert_safe(values, sets, hidden)
    # Every column and row with a hidden cell holds at least two.
    for total, cells in sets:
        assert sum(k in hidden for k in [total, *cells]) != 1


@pytest.mark.parametrize("seed", range(30))
def test_random_tables_are_never_recoverable(seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 6)))
    table = rng.choice([0, 1, 2, 5, 9, 12, 30, 80], size=shape).tolist()
    values, sets = table_sets(table)
    hidden = suppress_cells(values, sets, K)
    assert_safe(values, sets, hidden)


def test_the_checker_finds_a_lone_suppressed_cell() -> None:
    values, sets = table_sets([[40, 3, 57]])
    assert recovered_by_subtraction(values, sets, {("cell", 0, 1)}) == {("cell", 0, 1)}


def test_small_helpers() -> None:
    assert primary_marker(11) == "<11"
    assert top_code_age(89.0) == 89.0
    assert top_code_age(90.0) == "90+"
    assert top_code_age(None) is None
    assert month_year("2015-03-20") == "March 2015"


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError):
        sponsor_edition({"overall": {}, "cohort": {}}, 0)


# --- on the demo's context --------------------------------------------------------------------


@pytest.fixture(scope="module")
def internal_context(demo_dir: Path) -> dict:
    return json.loads((demo_dir / "results.json").read_text(encoding="utf-8"))


def hidden_keys(internal: dict) -> tuple[dict, list, set]:
    """Cells of the internal context, their sets, and which the sponsor edition hides."""
    from toolkit.disclosure import _collect

    cells = _collect(copy.deepcopy(internal))
    sponsor = sponsor_edition(internal, K)
    shown = _collect(sponsor).values  # hidden cells hold strings and are not collected
    return cells.values, cells.sets, {key for key in cells.values if key not in shown}


def test_demo_context_is_not_recoverable(internal_context: dict) -> None:
    values, sets, hidden = hidden_keys(internal_context)
    assert hidden
    assert {k for k, v in values.items() if 1 <= v < K} <= hidden
    assert not recovered_by_subtraction(values, sets, hidden)


def test_sponsor_edition_leaves_its_input_alone(internal_context: dict) -> None:
    before = json.dumps(internal_context, sort_keys=True)
    sponsor_edition(internal_context, K)
    assert json.dumps(internal_context, sort_keys=True) == before


def test_sponsor_counts_are_zero_or_at_least_k(internal_context: dict) -> None:
    from toolkit.disclosure import _collect

    sponsor = sponsor_edition(internal_context, K)
    assert all(v == 0 or v >= K for v in _collect(sponsor).values.values())
    table1 = sponsor["table1"]
    for covariate in table1["covariates"]:
        for level in covariate["levels"]:
            for cell in level["cells"]:
                if isinstance(cell["n"], str):
                    assert cell["n"] in (f"<{K}", COMPLEMENTARY) and cell["pct"] is None
    assert sponsor["disclosure"]["threshold"] == K
    assert sponsor["min_at_risk_shown"] >= K


# --- the sponsor report end to end ------------------------------------------------------------


@pytest.fixture(scope="module")
def sponsor_dir(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rich.console import Console

    from toolkit.pipeline import build_report
    from toolkit.study import builtin_study_path

    out = tmp_path_factory.mktemp("sponsor")
    build_report(
        demo_dir / "registry.duckdb",
        builtin_study_path("proclaim"),
        None,
        out,
        edition="sponsor",
        suppress_below=K,
        paper="letter",
        console=Console(quiet=True),
    )
    return out


def input_identifiers_and_dates(submissions: Path) -> tuple[set, set, set]:
    """Patient ids, site ids and every full date in the submitted CSV files."""
    patients, sites, dates = set(), set(), set()
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    for path in sorted(submissions.glob("*/*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("patient_id"):
                    patients.add(row["patient_id"])
                if row.get("site_id"):
                    sites.add(row["site_id"])
                dates |= {v for v in row.values() if v and iso.match(v)}
    return patients, sites, dates


def long_form(iso: str) -> str:
    from toolkit.documents import long_date

    return long_date(iso)


def strip_embedded(html: str) -> str:
    """HTML without its base64 font and its SVG path data (numbers that are not text)."""
    html = re.sub(r"data:font/woff;base64,[A-Za-z0-9+/=]+", "", html)
    return re.sub(r'\sd="[^"]*"', "", html)


@pytest.fixture(scope="module")
def sponsor_texts(sponsor_dir: Path) -> dict[str, str]:
    pdf = subprocess.run(
        ["pdftotext", str(sponsor_dir / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        "pdf": pdf,
        "results.json": (sponsor_dir / "results.json").read_text(encoding="utf-8"),
        "html": strip_embedded((sponsor_dir / "report.html").read_text(encoding="utf-8")),
    }


def test_sponsor_files_hold_no_identifier(demo_dir: Path, sponsor_texts: dict) -> None:
    patients, sites, _ = input_identifiers_and_dates(demo_dir / "submissions")
    assert patients and sites
    adtte_keys = {f"{s}:{p}" for s in sites for p in patients}
    for name, text in sponsor_texts.items():
        for site in sorted(sites):
            assert not re.search(rf"(?<![\w]){re.escape(site)}(?![\w])", text), (name, site)
        for patient in sorted(patients):
            assert not re.search(rf"(?<![\w.:-]){re.escape(patient)}(?![\w])", text), (
                name,
                patient,
            )
        assert not any(key in text for key in adtte_keys), name


def test_sponsor_files_hold_no_full_date_but_the_cutoff(
    demo_dir: Path, sponsor_texts: dict
) -> None:
    _, _, dates = input_identifiers_and_dates(demo_dir / "submissions")
    cutoff = sponsor_texts and json.loads(sponsor_texts["results.json"])["cutoff"]
    dates.discard(cutoff)
    assert dates
    for name, text in sponsor_texts.items():
        flat = " ".join(text.split())
        for day in sorted(dates):
            assert day not in flat, (name, day)
            assert not re.search(rf"(?<!\d){long_form(day)}", flat), (name, day)
        found = set(re.findall(r"\b\d{4}-\d{2}-\d{2}\b", flat))
        assert found <= {cutoff}, (name, found)
    assert cutoff == "2015-03-16"  # the demo's data cutoff, the poster's


def test_sponsor_report_shows_suppressed_cells(sponsor_texts: dict, sponsor_dir: Path) -> None:
    flat = " ".join(sponsor_texts["pdf"].split())
    assert f"<{K}" in flat
    assert f"Cells below {K} suppressed" in flat or f"cells below {K} suppressed" in flat
    results = json.loads(sponsor_texts["results.json"])
    assert results["edition"] == "sponsor"
    assert results["provenance"]["submissions"] == []
    assert results["provenance"]["n_sites"] == 6
    assert "sponsor edition" in flat.lower()


def test_sponsor_report_is_letter_sized(sponsor_dir: Path) -> None:
    from pypdf import PdfReader

    box = PdfReader(sponsor_dir / "report.pdf").pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_cli_accepts_edition_and_threshold(demo_dir: Path, tmp_path: Path) -> None:
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "toolkit",
            "report",
            "--db",
            str(demo_dir / "registry.duckdb"),
            "--out",
            str(tmp_path),
            "--format",
            "html",
            "--edition",
            "sponsor",
            "--suppress-below",
            "5",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["disclosure"]["threshold"] == 5
    assert "&lt;5" in (tmp_path / "report.html").read_text(encoding="utf-8")


@settings(max_examples=150, derandomize=True, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda rows: st.lists(
            st.lists(st.sampled_from([0, 1, K - 1, K, K + 1, 2 * K, 80]), min_size=2, max_size=5),
            min_size=rows,
            max_size=rows,
        ).filter(lambda table: len({len(row) for row in table}) == 1)
    )
)
def test_no_count_from_1_to_k_minus_1_is_shown_or_recoverable(table: list[list[int]]) -> None:
    values, sets = table_sets(table)
    hidden = suppress_cells(values, sets, K)
    assert_safe(values, sets, hidden)
    # K itself is not small: a cell of exactly K is shown unless it hides another one
    assert all(hidden.get(key) != "primary" for key, value in values.items() if value >= K)
