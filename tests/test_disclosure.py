"""The sponsor edition: small-cell suppression that cannot be undone by subtraction, and no
identifiers or full dates in anything the sponsor receives."""

from __future__ import annotations

import copy
import csv
import itertools
import json
import random
import re
import subprocess
from collections import defaultdict
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


def recovered_within_bounds(values: dict, sets: list, hidden: dict) -> set:
    """Cells hidden as small whose smallest and largest possible values are equal.

    What a reader knows: every set adds up; a cell shown ``"<K"`` holds 1 to K−1; a cell shown
    ``"*"`` (``hidden[key] == "complementary"``) holds 0 or K and more (up to twice the largest
    count, a bound the solver needs). Each hidden cell is minimised and maximised over all the
    integer solutions of the whole system.
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    unknown = sorted(hidden, key=repr)
    stars = [key for key in unknown if hidden[key] != "primary"]
    column = {key: i for i, key in enumerate(unknown)}
    width = len(unknown) + len(stars)
    largest = 2 * max(values.values()) + K
    equations, lows, highs = [], [], []
    for total, cells in sets:
        row, shown = np.zeros(width), 0
        for key, sign in [(total, 1), *[(cell, -1) for cell in dict.fromkeys(cells)]]:
            if key in column:
                row[column[key]] += sign
            else:
                shown += sign * values[key]
        if row.any():
            equations.append(row)
            lows.append(-shown)
            highs.append(-shown)
    for s, key in enumerate(stars):  # x >= K*b and x <= largest*b with b in {0, 1}
        for factor, low, high in ((K, 0, np.inf), (largest, -np.inf, 0)):
            row = np.zeros(width)
            row[column[key]], row[len(unknown) + s] = 1, -factor
            equations.append(row)
            lows.append(low)
            highs.append(high)
    lower = [1 if hidden[k] == "primary" else 0 for k in unknown] + [0] * len(stars)
    upper = [K - 1 if hidden[k] == "primary" else largest for k in unknown] + [1] * len(stars)
    system = {
        "constraints": [LinearConstraint(np.array(equations), lows, highs)] if equations else [],
        "integrality": np.ones(width),
        "bounds": Bounds(lower, upper),
    }
    found = set()
    for key, i in column.items():
        if hidden[key] != "primary":
            continue  # a "*" cell found gives away no small count
        extremes = []
        for sign in (1, -1):
            objective = np.zeros(width)
            objective[i] = sign
            extremes.append(round(milp(objective, **system).x[i]))
        if extremes[0] == extremes[1]:
            found.add(key)
    return found


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
    assert not recovered_within_bounds(values, sets, hidden)


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


def float_paths(value, path: str = "") -> dict[str, float]:
    """Every float of a JSON value by its path (list positions as ``[]``), first seen."""
    found: dict[str, float] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found = float_paths(item, f"{path}.{key}") | found
    elif isinstance(value, list):
        for item in value:
            found = float_paths(item, f"{path}[]") | found
    elif isinstance(value, float):
        found[path] = value
    return found


def test_sponsor_results_hold_no_digit_the_report_does_not_print(sponsor_texts: dict) -> None:
    results = json.loads(sponsor_texts["results.json"])
    finer = {
        path: value
        for path, value in float_paths(results).items()
        if len(repr(value).split(".")[1]) > 2
    }
    # left finer: the curves (rounded to 0.001, as the rules say) and the tests' statistics
    # and p-values, which give back no count
    assert finer
    for path in finer:
        assert re.search(r"\.curve\.|\.p$|p_value|_p_holm$|\.p_holm$|\.statistic$", path), path
    for path, value in float_paths(results).items():
        if re.search(r"median|quantiles\[\]\.(time|ci)|rmst.*(estimate|ci)", path):
            assert value == round(value, 1), path


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


# --- hand-built contexts, the sponsor edition worked out by hand -------------------------------
#
# Each context below is small enough for its suppression to be followed set by set; the comment
# above each expected value gives the reasoning, so none of it comes from the code under test.


def at_risk_row(time: float, at_risk: int, events: int, censored: int) -> dict:
    return {"time": time, "at_risk": at_risk, "events": events, "censored": censored}


def one_step_cohort(n: int) -> dict:
    return {
        "n_analysed": n,
        "flow": [{"label": "in the registry", "n": n, "excluded": 0, "reason": None}],
        "excluded": [],
    }


def group(key: str, n: int, events: int, censored: int, rows: list | None = None) -> dict:
    """A survival group; without ``rows`` it has no at-risk table at all."""
    made = {"key": key, "n": n, "events": events, "censored": censored}
    return made if rows is None else {**made, "at_risk": rows}


@pytest.fixture
def one_group() -> dict:
    overall = group(
        "overall",
        30,
        5,
        25,
        [
            at_risk_row(0.0, 30, 0, 0),
            at_risk_row(6.0, 22, 5, 3),
            at_risk_row(12.0, 14, 0, 8),
            at_risk_row(18.0, 5, 0, 9),
        ],
    )
    # (at 18 months 5 remain; 14 at 12 is above the threshold of 11, and 11 itself would be
    # kept too: see test_a_curve_stops_after_the_last_time_with_exactly_k_at_risk)
    overall["survival_at"] = [
        {"time": 6.0, "at_risk": 22, "estimate": 0.83},
        {"time": 12.0, "at_risk": 14, "estimate": 0.83},
    ]
    overall["curve"] = {
        "time": [0.0, 2.0, 6.0, 12.0, 15.0],
        "survival": [1.0, 0.97, 0.83, 0.83, 0.5],
        "at_risk": [30, 30, 22, 14, 6],
    }
    overall["censor_marks"] = {"time": [3.0, 12.0, 13.0], "survival": [0.97, 0.83, 0.83]}
    return {"overall": overall, "cohort": one_step_cohort(30), "min_at_risk_shown": 0}


def test_one_group_suppressed_as_worked_out_by_hand(one_group: dict) -> None:
    before = copy.deepcopy(one_group)
    sponsor = sponsor_edition(one_group, K)
    assert one_group == before, "the internal context is left alone"
    overall = sponsor["overall"]
    # Primary: events 5; at 6 months 5 events and 3 censored; 8 censored by 12; 5 at risk and
    # 9 censored at 18. Complementary: n 30 = events + censored, so censored (25) is hidden;
    # 22 at risk at 6 = 14 + 0 + 8, so 14 (not the zero) is hidden, and with it the same 14 at
    # risk at the 12-month landmark.
    assert (overall["n"], overall["events"], overall["censored"]) == (30, "<11", "*")
    assert overall["at_risk"] == [
        at_risk_row(0.0, 30, 0, 0),
        at_risk_row(6.0, 22, "<11", "<11"),
        at_risk_row(12.0, "*", 0, "<11"),
        at_risk_row(18.0, "<11", 0, "<11"),
    ]
    assert [entry["at_risk"] for entry in overall["survival_at"]] == [22, "*"]
    assert sponsor["cohort"]["n_analysed"] == 30
    # 11 or more remain at risk up to 12 months, but the 5 deaths by 6 months are hidden, and
    # S(6) = 0.83 of 30 at risk would give them back: the curve stops at 0, and the rates
    # after it rest on too few events. The per-step numbers at risk and the censoring times
    # are not published either.
    assert overall["shown_until"] == 0.0
    assert overall["curve"] == {"time": [0.0], "survival": [1.0]}
    assert overall["censor_marks"] == {"time": [], "survival": []}
    assert [entry["estimate"] for entry in overall["survival_at"]] == ["NE (<11 events)"] * 2
    assert sponsor["edition"] == "sponsor"
    assert sponsor["min_at_risk_shown"] == K
    assert sponsor["disclosure"] == {
        "suppressed": True,
        "threshold": K,
        "primary_marker": "<11",
        "complementary_marker": "*",
        "n_primary": 6,
        "n_complementary": 3,
        "rules": sponsor["disclosure"]["rules"],
    }


def test_a_study_minimum_above_the_threshold_stops_curves_earlier(one_group: dict) -> None:
    one_group["min_at_risk_shown"] = 25
    sponsor = sponsor_edition(one_group, K)
    # 30 at risk at 0, then 22 < 25: only the first point is left.
    assert sponsor["min_at_risk_shown"] == 25
    assert sponsor["overall"]["shown_until"] == 0.0
    assert sponsor["overall"]["curve"]["time"] == [0.0]
    assert sponsor["overall"]["censor_marks"]["time"] == []
    # the rates at 6 and 12 months rest on fewer than 25 at risk
    assert sponsor["overall"]["survival_at"] == [
        {"time": 6.0, "at_risk": 22, "estimate": "NE (<25 at risk)", "ci": [None, None]},
        {"time": 12.0, "at_risk": "*", "estimate": "NE (<25 at risk)", "ci": [None, None]},
    ]


def test_a_rate_resting_on_few_events_is_not_shown() -> None:
    # 35 patients, one death at 2 months, none censored before 12: 97% at 12 months is 34/35.
    # (The at-risk table has no 12-month row, so no hidden cell stops the curve before 24.)
    rows = [at_risk_row(0.0, 35, 0, 0), at_risk_row(24.0, 20, 13, 2)]
    overall = group("overall", 35, 13, 22, rows) | {
        "curve": {
            "time": [0.0, 2.0, 14.0, 20.0],
            "survival": [1.0, 0.971, 0.7, 0.6],
            "events": [0, 1, 8, 2],
        },
        "survival_at": [
            {"time": 12.0, "at_risk": 34, "estimate": 0.971, "ci": [0.8, 0.99]},
            {"time": 24.0, "at_risk": 20, "estimate": 0.6, "ci": [0.4, 0.75]},
        ],
    }
    sponsor = sponsor_edition({"overall": overall, "cohort": one_step_cohort(35)}, K)
    assert [(e["estimate"], e["ci"]) for e in sponsor["overall"]["survival_at"]] == [
        ("NE (<11 events)", [None, None]),
        (0.6, [0.4, 0.75]),  # 11 events by 24 months: not a small number
    ]
    # the curve at the at-risk times only: its step at 2 months would show the one death
    assert sponsor["overall"]["curve"] == {"time": [0.0, 24.0], "survival": [1.0, 0.6]}


def test_estimates_after_the_curve_stops_are_not_estimable() -> None:
    rows = [at_risk_row(0.0, 40, 0, 0), at_risk_row(6.0, 20, 11, 9), at_risk_row(12.0, 8, 6, 6)]
    overall = group("overall", 40, 25, 15, rows)
    overall |= {
        "curve": {
            "time": [0.0, 5.123456, 14.0],
            "survival": [1.0, 0.512345678, 0.3],
            "ci_upper": [1.0, None, None],  # a limit not reached stays None
        },
        "survival_at": [
            {"time": 6.0, "at_risk": 20, "estimate": 0.51, "ci": [0.4, 0.6]},
            {"time": 12.0, "at_risk": 8, "estimate": 0.3, "ci": [0.2, 0.4]},
        ],
        # the median at 5.1 is drawn; its upper limit at 9 lies after the stop at 6
        "median": 5.1,
        "median_ci": [4.0, 9.0],
        "quantiles": [
            {"p": 0.25, "time": 2.0, "ci": [1.0, 3.0]},
            {"p": 0.5, "time": 5.1, "ci": [4.0, 9.0]},
            {"p": 0.75, "time": None, "ci": [7.0, None]},
            {"p": 0.6, "time": 6.0, "ci": [5.0, 6.0]},  # at the stop itself: shown
        ],
    }
    a = group("a", 40, 25, 15, rows) | {"median": None, "median_ci": [None, None]}
    context = {
        "overall": overall,
        "strata": [a],
        "cohort": one_step_cohort(40),
        "rmst": {
            "tau": 6.0,
            "overall": {"estimate": 5.0, "ci": [4.5, 5.5], "se": 0.2},
            "strata": {"a": {"estimate": 5.0, "ci": [4.5, 5.5], "se": 0.2}},
        },
    }
    sponsor = sponsor_edition(context, K)
    shown = sponsor["overall"]
    ne = "NE (<11 at risk)"
    assert shown["shown_until"] == 6.0
    # the curve's value at each at-risk time up to the stop (its steps would count deaths)
    assert shown["curve"] == {"time": [0.0, 6.0], "survival": [1.0, 0.512], "ci_upper": [1.0, None]}
    assert [(e["estimate"], e["ci"]) for e in shown["survival_at"]] == [
        (0.51, [0.4, 0.6]),
        (ne, [None, None]),
    ]
    assert (shown["median"], shown["median_ci"]) == (5.1, [4.0, "NE"])
    assert [(q["time"], q["ci"]) for q in shown["quantiles"]] == [
        (2.0, [1.0, 3.0]),
        (5.1, [4.0, "NE"]),
        (ne, [None, None]),  # "not reached" would claim where S(t) is after the stop
        (6.0, [5.0, 6.0]),
    ]
    assert (sponsor["strata"][0]["median"], sponsor["strata"][0]["median_ci"]) == (
        ne,
        [None, None],
    )
    # RMST up to 6 months: the curve is drawn to 6 in both groups
    # (its standard error is not printed, its CI is)
    assert sponsor["rmst"]["overall"] == {"estimate": 5.0, "ci": [4.5, 5.5], "se": None}
    context["rmst"]["tau"] = 12.0
    later = sponsor_edition(context, K)["rmst"]
    assert (
        later["overall"] == later["strata"]["a"] == {"estimate": ne, "ci": [None, None], "se": None}
    )


def test_estimates_are_published_as_printed() -> None:
    # A median of 543 days is 17.839835... months: printed as 17.8, and an exact event day
    # if kept whole. Rates print as whole percentages, hazard ratios with 2 decimals.
    rows = [at_risk_row(0.0, 40, 0, 0), at_risk_row(12.0, 30, 6, 4)]
    overall = group("overall", 40, 6, 34, rows) | {
        "median": 543 / 30.4375,
        "median_ci": [464 / 30.4375, None],
        "quantiles": [{"p": 0.25, "time": 9.560574948665298, "ci": [7.449, "NE"]}],
        "survival_at": [
            {"time": 12.0, "at_risk": 30, "estimate": 0.6618118585289015, "ci": [0.595, 0.7249]}
        ],
    }
    stratum = group("a", 40, 6, 34, rows) | {"median": None, "median_ci": [None, None]}
    reference = group("ref", 40, 6, 34, rows) | {"label": "Reference"}
    hr = {"hr": 0.7965648124213238, "ci": [0.545558, 1.16306], "p": 0.23888534634641534}
    context = {
        "overall": overall,
        "strata": [reference, stratum],
        "cohort": one_step_cohort(40),
        "comparisons": {
            "landmarks": [
                {"landmark": 12.0, "groups": [{"key": "ref", "n": 30}, {"key": "a", "n": 30}]}
            ]
        },
        "followup": {"n": 40, "median": 21.09240246406571, "ci": [19.449691991786448, None]},
        "rmst": {
            "tau": 12.0,
            "overall": {"estimate": 10.188933680115365, "ci": [9.05, 11.3499], "se": 0.557},
            "strata": {"a": None},
        },
        "comparison_rows": [
            {
                "key": "a",
                "reference_label": "Reference",
                "naive": hr,
                "adjusted": {**hr, "hr": 0.77974},
                "time_varying": {**hr, "hr": 1.7957137339552778},
                "landmarks": [{**hr, "landmark": 12.0, "n_at_risk": 30, "hr": 2.715}],
            }
        ],
    }
    sponsor = sponsor_edition(context, 5)
    shown = sponsor["overall"]
    assert (shown["median"], shown["median_ci"]) == (17.8, [15.2, None])
    assert shown["quantiles"] == [{"p": 0.25, "time": 9.6, "ci": [7.4, "NE"]}]
    assert [(e["estimate"], e["ci"]) for e in shown["survival_at"]] == [(0.66, [0.6, 0.72])]
    assert (sponsor["strata"][1]["median"], sponsor["strata"][1]["median_ci"]) == (
        None,
        [None, None],
    )
    assert sponsor["followup"] == {"n": 40, "median": 21.1, "ci": [19.4, None]}
    assert sponsor["rmst"]["overall"] == {"estimate": 10.2, "ci": [9.1, 11.3], "se": None}
    row = sponsor["comparison_rows"][0]
    # p-values are not rounded: they print as "0.239" or "<0.001", and give back no count
    assert row["naive"] == {"hr": 0.8, "ci": [0.55, 1.16], "p": 0.23888534634641534}
    assert (row["adjusted"]["hr"], row["adjusted"]["ci"]) == (0.78, [0.55, 1.16])
    assert row["time_varying"]["hr"] == 1.8
    assert (row["landmarks"][0]["hr"], row["landmarks"][0]["ci"]) == (2.71, [0.55, 1.16])
    assert context["overall"]["median"] == 543 / 30.4375, "the internal context is left alone"


def test_a_curve_with_enough_at_risk_throughout_is_left_whole() -> None:
    overall = group(
        "overall", 40, 20, 20, [at_risk_row(0.0, 40, 0, 0), at_risk_row(6.0, 20, 11, 9)]
    )
    overall["curve"] = {"time": [0.0, 7.0], "survival": [1.0, 0.6]}
    sponsor = sponsor_edition({"overall": overall, "cohort": one_step_cohort(40)}, 5)
    assert sponsor["overall"]["shown_until"] is None
    # the curve at the at-risk times: its step at 7, after the last of them, counts deaths that
    # no cell of the table holds
    assert sponsor["overall"]["curve"] == {"time": [0.0, 6.0], "survival": [1.0, 1.0]}
    # Threshold 5: 9 is not small, nothing is hidden.
    assert sponsor["overall"]["at_risk"][1] == at_risk_row(6.0, 20, 11, 9)
    assert (sponsor["disclosure"]["n_primary"], sponsor["disclosure"]["n_complementary"]) == (0, 0)
    assert sponsor["min_at_risk_shown"] == 5


def test_a_curve_below_the_minimum_from_its_first_row_stops_there() -> None:
    overall = group("overall", 8, 2, 6, [at_risk_row(1.0, 8, 0, 0), at_risk_row(6.0, 5, 2, 1)])
    overall["curve"] = {"time": [0.0, 1.0, 7.0], "survival": [1.0, 1.0, 0.6]}
    sponsor = sponsor_edition({"overall": overall, "cohort": one_step_cohort(8)}, K)
    assert sponsor["overall"]["shown_until"] == 1.0
    assert sponsor["overall"]["curve"]["time"] == [0.0, 1.0]


def test_strata_and_all_patients_suppressed_as_worked_out_by_hand() -> None:
    overall = group("overall", 40, 25, 15, [at_risk_row(0.0, 40, 0, 0)])
    a = group("a", 30, 20, 10, [at_risk_row(0.0, 30, 0, 0)])
    b = group("b", 10, 5, 5, [at_risk_row(0.0, 10, 0, 0)])
    context = {"overall": overall, "strata": [a, b], "cohort": one_step_cohort(40)}
    sponsor = sponsor_edition(context, K)
    a, b, overall = sponsor["strata"][0], sponsor["strata"][1], sponsor["overall"]
    # Primary: a's 10 censored; b's n, events, censored and number at risk. Complementary:
    # a's n 30 = 20 events + 10 censored gives the 20 events away; 40 = a's n + b's n gives
    # a's n; 40 at risk at 0 = a's + b's gives a's number at risk. All patients stay shown.
    assert [(g["n"], g["events"], g["censored"]) for g in (overall, a, b)] == [
        (40, 25, 15),
        ("*", "*", "<11"),
        ("<11", "<11", "<11"),
    ]
    assert [g["at_risk"][0]["at_risk"] for g in (overall, a, b)] == [40, "*", "<11"]
    assert (sponsor["disclosure"]["n_primary"], sponsor["disclosure"]["n_complementary"]) == (5, 3)


def test_eligibility_steps_suppressed_as_worked_out_by_hand() -> None:
    cohort = {
        "n_analysed": 60,
        "flow": [
            {"label": "in the registry", "n": 100, "excluded": 0, "reason": None},
            {"label": "given a dose", "n": 95, "excluded": 5, "reason": "no dose"},
            {"label": "started in time", "n": 60, "excluded": 35, "reason": "late"},
        ],
        "excluded": [{"reason": "no dose", "n": 5}, {"reason": "late", "n": 35}],
    }
    sponsor = sponsor_edition({"overall": group("overall", 60, 30, 30), "cohort": cohort}, K)
    flow = sponsor["cohort"]["flow"]
    # 5 excluded is small; 100 = 95 + 5 gives it away, so 95 is hidden; then 95 = 60 + 35
    # would give 95, so the smaller shown of the two, 35, is hidden (60 is the number analysed
    # and stays). The list of exclusions shows the same cells the same way.
    assert [(step["n"], step["excluded"]) for step in flow] == [(100, 0), ("*", "<11"), (60, "*")]
    assert sponsor["cohort"]["excluded"] == [
        {"reason": "no dose", "n": "<11"},
        {"reason": "late", "n": "*"},
    ]
    assert sponsor["cohort"]["n_analysed"] == 60


def test_table1_suppressed_and_ages_top_coded_as_worked_out_by_hand() -> None:
    def cells(*counts: int) -> list[dict]:
        return [
            {"n": n, "pct": round(100 * n / total, 1)}
            for n, total in zip(counts, (40, 30, 10), strict=True)
        ]

    def ages(n_missing: int, maximum: float) -> dict:
        return {
            "n_missing": n_missing,
            "median": 55.0,
            "q1": 45.0,
            "q3": 70.0,
            "minimum": 30.0,
            "maximum": maximum,
        }

    table1 = {
        "groups": [{"key": "overall", "n": 40}, {"key": "a", "n": 30}, {"key": "b", "n": 10}],
        "covariates": [
            {
                "key": "sex",
                "levels": [
                    {"key": "female", "cells": cells(22, 20, 2)},
                    {"key": "male", "cells": cells(18, 10, 8)},
                ],
            }
        ],
        "age": {"cells": [ages(3, 90.0), ages(3, 89.9), ages(0, 93.5)]},
    }
    context = {"overall": group("overall", 40, 25, 15), "cohort": one_step_cohort(40)}
    sponsor = sponsor_edition({**context, "table1": table1}, K)
    out = sponsor["table1"]
    # Primary: b's n (10), 2 women in b, 10 and 8 men in a and b, 3 missing ages in all and in
    # a. Complementary: 22 women = a's + b's gives b's 2 away, so a's 20 women are hidden. The
    # levels add up to each column, so the columns add up too: 40 − 30 would give b's 10 back
    # (with a's 20 + 10 and 2 + 8 in b all hidden), so a's 30 is hidden as well.
    assert [g["n"] for g in out["groups"]] == [40, "*", "<11"]
    female, male = out["covariates"][0]["levels"]
    assert female["cells"] == [
        {"n": 22, "pct": 55.0},
        {"n": "*", "pct": None},
        {"n": "<11", "pct": None},
    ]
    assert male["cells"] == [
        {"n": 18, "pct": 45.0},
        {"n": "<11", "pct": None},
        {"n": "<11", "pct": None},
    ]
    age_cells = out["age"]["cells"]
    assert [c["n_missing"] for c in age_cells] == ["<11", "<11", 0]
    assert [c["maximum"] for c in age_cells] == ["90+", 89.9, "90+"]
    assert [(c["median"], c["q1"], c["q3"], c["minimum"]) for c in age_cells] == [
        (55.0, 45.0, 70.0, 30.0)
    ] * 3


def test_a_percentage_of_a_hidden_column_total_is_removed() -> None:
    # b's 10 is hidden, so a's 50 is hidden beside it (60 = 50 + 10); a's 30 women at 60.0%
    # would give the 50 back (30 / 0.6), so their percentage goes, the count stays
    table1 = {
        "groups": [{"key": "overall", "n": 60}, {"key": "a", "n": 50}, {"key": "b", "n": 10}],
        "covariates": [
            {
                "key": "sex",
                "levels": [
                    {
                        "key": "F",
                        "cells": [
                            {"n": 30, "pct": 50.0},
                            {"n": 30, "pct": 60.0},
                            {"n": 0, "pct": 0.0},
                        ],
                    },
                    {
                        "key": "M",
                        "cells": [
                            {"n": 30, "pct": 50.0},
                            {"n": 20, "pct": 40.0},
                            {"n": 10, "pct": 100.0},
                        ],
                    },
                ],
            }
        ],
    }
    context = {
        "overall": group("overall", 60, 25, 35),
        "strata": [group("a", 50, 20, 30), group("b", 10, 5, 5)],
        "cohort": one_step_cohort(60),
    }
    out = sponsor_edition({**context, "table1": table1}, K)["table1"]
    assert [g["n"] for g in out["groups"]] == [60, "*", "<11"]
    female, male = out["covariates"][0]["levels"]
    assert female["cells"] == [
        {"n": 30, "pct": 50.0},
        {"n": 30, "pct": None},
        {"n": 0, "pct": None},
    ]
    assert male["cells"][0] == {"n": 30, "pct": 50.0}
    assert all(cell["pct"] is None for cell in male["cells"][1:])


def test_top_coding_covers_every_age_statistic() -> None:
    old = {"n_missing": 0, "median": 91.0, "q1": 90.0, "q3": 95.0, "minimum": 90.5, "maximum": 99.0}
    context = {
        "overall": group("overall", 40, 25, 15),
        "cohort": one_step_cohort(40),
        "table1": {
            "groups": [{"key": "overall", "n": 40}],
            "covariates": [],
            "age": {"cells": [old]},
        },
    }
    cell = sponsor_edition(context, K)["table1"]["age"]["cells"][0]
    assert cell == {
        "n_missing": 0,
        "median": "90+",
        "q1": "90+",
        "q3": "90+",
        "minimum": "90+",
        "maximum": "90+",
    }


def test_adverse_events_suppressed_as_worked_out_by_hand() -> None:
    a = group("a", 25, 13, 12)
    b = group("b", 22, 11, 11)
    a["counts"] = {"ae": 12}
    b["counts"] = {"ae": 4, "later": 0}
    safety = {
        "columns": [{"key": "a", "n": 25}, {"key": "b", "n": 22}],
        "rows": [
            {
                "key": "ae",
                "cells": [{"n": 12, "pct": 48.0, "N": 25}, {"n": 4, "pct": 18.2, "N": 22}],
                "total": {"n": 16, "pct": 34.0, "N": 47},
            },
            {
                "key": "later",
                "cells": [{"n": None, "pct": None, "N": 25}, {"n": 0, "pct": 0.0, "N": 22}],
                "total": {"n": 0, "pct": 0.0, "N": 22},
            },
        ],
    }
    context = {
        "overall": group("overall", 47, 24, 23),
        "strata": [a, b],
        "cohort": one_step_cohort(47),
        "safety": safety,
    }
    sponsor = sponsor_edition(context, K)
    ae, later = sponsor["safety"]["rows"]
    # b's 4 events are small; 16 = 12 + 4 gives them away, so a's 12 are hidden, in the
    # table and in the strata's own counts. The zero row is shown.
    assert ae["cells"] == [{"n": "*", "pct": None, "N": 25}, {"n": "<11", "pct": None, "N": 22}]
    assert ae["total"] == {"n": 16, "pct": 34.0, "N": 47}
    assert later == safety["rows"][1]
    assert [g["counts"] for g in sponsor["strata"]] == [{"ae": "*"}, {"ae": "<11", "later": 0}]
    assert [c["n"] for c in sponsor["safety"]["columns"]] == [25, 22]


def test_adverse_events_of_a_small_stratum_hide_its_size_everywhere() -> None:
    a = group("a", 25, 13, 12)
    b = group("b", 8, 4, 4)
    safety = {
        "columns": [{"key": "a", "n": 25}, {"key": "b", "n": 8}],
        "rows": [
            {
                "key": "ae",
                "cells": [{"n": 12, "pct": 48.0, "N": 25}, {"n": 0, "pct": 0.0, "N": 8}],
                "total": {"n": 12, "pct": 36.4, "N": 33},
            }
        ],
    }
    a["counts"], b["counts"] = {"ae": 12}, {"ae": 0}
    context = {
        "overall": group("overall", 33, 17, 16),
        "strata": [a, b],
        "cohort": one_step_cohort(33),
        "safety": safety,
    }
    sponsor = sponsor_edition(context, K)
    # b's size 8 is small wherever it is written: its column header and its cells' N. 33 =
    # 25 + 8, so a's 25 is hidden in the same places; b's 4 events and 4 censored are small,
    # and 17 events = a's + b's, 16 censored = a's + b's, so a's 13 and 12 are hidden too.
    row = sponsor["safety"]["rows"][0]
    assert [c["n"] for c in sponsor["safety"]["columns"]] == ["*", "<11"]
    assert [c["N"] for c in row["cells"]] == ["*", "<11"]
    assert row["total"]["N"] == 33
    assert [c["n"] for c in row["cells"]] == [12, 0]
    assert [(g["n"], g["events"], g["censored"]) for g in sponsor["strata"]] == [
        ("*", "*", "*"),
        ("<11", "<11", "<11"),
    ]


def test_provenance_keeps_counts_and_the_set_hash_only() -> None:
    provenance = {
        "n_sites": 2,
        "n_submissions": 3,
        "set_sha256": "ab12",
        "extracted_from": "2015-01-16",
        "extracted_to": "2015-12-01",
        "submissions": [{"site_id": "S01", "extracted_on": "2015-01-16", "sha256": "cd34"}],
    }
    context = {"overall": group("overall", 40, 25, 15), "cohort": one_step_cohort(40)}
    sponsor = sponsor_edition({**context, "provenance": provenance}, K)
    assert sponsor["provenance"] == {
        "n_sites": 2,
        "n_submissions": 3,
        "set_sha256": "ab12",
        "extracted_from": "January 2015",
        "extracted_to": "December 2015",
        "submissions": [],
    }
    assert sponsor_edition(context, K)["provenance"] is None


def test_the_changes_since_the_previous_cutoff_are_counts_suppressed_like_any_other() -> None:
    since = {
        "previous_cutoff": "2014-09-16",
        "new_patients": 24,
        "patients_dropped": 0,
        "deaths_added": 3,
        "dates_changed": 1,
        "treatment_dates_changed": 0,
    }
    context = {
        "overall": group("overall", 40, 25, 15),
        "cohort": one_step_cohort(40),
        "provenance": {"n_sites": 1, "submissions": [], "since_previous": since},
    }
    shown = sponsor_edition(context, K)["provenance"]["since_previous"]
    assert shown == {
        "previous_cutoff": "September 2014",
        "new_patients": 24,
        "patients_dropped": 0,
        "deaths_added": "<11",
        "dates_changed": "<11",
        "treatment_dates_changed": 0,
    }


def test_comparisons_keep_estimates_and_lose_counts() -> None:
    hr = {"hr": 0.8, "ci": [0.5, 1.2], "p": 0.3, "infinite": False, "aliased": False}
    strata = [
        group("ref", 12, 8, 4) | {"label": "Reference"},
        group("a", 20, 12, 8) | {"label": "A"},
        group("b", 8, 5, 3) | {"label": "B"},
    ]
    landmark = {
        "landmark": 12.0,
        "n_at_risk": 23,
        "excluded": {"total": 17, "died": 10, "censored": 7},
        "groups": [group("ref", 9, 4, 5), group("a", 14, 6, 8)],
    }

    def row(key: str) -> dict:
        return {
            "key": key,
            "reference_label": "Reference",
            "naive": dict(hr),
            "adjusted": None,
            "time_varying": dict(hr),
            "landmarks": [{"landmark": 12.0, "n_at_risk": 23, **hr}],
        }

    context = {
        "overall": group("overall", 40, 25, 15),
        "strata": strata,
        "cohort": one_step_cohort(40),
        "comparisons": {
            "immortal_time": {"depends_on_post_index": True, "person_months": 820.0},
            "landmarks": [{"landmark": 12.0, "groups": landmark["groups"]}],
        },
        "comparison_rows": [row("a"), row("b")],
        "aware_figures": {"simon_makuch": [{"key": "a", "n": 84}], "landmark": landmark},
    }
    sponsor = sponsor_edition(context, K)
    assert sponsor["comparisons"] == {
        "immortal_time": {"depends_on_post_index": True, "evidence": None}
    }
    ne = {"hr": "NE (<11 at risk)", "ci": [None, None], "p": None, "infinite": False}
    a, b = sponsor["comparison_rows"]
    # A (20) against the reference (12): the HRs stay; at 12 months the reference has 9
    assert a["naive"] == a["time_varying"] == hr and a["adjusted"] is None
    assert a["landmarks"] == [{"landmark": 12.0, "n_at_risk": None, **ne, "aliased": False}]
    # B has 8 patients: none of its HRs is estimable
    assert b["naive"] == b["time_varying"] == {**ne, "aliased": False}
    assert b["landmarks"] == a["landmarks"]
    # the landmark figure stays, suppressed like the strata; no Simon–Makuch curves
    figure = sponsor["aware_figures"]["landmark"]
    assert sponsor["aware_figures"]["simon_makuch"] == []
    assert figure["excluded"] == {"total": 17, "died": "<11", "censored": "<11"}
    assert [(g["n"], g["events"], g["censored"]) for g in figure["groups"]] == [
        ("<11", "<11", "<11"),
        ("*", "<11", "<11"),
    ]
    # 23 at the landmark = 9 + 14: with the 9 hidden, the 14 is hidden too
    assert figure["n_at_risk"] == 23


def test_threshold_one_hides_nothing(one_group: dict) -> None:
    sponsor = sponsor_edition(one_group, 1)
    assert sponsor["overall"]["at_risk"] == one_group["overall"]["at_risk"]
    assert sponsor["disclosure"]["primary_marker"] == "<1"
    assert sponsor["overall"]["shown_until"] is None


def test_the_rules_are_stated_with_the_threshold() -> None:
    from toolkit.disclosure import rules_text

    assert rules_text(5) == [
        "Cells below 5 suppressed: counts from 1 to 4 are shown as “<5” without a percentage. "
        "A percentage is shown only beside its count and its denominator, both shown, so it "
        "tells nothing they do not.",
        "Complementary suppression: where a suppressed count could be recovered from a total "
        "(the other cells of a column, row or interval), further cells are hidden and shown as "
        "“*”; this holds knowing that “<5” is 1 to 4 and “*” is 0 or at least 5, over all the "
        "sums the tables share (checked by integer programming: no hidden count has only one "
        "possible value).",
        "Survival curves stop where fewer than 5 patients remain at risk, and every estimate at "
        "a later time (survival rate, median, quartile, CI limit, RMST) is shown as “NE (<5 at "
        "risk)”. A curve is published as its values at the at-risk times only (a step of its "
        "own is one death), and stops before the first interval whose deaths are suppressed, "
        "the estimates after it “NE (<5 events)”; its per-step counts and censoring times are "
        "not published, its times are rounded to 1 decimal (months) and survival to 3. A "
        "survival rate that rests on 1 to 4 events is shown as “NE (<5 events)”.",
        "Every estimate is published as printed, in results.json too: durations in months to 1 "
        "decimal, survival rates and their limits as whole percentages (one decimal more below "
        "10% and above 90%), hazard ratios and test "
        "statistics to 2 decimals, incidence rates to 1. The cumulative incidence of adverse "
        "events keeps no count of events, deaths or patients at risk, nor the patient-years; an "
        "incidence or rate resting on 1 to 4 events is “NE (<5 events)”.",
        "Ages above 89 are shown as “90+”.",
        "No patient or site identifiers; extraction dates as month and year; the submissions "
        "are identified by one SHA-256 of the whole set.",
        "Comparisons between strata show hazard ratios, confidence intervals, log-rank tests "
        "and p-values, not estimable where a compared group has fewer than 5 patients (at the "
        "landmark, for a landmark HR). The landmark figure is suppressed like the strata; the "
        "Simon–Makuch curves, whose groups gain patients over time, the landmark risk-set sizes "
        "of the table and the adjusted model's own table are omitted.",
    ]
    # an internal edition with small cells suppressed keeps its identifiers and dates
    internal = rules_text(5, sponsor=False)
    assert internal == [r for r in rules_text(5) if not r.startswith("No patient or site")]
    assert sponsor_edition(
        {"overall": group("overall", 40, 25, 15), "cohort": one_step_cohort(40)}, 5
    )["disclosure"]["rules"] == rules_text(5)


def test_a_curve_stops_after_the_last_time_with_exactly_k_at_risk() -> None:
    rows = [at_risk_row(0.0, 30, 0, 0), at_risk_row(6.0, 11, 12, 7), at_risk_row(12.0, 10, 1, 0)]
    overall = group("overall", 30, 13, 17, rows)
    overall["curve"] = {"time": [0.0, 6.0, 9.0, 12.0]}
    sponsor = sponsor_edition({"overall": overall, "cohort": one_step_cohort(30)}, K)
    assert sponsor["overall"]["shown_until"] == 6.0
    assert sponsor["overall"]["curve"]["time"] == [0.0, 6.0]


def test_strata_curves_are_cut_each_at_its_own_time() -> None:
    # a keeps 12 at risk at 6 months, b only 9; their deaths by then (11 each) are shown.
    # a's 7 censored are hidden, and with them (complementary) a's 12 at risk, not its deaths.
    a = group("a", 30, 11, 19, [at_risk_row(0.0, 30, 0, 0), at_risk_row(6.0, 12, 11, 7)])
    b = group("b", 25, 11, 14, [at_risk_row(0.0, 25, 0, 0), at_risk_row(6.0, 9, 11, 5)])
    overall = group(
        "overall", 55, 22, 33, [at_risk_row(0.0, 55, 0, 0), at_risk_row(6.0, 21, 22, 12)]
    )
    for g in (a, b, overall):
        g["curve"] = {"time": [0.0, 3.0, 6.0, 9.0]}
    context = {"overall": overall, "strata": [a, b], "cohort": one_step_cohort(55)}
    sponsor = sponsor_edition(context, K)
    assert [g["at_risk"][1] for g in sponsor["strata"]] == [
        at_risk_row(6.0, "*", 11, "<11"),
        at_risk_row(6.0, "<11", 11, "<11"),
    ]
    assert [g["shown_until"] for g in sponsor["strata"]] == [None, 0.0]
    # the curves at the at-risk times (the step at 9 comes after the last of them)
    assert [g["curve"]["time"] for g in sponsor["strata"]] == [[0.0, 6.0], [0.0]]
    assert sponsor["overall"]["shown_until"] is None


def test_a_tie_between_complements_is_broken_by_key_not_by_position() -> None:
    values = {("total",): 45, ("b",): 20, ("a",): 20, ("c",): 5}
    hidden = suppress_cells(values, [(("total",), [("b",), ("a",), ("c",)])], K)
    assert hidden == {("c",): "primary", ("a",): "complementary"}


def test_a_hidden_last_step_hides_the_number_analysed_it_equals() -> None:
    cohort = {
        "n_analysed": 30,
        "flow": [
            {"n": 100, "excluded": 0, "reason": None},
            {"n": 95, "excluded": 5, "reason": "no dose"},
            {"n": 30, "excluded": 65, "reason": "late"},
        ],
    }
    sponsor = sponsor_edition({"overall": group("overall", 30, 15, 15), "cohort": cohort}, K)
    # 5 excluded is small: 100 = 95 + 5 hides 95; 95 = 30 + 65 then hides the smaller, 30; the
    # number analysed is that same 30 (a set of one cell, its total shown), so it is hidden
    # too, as the overall n it is; n = events + censored then hides one of the two 15s (the
    # tie goes to the key that sorts first, "censored").
    assert [(step["n"], step["excluded"]) for step in sponsor["cohort"]["flow"]] == [
        (100, 0),
        ("*", "<11"),
        ("*", 65),
    ]
    assert sponsor["cohort"]["n_analysed"] == "*"
    overall = sponsor["overall"]
    assert (overall["n"], overall["events"], overall["censored"]) == ("*", 15, "*")


def test_malformed_tables_are_refused_not_misaligned() -> None:
    context = {"overall": group("overall", 40, 25, 15), "cohort": {"n_analysed": 40}}
    two_groups = [{"key": "overall", "n": 40}, {"key": "a", "n": 40}]
    broken_tables = [
        {"groups": two_groups, "covariates": [], "age": {"cells": [{"n_missing": 0}]}},
        {
            "groups": two_groups,
            "covariates": [{"key": "sex", "levels": [{"key": "f", "cells": [{"n": 20}]}]}],
        },
    ]
    for table1 in broken_tables:
        with pytest.raises(ValueError, match="zip"):
            sponsor_edition({**context, "table1": table1}, K)
    safety = {
        "columns": [{"key": "a", "n": 40}],
        "rows": [{"key": "ae", "cells": [], "total": {"n": 0, "pct": 0.0, "N": 40}}],
    }
    with pytest.raises(ValueError, match="zip"):
        sponsor_edition({**context, "safety": safety}, K)


def test_the_threshold_error_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="^the suppression threshold must be at least 1$"):
        sponsor_edition({"overall": group("overall", 1, 1, 0), "cohort": {}}, 0)


def test_a_set_without_its_total_is_not_a_set() -> None:
    from toolkit.disclosure import _Cells

    cells = _Cells()
    holder = {"a": 5, "b": 20}
    cells.add(("a",), holder, "a")
    cells.add(("b",), holder, "b")
    cells.total(("absent",), [("a",), ("b",)])
    cells.total(("a",), [("absent",)])
    assert cells.sets == []
    cells.total(("b",), [("a",)])
    assert cells.sets == [(("b",), [("a",)])]


# --- a reader's attack on random contexts ------------------------------------------------------
#
# The reader knows how the report's numbers add up (written here from the report's meaning, not
# from the disclosure code), sees every number the sponsor edition shows, and subtracts.


def random_context(rng: random.Random) -> dict:
    keys = [f"s{i}" for i in range(rng.randint(1, 3))]
    times = (0.0, 6.0, 12.0)
    strata = []
    for key in keys:
        n = rng.choice([rng.randint(0, 12), rng.randint(0, 40)])
        rows, at = [], n
        for t in times:
            ev = rng.randint(0, at) if t else 0
            ce = rng.randint(0, at - ev) if t else 0
            at -= ev + ce
            rows.append(at_risk_row(t, at, ev, ce))
        events = sum(r["events"] for r in rows) + rng.randint(0, at)
        strata.append(group(key, n, events, n - events, rows))
    sums = {name: sum(g[name] for g in strata) for name in ("n", "events", "censored")}
    rows = [
        at_risk_row(
            t, *(sum(g["at_risk"][i][c] for g in strata) for c in ("at_risk", "events", "censored"))
        )
        for i, t in enumerate(times)
    ]
    overall = group("overall", sums["n"], sums["events"], sums["censored"], rows)
    groups = [overall, *strata]
    for g in groups:
        g["survival_at"] = [{"time": 12.0, "at_risk": g["at_risk"][2]["at_risk"]}]
    n = overall["n"]
    e1, e2 = rng.randint(0, 15), rng.randint(0, 15)
    cohort = {
        "n_analysed": n,
        "flow": [
            {"n": n + e1 + e2, "excluded": 0, "reason": None},
            {"n": n + e2, "excluded": e1, "reason": "r1"},
            {"n": n, "excluded": e2, "reason": "r2"},
        ],
        "excluded": [{"reason": "r1", "n": e1}, {"reason": "r2", "n": e2}],
    }
    women = [rng.randint(0, g["n"]) for g in strata]
    missing = [rng.randint(0, g["n"]) for g in strata]
    table1 = {
        "groups": [{"key": g["key"], "n": g["n"]} for g in groups],
        "covariates": [
            {
                "key": "sex",
                "levels": [
                    {"key": "f", "cells": [{"n": c, "pct": 0.0} for c in [sum(women), *women]]},
                    {
                        "key": "m",
                        "cells": [
                            {"n": g["n"] - c, "pct": 0.0}
                            for g, c in zip(groups, [sum(women), *women], strict=True)
                        ],
                    },
                ],
            }
        ],
        "age": {"cells": [{"n_missing": c} for c in [sum(missing), *missing]]},
    }
    ae = [rng.randint(0, g["n"]) for g in strata]
    later = [None] + [rng.randint(0, g["n"]) for g in strata[1:]]
    safety_rows = []
    for key, counts in (("ae", ae), ("later", later)):
        cells = [
            {"n": c, "pct": None if c is None else 0.0, "N": g["n"]}
            for g, c in zip(strata, counts, strict=True)
        ]
        applies = [i for i, c in enumerate(counts) if c is not None]
        total = {
            "n": sum(counts[i] for i in applies),
            "pct": 0.0,
            "N": sum(strata[i]["n"] for i in applies),
        }
        safety_rows.append({"key": key, "cells": cells, "total": total})
    for i, g in enumerate(strata):
        g["counts"] = {"ae": ae[i]} | ({} if later[i] is None else {"later": later[i]})
    safety = {"columns": [{"key": g["key"], "n": g["n"]} for g in strata], "rows": safety_rows}
    return {
        "overall": overall,
        "strata": strata,
        "cohort": cohort,
        "table1": table1,
        "safety": safety,
        "min_at_risk_shown": rng.choice([0, 15]),
    }


def reader_view(context: dict) -> tuple[dict, list]:
    """Every place a number is printed, by what it means; and how those meanings add up."""
    places: dict = defaultdict(list)
    relations: list = []
    groups = [context["overall"], *context["strata"]]
    strata = [g["key"] for g in context["strata"]]
    for g in groups:
        k = g["key"]
        places[("n", k)].append(g["n"])
        places[("events", k)].append(g["events"])
        places[("censored", k)].append(g["censored"])
        relations.append((("n", k), [("events", k), ("censored", k)]))
        for i, row in enumerate(g["at_risk"]):
            for name in ("at_risk", "events", "censored"):
                places[(f"row_{name}", k, i)].append(row[name])
            if i == 0:
                relations.append((("n", k), [("row_at_risk", k, 0)]))
            else:
                relations.append(
                    (
                        ("row_at_risk", k, i - 1),
                        [(f"row_{name}", k, i) for name in ("at_risk", "events", "censored")],
                    )
                )
        places[("row_at_risk", k, 2)].append(g["survival_at"][0]["at_risk"])
    for name in ("n", "events", "censored"):
        relations.append(((name, "overall"), [(name, s) for s in strata]))
    for i in range(3):
        for name in ("at_risk", "events", "censored"):
            relations.append(
                ((f"row_{name}", "overall", i), [(f"row_{name}", s, i) for s in strata])
            )
    cohort = context["cohort"]
    places[("n", "overall")].append(cohort["n_analysed"])
    for i, step in enumerate(cohort["flow"]):
        places[("flow", i)].append(step["n"])
        places[("excluded", i)].append(step["excluded"])
        if i:
            relations.append((("flow", i - 1), [("flow", i), ("excluded", i)]))
    for i, item in enumerate(cohort["excluded"], start=1):
        places[("excluded", i)].append(item["n"])
    relations.append((("n", "overall"), [("flow", 2)]))
    table1 = context["table1"]
    keys = [g["key"] for g in table1["groups"]]
    for holder in table1["groups"]:
        places[("n", holder["key"])].append(holder["n"])
    levels = [level["key"] for level in table1["covariates"][0]["levels"]]
    for level in table1["covariates"][0]["levels"]:
        for cell, k in zip(level["cells"], keys, strict=True):
            places[("sex", level["key"], k)].append(cell["n"])
        relations.append(
            (("sex", level["key"], "overall"), [("sex", level["key"], s) for s in strata])
        )
    for k in keys:
        relations.append((("n", k), [("sex", level, k) for level in levels]))
    for cell, k in zip(table1["age"]["cells"], keys, strict=True):
        places[("age_missing", k)].append(cell["n_missing"])
    relations.append((("age_missing", "overall"), [("age_missing", s) for s in strata]))
    safety = context["safety"]
    for column in safety["columns"]:
        places[("n", column["key"])].append(column["n"])
    for row in safety["rows"]:
        r, applies = row["key"], []
        for cell, s in zip(row["cells"], strata, strict=True):
            places[("n", s)].append(cell["N"])
            if cell["n"] is not None:
                applies.append(s)
                places[(r, s)].append(cell["n"])
        places[(r, "total")].append(row["total"]["n"])
        places[(r, "total_N")].append(row["total"]["N"])
        relations.append(((r, "total"), [(r, s) for s in applies]))
        relations.append(((r, "total_N"), [("n", s) for s in applies]))
    for g in context["strata"]:
        for r, value in g["counts"].items():
            places[(r, g["key"])].append(value)
    return places, relations


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_a_reader_recovers_no_small_count_from_a_random_context(seed: int) -> None:
    internal = random_context(random.Random(seed))
    truth, relations = reader_view(internal)
    sponsor = sponsor_edition(internal, K)
    shown, _ = reader_view(sponsor)
    values, hidden = {}, set()
    for meaning, printed in shown.items():
        value = truth[meaning][0]
        assert set(truth[meaning]) == {value}, f"the context itself disagrees on {meaning}"
        values[meaning] = value
        if all(p == value for p in printed):
            assert not 1 <= value < K, f"{meaning} = {value} is shown"
            continue
        assert len(set(printed)) == 1, f"{meaning} is {printed} in its places"
        expected_marker = "<11" if 1 <= value < K else COMPLEMENTARY
        assert printed[0] == expected_marker, (meaning, value, printed)
        hidden.add(meaning)
    assert not recovered_by_subtraction(values, relations, hidden)
    minimum = max(K, internal["min_at_risk_shown"])
    for before, after in zip(
        [internal["overall"], *internal["strata"]],
        [sponsor["overall"], *sponsor["strata"]],
        strict=True,
    ):
        times = [row["time"] for row in before["at_risk"]]
        short = [i for i, row in enumerate(before["at_risk"]) if row["at_risk"] < minimum]
        # … and before the first interval whose deaths are hidden (S(t) would give them back)
        short += [i for i, row in enumerate(after["at_risk"]) if isinstance(row["events"], str)]
        expected = None if not short else times[max(min(short) - 1, 0)]
        assert after["shown_until"] == expected
        if "curve" in after:
            assert after["curve"]["time"] == [t for t in times if expected is None or t <= expected]


def test_strata_sizes_add_up_to_all_patients_without_an_at_risk_table() -> None:
    a, b = group("a", 30, 15, 15), group("b", 10, 10, 0)
    context = {"overall": group("overall", 40, 25, 15), "strata": [a, b], "cohort": {}}
    sponsor = sponsor_edition(context, K)
    # b's n and events (10) are small; 40 = 30 + 10 hides a's n, 25 = 15 + 10 a's events;
    # a's n = events + censored then has two hidden members, and its censored stays.
    assert [(g["n"], g["events"], g["censored"]) for g in sponsor["strata"]] == [
        ("*", "*", 15),
        ("<11", "<11", 0),
    ]


def test_a_safety_total_over_some_strata_is_a_set_of_those_only() -> None:
    # the total adds b alone (a's window differs): it is b's small 4, and a's 12, outside the
    # set, stays (a total over both, 16, would have hidden it)
    a, b = group("a", 25, 13, 12), group("b", 22, 11, 11)
    a["counts"], b["counts"] = {"ae": 12}, {"ae": 4}
    row = {
        "key": "ae",
        "cells": [{"n": 12, "pct": 48.0, "N": 25}, {"n": 4, "pct": 18.2, "N": 22}],
        "total_over": ["b"],
        "total": {"n": 4, "pct": 18.2, "N": 22},
    }
    safety = {"columns": [{"key": "a", "n": 25}, {"key": "b", "n": 22}], "rows": [row]}
    context = {"overall": group("overall", 47, 24, 23), "strata": [a, b], "cohort": {}}
    out = sponsor_edition({**context, "safety": safety}, K)["safety"]["rows"][0]
    assert [c["n"] for c in out["cells"]] == [12, "<11"]
    assert out["total"] == {"n": "<11", "pct": None, "N": 22}


def test_a_small_adverse_event_total_loses_its_percentage() -> None:
    a, b = group("a", 25, 13, 12), group("b", 22, 11, 11)
    a["counts"], b["counts"] = {"ae": 3}, {"ae": 4}
    row = {
        "key": "ae",
        "cells": [{"n": 3, "pct": 12.0, "N": 25}, {"n": 4, "pct": 18.2, "N": 22}],
        "total": {"n": 7, "pct": 14.9, "N": 47},
    }
    safety = {"columns": [{"key": "a", "n": 25}, {"key": "b", "n": 22}], "rows": [row]}
    context = {"overall": group("overall", 47, 24, 23), "strata": [a, b], "cohort": {}}
    out = sponsor_edition({**context, "safety": safety}, K)["safety"]["rows"][0]
    assert out["total"] == {"n": "<11", "pct": None, "N": 47}
    assert [c["n"] for c in out["cells"]] == ["<11", "<11"]


def test_a_hidden_all_patients_cell_of_table1_hides_a_stratum_cell() -> None:
    table1 = {
        "groups": [{"key": "overall", "n": 23}, {"key": "a", "n": 20}, {"key": "b", "n": 3}],
        "covariates": [
            {
                "key": "sex",
                "levels": [
                    {"key": "f", "cells": [{"n": 20}, {"n": 20}, {"n": 0}]},
                    {"key": "m", "cells": [{"n": 3}, {"n": 0}, {"n": 3}]},
                ],
            }
        ],
    }
    context = {"overall": group("overall", 23, 12, 11), "cohort": {}, "table1": table1}
    female, male = sponsor_edition(context, K)["table1"]["covariates"][0]["levels"]
    # 3 men in all and in b are small; 23 = 20 women + 3 men hides the 20 women of all
    # patients; 20 women = a's + b's 0 then hides a's 20 (the non-zero one), and a's n 20 =
    # 20 women + 0 men then hides a's zero men.
    assert [c["n"] for c in female["cells"]] == ["*", "*", 0]
    assert [c["n"] for c in male["cells"]] == ["<11", "*", "<11"]


def test_covariates_with_the_same_level_names_are_apart() -> None:
    def covariate(key: str, yes: list[int], no: list[int]) -> dict:
        return {
            "key": key,
            "levels": [
                {"key": "yes", "cells": [{"n": n} for n in yes]},
                {"key": "no", "cells": [{"n": n} for n in no]},
            ],
        }

    table1 = {
        "groups": [{"key": "overall", "n": 60}, {"key": "a", "n": 30}, {"key": "b", "n": 30}],
        "covariates": [
            covariate("ldh", [20, 15, 5], [40, 15, 25]),
            covariate("brain", [30, 15, 15], [30, 15, 15]),
        ],
    }
    context = {"overall": group("overall", 60, 30, 30), "cohort": {}, "table1": table1}
    ldh, brain = sponsor_edition(context, K)["table1"]["covariates"]
    assert [c["n"] for c in ldh["levels"][0]["cells"]][2] == "<11"
    assert [c["n"] for c in brain["levels"][0]["cells"]] == [30, 15, 15]
    assert [c["n"] for c in brain["levels"][1]["cells"]] == [30, 15, 15]


def test_a_cohort_without_its_numbers_gets_none_written_in() -> None:
    sponsor = sponsor_edition({"overall": group("overall", 8, 4, 4), "cohort": {}}, K)
    assert sponsor["cohort"] == {}
    assert (sponsor["overall"]["n"], sponsor["overall"]["events"]) == ("<11", "<11")


def test_follow_up_n_and_rows_per_file_are_cells() -> None:
    # follow-up's n is the patients analysed: hidden with them; a file's rows below K are
    # hidden; the patients' rows are the registry's first step, hidden with it
    flow = [
        {"label": "in the registry", "n": 9, "excluded": 0, "reason": None},
        {"label": "eligible", "n": 9, "excluded": 0, "reason": "r"},
    ]
    context = {
        "overall": group("overall", 9, 5, 4),
        "cohort": {"n_analysed": 9, "flow": flow, "excluded": []},
        "followup": {"n": 9, "median": 10.0},
        "provenance": {
            "rows_total": {"patients": 9, "treatments": 30, "adverse_events": 4},
            "submissions": [],
        },
    }
    sponsor = sponsor_edition(context, K, edition="internal")
    assert sponsor["followup"]["n"] == "<11"
    assert sponsor["provenance"]["rows_total"] == {
        "patients": "<11",
        "treatments": 30,
        "adverse_events": "<11",
    }
    # 30 patients' rows in a registry whose first step shows 30: one cell, hidden together
    flow[0]["n"] = 30
    flow[1] |= {"n": 9, "excluded": 21}
    context["provenance"]["rows_total"] = {"patients": 30, "treatments": 30}
    shown = sponsor_edition(context, K, edition="internal")
    assert shown["cohort"]["flow"][0]["n"] == 30 and shown["provenance"]["rows_total"] == {
        "patients": 30,
        "treatments": 30,
    }
    with pytest.raises(ValueError, match="unknown edition"):
        sponsor_edition(context, K, edition="public")


def test_a_safety_percentage_of_a_hidden_n_is_removed() -> None:
    # b's 8 is hidden, so a's 30 is hidden beside it (38 = 30 + 8): a's 12 events at 40.0%
    # would give the 30 back, and so would the total of the row that applies to a alone
    a = group("a", 30, 20, 10) | {"counts": {"ae": 12, "later": 12}}
    b = group("b", 8, 5, 3) | {"counts": {"ae": 0}}
    safety = {
        "columns": [{"key": "a", "n": 30}, {"key": "b", "n": 8}],
        "rows": [
            {
                "key": "ae",
                "cells": [{"n": 12, "pct": 40.0, "N": 30}, {"n": 0, "pct": 0.0, "N": 8}],
                "total": {"n": 12, "pct": 31.6, "N": 38},
            },
            {
                "key": "later",
                "cells": [{"n": 12, "pct": 40.0, "N": 30}, {"n": None, "pct": None, "N": 8}],
                "total": {"n": 12, "pct": 40.0, "N": 30},
            },
        ],
    }
    context = {
        "overall": group("overall", 38, 25, 13),
        "strata": [a, b],
        "cohort": one_step_cohort(38),
        "safety": safety,
    }
    ae, later = sponsor_edition(context, K)["safety"]["rows"]
    assert ae["cells"] == [{"n": 12, "pct": None, "N": "*"}, {"n": 0, "pct": None, "N": "<11"}]
    assert ae["total"] == {"n": 12, "pct": 31.6, "N": 38}
    assert later["cells"][0] == {"n": 12, "pct": None, "N": "*"}
    assert later["total"] == {"n": 12, "pct": None, "N": "*"}


def test_the_landmark_figure_adds_up_to_all_patients() -> None:
    # 40 patients = 31 at the landmark + 9 excluded (5 died, 4 censored): the excluded are
    # small; with 9 of 40 hidden, the 31 at the landmark are hidden too
    landmark = {
        "landmark": 12.0,
        "n_at_risk": 31,
        "excluded": {"total": 9, "died": 5, "censored": 4},
        "groups": [group("a", 31, 12, 19)],
    }
    context = {
        "overall": group("overall", 40, 25, 15),
        "cohort": one_step_cohort(40),
        "aware_figures": {"simon_makuch": [], "landmark": landmark},
    }
    figure = sponsor_edition(context, K)["aware_figures"]["landmark"]
    assert figure["excluded"] == {"total": "<11", "died": "<11", "censored": "<11"}
    assert figure["n_at_risk"] == "*"
    assert figure["groups"][0]["n"] == "*"  # the one group is the patients at the landmark
    # were the parts not to add up to all patients, nothing would tie them to the 40
    landmark["excluded"]["total"] = landmark["excluded"]["died"] = 0
    landmark["excluded"]["censored"] = 0
    figure = sponsor_edition(context, K)["aware_figures"]["landmark"]
    assert figure["n_at_risk"] == 31


def test_a_landmark_hr_of_groups_of_k_or_more_is_kept() -> None:
    hr = {"hr": 2.7, "ci": [1.4, 5.1], "p": 0.002, "infinite": False, "aliased": False}
    strata = [group("ref", 30, 20, 10) | {"label": "Reference"}, group("a", 20, 12, 8)]
    context = {
        "overall": group("overall", 50, 32, 18),
        "strata": strata,
        "cohort": one_step_cohort(50),
        "comparisons": {
            "immortal_time": {"depends_on_post_index": True},
            "landmarks": [
                {"landmark": 12.0, "groups": [group("ref", 15, 5, 10), group("a", 11, 4, 7)]},
                {"landmark": 24.0, "groups": [group("ref", 12, 5, 7), group("a", 10, 4, 6)]},
            ],
        },
        "comparison_rows": [
            {
                "key": "a",
                "reference_label": "Reference",
                "naive": dict(hr),
                "adjusted": dict(hr),
                "time_varying": None,
                "landmarks": [
                    {"landmark": 12.0, "n_at_risk": 26, **hr},
                    {"landmark": 24.0, "n_at_risk": 22, **hr},
                ],
            }
        ],
    }
    (row,) = sponsor_edition(context, K)["comparison_rows"]
    assert row["naive"] == row["adjusted"] == hr and row["time_varying"] is None
    # 15 and 11 at 12 months: kept; 10 of a at 24 months: not estimable
    assert row["landmarks"][0] == {"landmark": 12.0, "n_at_risk": None, **hr}
    assert row["landmarks"][1]["hr"] == "NE (<11 at risk)"


def test_a_group_without_patients_keeps_no_estimate() -> None:
    empty = group("e", 0, 0, 0, [at_risk_row(0.0, 0, 0, 0)]) | {
        "median": None,
        "median_ci": [None, None],
        "survival_at": [{"time": 12.0, "at_risk": 0, "estimate": None, "ci": [None, None]}],
    }
    context = {
        "overall": group("overall", 0, 0, 0),
        "strata": [empty],
        "cohort": one_step_cohort(0),
    }
    shown = sponsor_edition(context, K)["strata"][0]
    assert shown["shown_until"] == 0.0
    assert shown["median"] is None and shown["survival_at"][0]["estimate"] is None


def test_the_internal_edition_states_its_own_rules() -> None:
    context = {"overall": group("overall", 40, 25, 15), "cohort": one_step_cohort(40)}
    rules = sponsor_edition(context, K, edition="internal")["disclosure"]["rules"]
    assert rules and not any(rule.startswith("No patient or site") for rule in rules)
    assert any(
        rule.startswith("No patient or site")
        for rule in sponsor_edition(context, K)["disclosure"]["rules"]
    )


def test_the_landmark_figure_curves_stop_too() -> None:
    rows = [at_risk_row(0.0, 31, 0, 0), at_risk_row(6.0, 12, 11, 8), at_risk_row(12.0, 5, 4, 3)]
    a = group("a", 31, 15, 16, rows) | {
        "curve": {"time": [0.0, 3.0, 9.0], "survival": [1.0, 0.8, 0.5], "events": [0, 5, 9]},
        "survival_at": [],
    }
    landmark = {
        "landmark": 12.0,
        "n_at_risk": 31,
        "excluded": {"total": 9, "died": 5, "censored": 4},
        "groups": [a],
    }
    context = {
        "overall": group("overall", 40, 25, 15),
        "cohort": one_step_cohort(40),
        "aware_figures": {"simon_makuch": [], "landmark": landmark},
    }
    shown = sponsor_edition(context, K)["aware_figures"]["landmark"]["groups"][0]
    # 5 at risk at 12, and its 4 deaths hidden: the curve stops at 6, drawn at 0 and 6 only
    assert shown["shown_until"] == 6.0
    assert shown["curve"] == {"time": [0.0, 6.0], "survival": [1.0, 0.8]}


def test_log_rank_tests_of_a_small_stratum_are_not_estimable() -> None:
    a, b, c = group("a", 40, 20, 20), group("b", 30, 15, 15), group("c", 8, 4, 4)

    def row(keys, p_holm):
        return {
            "label": "x",
            "keys": keys,
            "statistic": 4.123,
            "df": 1,
            "p": 0.04,
            "p_holm": p_holm,
        }

    tests = {
        "logrank": [row(["a", "b", "c"], None), row(["a", "b"], 0.08), row(["a", "c"], 0.08)],
        "ph": [{"model": "naive Cox model", "chisq": 1.234, "df": 2, "p": 0.5, "fails": False}],
    }
    a["label"] = "Reference"

    def compared(key: str) -> dict:
        return {
            "key": key,
            "reference_label": "Reference",
            "logrank_p_holm": 0.08,
            "naive": None,
            "adjusted": None,
            "time_varying": None,
            "landmarks": [],
        }

    context = {
        "overall": group("overall", 78, 39, 39),
        "strata": [a, b, c],
        "cohort": one_step_cohort(78),
        "strata_tests": tests,
        "adjusted_model": {"n": 70, "events": 30},
        "comparison_rows": [compared("b"), compared("c")],
    }
    sponsor = sponsor_edition(context, K)
    ne = "NE (<11 at risk)"
    # the comparisons table repeats each pair's test against the reference: hidden alike
    assert [r["logrank_p_holm"] for r in sponsor["comparison_rows"]] == [0.08, ne]
    assert [(r["statistic"], r["p"], r["p_holm"]) for r in sponsor["strata_tests"]["logrank"]] == [
        (None, ne, None),  # the global test includes c's 8 patients
        (4.12, 0.04, 0.08),  # published as printed
        (None, ne, ne),
    ]
    assert sponsor["strata_tests"]["ph"][0]["chisq"] == 1.23
    assert sponsor["adjusted_model"] is None
    assert context["adjusted_model"] == {"n": 70, "events": 30}


def test_the_internal_edition_shows_no_estimate_on_too_few_at_risk() -> None:
    from toolkit.disclosure import estimable_only

    rows = [at_risk_row(0.0, 40, 0, 0), at_risk_row(6.0, 20, 11, 9), at_risk_row(12.0, 8, 6, 6)]
    overall = group("overall", 40, 25, 15, rows) | {
        "curve": {"time": [0.0, 5.0, 14.0], "survival": [1.0, 0.5, 0.3], "at_risk": [40, 22, 5]},
        "survival_at": [
            {"time": 6.0, "at_risk": 20, "estimate": 0.51, "ci": [0.4, 0.6]},
            {"time": 12.0, "at_risk": 8, "estimate": 0.3, "ci": [0.2, 0.4]},
        ],
        "median": 5.1,
        "median_ci": [4.0, 9.0],
        "quantiles": [],
    }
    small = group("small", 8, 2, 6, [at_risk_row(0.0, 8, 0, 0), at_risk_row(6.0, 5, 2, 1)])
    small |= {"survival_at": [{"time": 6.0, "at_risk": 5, "estimate": 0.7, "ci": [0.3, 0.9]}]}
    hr = {"hr": 2.0, "ci": [1.0, 4.0], "p": 0.05, "infinite": False, "aliased": False}
    context = {
        "overall": overall,
        "strata": [overall | {"key": "big", "label": "Big"}, small],
        "cohort": one_step_cohort(48),
        "min_at_risk_shown": 10,
        "rmst": {"tau": 12.0, "overall": {"estimate": 9.0, "ci": [8.0, 10.0], "se": 0.5}},
        "comparison_rows": [
            {"key": "small", "reference_label": "Big", "naive": hr, "landmarks": []}
        ],
    }
    shown = estimable_only(context)
    ne = "NE (<10 at risk)"
    # all patients: 20 at risk at 6, 8 at 12: estimates after 6 months are not shown, the
    # counts and the curve's data are (the figure stops the curve)
    assert shown["overall"]["shown_until"] == 6.0
    assert [e["estimate"] for e in shown["overall"]["survival_at"]] == [0.51, ne]
    assert (shown["overall"]["median"], shown["overall"]["median_ci"]) == (5.1, [4.0, "NE"])
    assert shown["overall"]["curve"] == overall["curve"]
    assert shown["overall"]["at_risk"] == rows
    assert shown["rmst"]["overall"] == {"estimate": ne, "ci": [None, None], "se": None}
    # a stratum of 8 has nothing estimable, and no hazard ratio against it
    assert shown["strata"][1]["survival_at"][0]["estimate"] == ne
    assert shown["strata"][1]["n"] == 8
    assert shown["comparison_rows"][0]["naive"]["hr"] == ne
    assert context["overall"]["survival_at"][1]["estimate"] == 0.3, "its input is left alone"
    assert "shown_until" not in context["overall"]
    # a study without a minimum gets its context back as it is
    unlimited = context | {"min_at_risk_shown": 0}
    assert estimable_only(unlimited) is unlimited


def test_the_cumulative_incidence_keeps_no_count_and_no_estimate_on_few_events() -> None:
    def at(time, estimate, at_risk, events):
        return {"time": time, "estimate": estimate, "ci": [0.01, 0.3], "at_risk": at_risk,
                "events": events}  # fmt: skip

    def inc(key, n, events, points):
        return {"key": key, "label": key, "window": "index date", "n": n, "events": events,
                "deaths_before": 5, "person_years": 50.0, "rate": 0.123456, "rate_ci": [1.0, 9.0],
                "at": points}  # fmt: skip

    a, b, c = group("a", 40, 20, 20), group("b", 30, 15, 15), group("c", 8, 4, 4)
    safety = {
        "columns": [{"key": k, "n": n} for k, n in (("a", 40), ("b", 30), ("c", 8))],
        "rows": [],
        "incidence": {
            "times": [6.0, 12.0],
            "groups": [
                inc("a", 40, 12, [at(6.0, 0.2, 25, 9), at(12.0, 0.3, 9, 12)]),
                inc("b", 30, 4, [at(6.0, 0.1, 20, 3), at(12.0, 0.13, 12, 4)]),
                inc("c", 8, 0, [at(6.0, 0.0, 6, 0), at(12.0, 0.0, 3, 0)]),
                # not a stratum here: its estimates are shown, as printed
                inc("d", 60, 30, [at(6.0, 0.2345, 40, 14), at(12.0, 0.0449, 30, 30)]),
                # exactly K events and K at risk: shown
                inc("e", 40, 11, [at(6.0, 0.3, 11, 11), at(12.0, 0.3, 11, 11)]),
                # hidden already by the study's minimum of 10 at risk: said with the edition's
                inc("f", 50, 20, [at(6.0, 0.3, 30, 12), at(12.0, "NE (<10 at risk)", 7, 18)]),
            ],
            "gray": {
                "groups": [],
                "keys": ["a", "c"],
                "window": "index date",
                "statistic": 1.2345,
                "df": 1,
                "p": 0.27,
            },  # fmt: skip
        },
    }
    context = {
        "overall": group("overall", 78, 39, 39),
        "strata": [a, b, c],
        "cohort": one_step_cohort(78),
        "safety": safety,
    }
    out = sponsor_edition(context, K)["safety"]["incidence"]
    ga, gb, gc, gd, ge, gf = out["groups"]
    assert (gf["at"][1]["estimate"], gf["at"][1]["ci"]) == ("NE (<11 at risk)", [None, None])
    assert [p["estimate"] for p in ge["at"]] == [0.3, 0.3] and ge["rate"] == 0.1
    assert gc["rate"] == 0.1  # no event is not a small number
    # as printed: whole percentages, one decimal near 0%; the rate with one decimal
    assert [(p["estimate"], p["ci"]) for p in gd["at"]] == [
        (0.23, [0.01, 0.3]),
        (0.045, [0.01, 0.3]),
    ]
    assert (gd["rate"], gd["rate_ci"]) == (0.1, [1.0, 9.0])
    few, ne = "NE (<11 events)", "NE (<11 at risk)"
    # a: 9 events by 6 months is a small number; 12 by 12 months is not, but only 9 at risk
    assert [(p["estimate"], p["ci"]) for p in ga["at"]] == [(few, [None, None]), (ne, [None, None])]
    assert (ga["rate"], ga["rate_ci"]) == (0.1, [1.0, 9.0])  # 12 events, as printed
    # b: 4 events in all
    assert gb["rate"] == few and [p["estimate"] for p in gb["at"]] == [few, few]
    # c: no event is not a small number, but 6 and 3 at risk are
    assert [p["estimate"] for p in gc["at"]] == [ne, ne]
    for g in out["groups"]:
        assert (g["events"], g["deaths_before"], g["person_years"]) == (None, None, None)
        assert all(p["at_risk"] is None and p["events"] is None for p in g["at"])
    # the strata's sizes, suppressed as everywhere (78 = 40 + 30 + 8)
    assert (ga["n"], gb["n"], gc["n"]) == (40, "*", "<11")
    assert (out["gray"]["statistic"], out["gray"]["p"]) == (None, ne)  # c has 8 patients
    # among groups of K or more the test stays, its statistic as printed
    safety["incidence"]["gray"]["keys"] = ["a", "d"]
    kept = sponsor_edition(context, K)["safety"]["incidence"]["gray"]
    assert (kept["statistic"], kept["p"]) == (1.23, 0.27)


def test_follow_up_shares_and_rmst_differences_by_hand() -> None:
    def fu(n, median):
        return {"n": n, "median": median, "ci": [median - 2.2, None]}

    a = group("a", 30, 11, 19) | {
        "events_pct": 36.7,
        "censored_pct": 63.3,
        "followup": fu(30, 11.26),
    }
    b = group("b", 8, 5, 3, [at_risk_row(0.0, 8, 0, 0)]) | {
        "events_pct": 62.5,
        "censored_pct": 37.5,
        "followup": fu(8, 7.04),
    }
    c = group("c", 25, 12, 13) | {
        "events_pct": 48.0,
        "censored_pct": 52.0,
        "followup": fu(25, 9.87),
    }
    overall = group("overall", 63, 28, 35) | {"events_pct": 44.4, "censored_pct": 55.6}
    cell = {"estimate": 5.55, "ci": [4.04, 7.06], "se": 0.7}
    context = {
        "overall": overall,
        "strata": [a, b, c],
        "cohort": one_step_cohort(63),
        "followup": fu(63, 12.345),
        "rmst": {
            "tau": 12.0,
            "overall": dict(cell),
            "strata": {"a": dict(cell), "b": dict(cell), "c": dict(cell)},
            "reference": "a",
            "differences": {
                "b": {"estimate": 1.234, "ci": [-0.55, 3.01], "p": 0.2},
                "c": {"estimate": 1.234, "ci": [-0.55, 3.01], "p": 0.2},
            },
        },
    }
    sponsor = sponsor_edition(context, K)
    sa, sb, sc = sponsor["strata"]
    # b's 8 is hidden, and with it (63 = 30 + 8 + 25) the next smallest size, c's 25; the same
    # sizes are hidden in the strata's follow-up. Deaths: 28 = 11 + 5 + 12 hides a's 11 with
    # b's 5; c's 25 = 12 + 13 then hides c's censored, not its deaths.
    assert [(g["n"], g["followup"]["n"]) for g in (sa, sb, sc)] == [
        (30, 30),
        ("<11", "<11"),
        ("*", "*"),
    ]
    assert [(g["events"], g["censored"]) for g in (sa, sb, sc)] == [
        ("*", "*"),
        ("<11", "<11"),
        (12, "*"),
    ]
    assert (sponsor["overall"]["n"], sponsor["followup"]["n"]) == (63, 63)
    # a percentage beside a hidden count goes, and so does one of a hidden size: c's 12 deaths
    # at 48.0% would give its 25 back
    assert [(g["events_pct"], g["censored_pct"]) for g in (sa, sb, sc)] == [(None, None)] * 3
    assert (sponsor["overall"]["events_pct"], sponsor["overall"]["censored_pct"]) == (44.4, 55.6)
    # the follow-up as printed
    assert sponsor["followup"]["median"] == 12.3 and sponsor["followup"]["ci"] == [10.1, None]
    assert [g["followup"]["median"] for g in (sa, sb, sc)] == [11.3, "NE (<11 at risk)", 9.9]
    # b's curve stops at 0 (8 at risk): its RMST to 12 months and its difference from a are not
    # estimable; c's difference is kept, as printed, its p-value whole
    ne = "NE (<11 at risk)"
    rmst = sponsor["rmst"]
    assert rmst["strata"]["b"] == {"estimate": ne, "ci": [None, None], "se": None}
    assert rmst["strata"]["a"] == {"estimate": 5.5, "ci": [4.0, 7.1], "se": None}  # as "%.1f"
    assert rmst["differences"] == {
        "b": {"estimate": ne, "ci": [None, None], "p": None},
        "c": {"estimate": 1.2, "ci": [-0.6, 3.0], "p": 0.2},
    }
    # a reference whose curve stops before the horizon leaves no difference estimable
    context["rmst"]["reference"] = "b"
    assert all(
        d["estimate"] == ne for d in sponsor_edition(context, K)["rmst"]["differences"].values()
    )


# --- what bounds give away: a "<K" cell is 1 to K−1, a "*" cell 0 or at least K ----------------


def test_two_small_exclusions_whose_sum_is_two_are_both_hidden_behind_the_registry_size() -> None:
    # 60 in the registry, 58 analysed: the two exclusions "<11" add up to 2, so each is 1. The
    # number analysed drags the strata and every table with it; the registry size drags nothing.
    cohort = {
        "n_analysed": 58,
        "flow": [
            {"n": 60, "excluded": 0, "reason": None},
            {"n": 59, "excluded": 1, "reason": "no dose"},
            {"n": 58, "excluded": 1, "reason": "earlier checkpoint inhibitor"},
        ],
        "excluded": [
            {"reason": "no dose", "n": 1},
            {"reason": "earlier checkpoint inhibitor", "n": 1},
        ],
    }
    sponsor = sponsor_edition({"overall": group("overall", 58, 30, 28), "cohort": cohort}, K)
    assert [(step["n"], step["excluded"]) for step in sponsor["cohort"]["flow"]] == [
        ("*", 0),
        ("*", "<11"),
        (58, "<11"),
    ]
    assert sponsor["cohort"]["n_analysed"] == 58


def test_two_small_deaths_in_a_row_of_intervals_are_not_pinned_by_the_numbers_at_risk() -> None:
    rows = [
        at_risk_row(0.0, 40, 0, 0),
        at_risk_row(6.0, 39, 1, 0),
        at_risk_row(12.0, 38, 1, 0),
        at_risk_row(18.0, 20, 18, 0),
    ]
    values = {}
    sets = []
    for i, row in enumerate(rows):
        for name in ("at_risk", "events", "censored"):
            values[(name, i)] = row[name]
        if i:
            sets.append((("at_risk", i - 1), [("at_risk", i), ("events", i), ("censored", i)]))
    hidden = suppress_cells(values, sets, K)
    assert {k for k, v in hidden.items() if v == "primary"} == {("events", 1), ("events", 2)}
    assert recovered_within_bounds(values, sets, hidden) == set()
    # hiding only what subtraction needs (39 between them) leaves 40 − 38 = 1 + 1 + 0 + 0
    bare = {("events", 1): "primary", ("events", 2): "primary", ("at_risk", 1): "complementary"}
    assert not recovered_by_subtraction(values, sets, set(bare))
    assert recovered_within_bounds(values, sets, bare) == {("events", 1), ("events", 2)}


def test_a_starred_zero_beside_a_small_cell_gives_it_away_unless_the_set_has_room() -> None:
    # 45 = 3 + 0 + 42: hiding the 0 with the 3 leaves 3 = a + b with b either 0 or at least 11
    values = {("t",): 45, ("a",): 3, ("b",): 0, ("c",): 42}
    sets = [(("t",), [("a",), ("b",), ("c",)])]
    zero = {("a",): "primary", ("b",): "complementary"}
    assert recovered_within_bounds(values, sets, zero) == {("a",)}
    assert recovered_within_bounds(values, sets, {**zero, ("c",): "complementary"}) == set()
    assert suppress_cells(values, sets, K) == {("a",): "primary", ("c",): "complementary"}


def test_a_set_that_does_not_add_up_is_left_out_of_the_bounds() -> None:
    # the reader cannot trust a total that is not the sum of its parts: nothing is pinned by it
    values = {("t",): 50, ("a",): 1, ("b",): 1, ("c",): 40}
    hidden = suppress_cells(values, [(("t",), [("a",), ("b",), ("c",)])], K)
    assert hidden == {("a",): "primary", ("b",): "primary"}


def immortal_context(started: int) -> dict:
    """Two later-therapy strata of 20 and 15 (35 patients), ``started`` of them after the
    index date, beside 30 without later therapy."""
    strata = [
        group("none", 30, 20, 10) | {"later_therapy": False},
        group("a", 20, 12, 8) | {"later_therapy": True},
        group("b", 15, 9, 6) | {"later_therapy": True},
    ]
    delays = {
        "patients": 35,
        "started_after_index": started,
        "median_delay_months": 6.4383,
        "min_delay_months": 0.2319,
        "max_delay_months": 26.5112,
        "immortal_person_months": 820.4931,
        "share_of_follow_up": 0.42371,
    }
    evidence = {"overall": delays, "by_stratum": {"a": dict(delays), "b": dict(delays)}}
    return {
        "overall": group("overall", 65, 41, 24),
        "strata": strata,
        "cohort": one_step_cohort(65),
        "comparisons": {"immortal_time": {"depends_on_post_index": True, "evidence": evidence}},
    }


def test_the_immortal_time_of_page_one_is_kept_as_printed_without_one_patients_delay() -> None:
    sponsor = sponsor_edition(immortal_context(35), K)
    assert sponsor["comparisons"]["immortal_time"]["evidence"] == {
        "overall": {
            "patients": 35,
            "started_after_index": 35,
            "median_delay_months": 6.4,
            "immortal_person_months": 820.0,
            "share_of_follow_up": 0.42,
        }
    }


def test_immortal_time_of_a_few_patients_who_started_at_the_index_date_is_suppressed() -> None:
    # 32 of 35 started after the index date: 3 started at it, a small cell printed nowhere
    # but given by 35 − 32; 32 is hidden, and with it what is known of their delays
    overall = sponsor_edition(immortal_context(32), K)["comparisons"]["immortal_time"]
    assert overall["evidence"]["overall"] == {
        "patients": 35,
        "started_after_index": "*",
        "median_delay_months": None,
        "immortal_person_months": None,
        "share_of_follow_up": None,
    }


def test_immortal_time_of_fewer_than_k_patients_is_suppressed() -> None:
    context = immortal_context(5)
    overall = sponsor_edition(context, K)["comparisons"]["immortal_time"]["evidence"]["overall"]
    assert overall["started_after_index"] == "<11"
    assert overall["median_delay_months"] is None


def test_the_later_therapy_patients_add_up_to_their_strata() -> None:
    # b's 9 is small and hidden; 35 later-therapy patients − a's 26 would give it back
    context = immortal_context(35)
    context["strata"][1:] = [
        group("a", 26, 12, 14) | {"later_therapy": True},
        group("b", 9, 5, 4) | {"later_therapy": True},
    ]
    context["overall"] = group("overall", 65, 37, 28)
    sponsor = sponsor_edition(context, K)
    sizes = [g["n"] for g in sponsor["strata"]]
    patients = sponsor["comparisons"]["immortal_time"]["evidence"]["overall"]["patients"]
    assert sizes[2] == "<11"
    assert "*" in (sizes[1], patients)


def test_the_follow_up_of_a_group_under_k_is_not_estimable() -> None:
    followup = {"n": 9, "median": 16.72, "ci": [10.05, None]}
    context = {
        "overall": group("overall", 40, 25, 15),
        "strata": [
            group("a", 31, 20, 11) | {"followup": {**followup, "n": 31}},
            group("b", 9, 5, 4) | {"followup": followup},
        ],
        "cohort": one_step_cohort(40),
        "followup": {**followup, "n": 40},
    }
    sponsor = sponsor_edition(context, K)
    assert sponsor["strata"][1]["followup"]["median"] == "NE (<11 at risk)"
    assert sponsor["strata"][1]["followup"]["ci"] == ["NE", "NE"]
    assert sponsor["strata"][0]["followup"]["median"] == 16.7
    assert sponsor["followup"]["median"] == 16.7
