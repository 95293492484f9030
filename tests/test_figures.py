"""Kaplan–Meier SVG figures: inline-ready, deterministic, small whatever the cohort size."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pytest

from toolkit.figures import (
    compact_count,
    km_figure_svg,
    overall_km_figure_svg,
    thin_marks,
    thin_steps,
)

TICKS = [0, 6, 12, 18, 24, 30, 36]


def make_group(label: str, n: int, median: float | None, *, steps: int = 40) -> dict:
    """A group in the report-context shape with an exponential-looking step curve."""
    time = np.linspace(0.0, 36.0, steps + 1)
    rate = np.log(2) / (median if median is not None else 120.0)
    survival = np.exp(-rate * time)
    at_risk = [
        {
            "time": t,
            "at_risk": int(n * np.exp(-rate * t) * (1 - t / 48)),
            "events": 3,
            "censored": 1,
        }
        for t in TICKS
    ]
    return {
        "key": label.lower().replace(" ", "_"),
        "label": label,
        "n": n,
        "events": n // 2,
        "censored": n - n // 2,
        "median": median,
        "median_ci": [None, None] if median is None else [median - 2, median + 2],
        "survival_at": [],
        "at_risk": at_risk,
        "curve": {
            "time": time.tolist(),
            "survival": survival.tolist(),
            "ci_lower": (survival * 0.9).tolist(),
            "ci_upper": np.minimum(survival * 1.1, 1).tolist(),
        },
        "censor_marks": {"time": time[5::7].tolist(), "survival": survival[5::7].tolist()},
    }


@pytest.fixture
def groups() -> list[dict]:
    return [
        make_group("HD IL-2 only", 123, 14.0),
        make_group("IL-2 → ipilimumab", 78, 15.8),
        make_group("IL-2 → anti-PD-1", 35, None),
    ]


def test_svg_is_ready_to_inline(groups):
    svg = km_figure_svg(groups, TICKS, title="Overall survival")
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert 'role="img"' in svg and "HD IL-2 only" in svg  # aria-label names the groups
    assert "style=" not in svg and "<style" not in svg  # presentation attributes only


def test_same_input_same_bytes(groups):
    assert km_figure_svg(groups, TICKS) == km_figure_svg(groups, TICKS)


def test_no_matplotlib_state_leaks(groups):
    before = dict(matplotlib.rcParams)
    km_figure_svg(groups, TICKS)
    assert dict(matplotlib.rcParams) == before
    from matplotlib import _pylab_helpers

    assert _pylab_helpers.Gcf.get_all_fig_managers() == []


def test_hundred_thousand_tiny_steps_stay_small():
    n = 100_000
    group = make_group("Huge cohort", n, 18.0)
    time = np.sort(np.random.default_rng(7).uniform(0, 36, n))
    survival = np.exp(-np.log(2) / 18.0 * time)  # every point a (tiny) change
    time[0], survival[0] = 0.0, 1.0
    group["curve"] = {
        "time": time.tolist(),
        "survival": survival.tolist(),
        "ci_lower": survival.tolist(),
        "ci_upper": survival.tolist(),
    }
    group["censor_marks"] = {"time": time[1::2].tolist(), "survival": survival[1::2].tolist()}
    svg = km_figure_svg([group], TICKS)
    assert len(svg.encode()) < 200_000


def _with_curve_points(group: dict, points: int) -> dict:
    """``group`` with a curve and censor marks of ``points`` distinct times each."""
    time = np.sort(np.random.default_rng(11).uniform(0, 36, points))
    survival = np.exp(-np.log(2) / 18.0 * time)
    time[0], survival[0] = 0.0, 1.0
    curve = {"time": time.tolist(), "survival": survival.tolist()}
    curve["ci_lower"] = curve["ci_upper"] = curve["survival"]
    marks = {"time": time[1::2].tolist(), "survival": survival[1::2].tolist()}
    return dict(group, curve=curve, censor_marks=marks)


def test_element_count_does_not_grow_with_the_cohort():
    group = make_group("Cohort", 5_000, 18.0)
    small, big = (km_figure_svg([_with_curve_points(group, k)], TICKS) for k in (2_000, 200_000))
    assert len(re.findall(r"<[a-z]", big)) == len(re.findall(r"<[a-z]", small))
    assert len(big.encode()) < 1.2 * len(small.encode())


def test_censor_marks_are_one_path_of_crosses(groups):
    svg = km_figure_svg(groups[:1], TICKS)
    marks = re.findall(r'<path d="([^"]*)"[^>]*stroke-width="0.9"', svg)
    assert len(marks) == 1  # one element, however many marks
    assert marks[0].count("M") == 2 * len(groups[0]["censor_marks"]["time"])  # two arms each
    first = [float(v) for v in re.findall(r"[-\d.]+", marks[0])[:8]]
    assert first[2] - first[0] == pytest.approx(5.0)  # a 5 pt wide cross …
    assert abs(first[7] - first[5]) == pytest.approx(5.0)  # … and 5 pt high
    assert first[1] == first[3] and first[4] == first[6]  # centred on the same point


def test_each_string_is_one_path(groups):
    svg = km_figure_svg(groups, TICKS, title="Overall survival")
    assert "DejaVuSans" not in svg  # no glyph definitions, no <use> per character
    assert re.search(r'<!-- Overall survival -->\s*<path d="M [^"]+" transform=', svg)
    ylabel = re.search(r'<!-- Survival probability -->\s*<path d="[^"]+" transform="([^"]+)"', svg)
    assert ylabel and "rotate(-90)" in ylabel.group(1)
    coloured = re.search(r'<!-- HD IL-2 only -->\s*<path d="[^"]+"([^>]*)>', svg)
    assert coloured and 'fill="#0072b2"' in coloured.group(1)  # the group's colour


def test_mathtext_labels_keep_matplotlib_drawing():
    svg = km_figure_svg([make_group("dose $\\geq$ 10", 40, 12.0)], TICKS)
    assert svg.startswith("<svg") and "DejaVuSans" in svg  # matplotlib's glyph <use>s


def test_flat_runs_are_dropped():
    t, s = thin_steps([0, 1, 2, 3, 4, 5], [1.0, 1.0, 0.9, 0.9, 0.9, 0.8])
    assert t.tolist() == [0, 2, 5] and s.tolist() == [1.0, 0.9, 0.8]
    # the last point is kept so the final flat segment keeps its length
    t, s = thin_steps([0, 1, 2, 3], [1.0, 0.9, 0.9, 0.9])
    assert t.tolist() == [0, 1, 3] and s.tolist() == [1.0, 0.9, 0.9]


def test_steps_within_resolution_merge_to_the_last_value():
    t, s = thin_steps([0, 1.0, 1.01, 1.02, 3.0], [1.0, 0.9, 0.8, 0.7, 0.7], resolution=0.5)
    assert t.tolist() == [0, 1.02, 3.0] and s.tolist() == [1.0, 0.7, 0.7]


def test_overlapping_censor_marks_are_merged():
    t, s = thin_marks([1.0, 1.001, 5.0], [0.8, 0.8, 0.6], resolution=0.01, y_resolution=0.01)
    assert t.tolist() == [1.0, 5.0] and s.tolist() == [0.8, 0.6]


def test_overall_figure_and_truncation(groups):
    overall = make_group("All patients", 236, 18.4)
    full = overall_km_figure_svg(overall, TICKS)
    cut = overall_km_figure_svg(overall, TICKS, min_at_risk=100)
    assert full.startswith("<svg") and cut.startswith("<svg")
    assert cut != full


def test_figures_on_one_page_share_no_ids(groups):
    ids = [
        set(re.findall(r'\sid="([^"]+)"', km_figure_svg(groups, TICKS, id_prefix=prefix)))
        for prefix in ("a", "b")
    ]
    assert ids[0] and not ids[0] & ids[1]


def test_markup_in_labels_is_escaped():
    group = make_group("<script>alert(1)</script>", 10, 5.0)
    svg = km_figure_svg([group], TICKS)
    assert "<script>" not in svg


def test_at_least_one_group_is_needed():
    with pytest.raises(ValueError):
        km_figure_svg([], TICKS)


def test_at_risk_numbers_are_written_under_the_axis(groups):
    svg = km_figure_svg(groups, TICKS)
    for group in groups:
        for cell in group["at_risk"]:
            assert f"<!-- {cell['at_risk']} -->" in svg  # matplotlib keeps text as comments
    assert "<!-- 3/1 -->" in svg  # events/censored in the interval


def test_huge_counts_are_written_compactly():
    ticks = list(range(0, 78, 6))
    group = make_group("Registry", 1_000_000, 18.0)
    group["at_risk"] = [
        {"time": t, "at_risk": 1_000_000 - 12_345 * t, "events": 9_000, "censored": 345}
        for t in ticks
    ]
    svg = km_figure_svg([group], ticks)
    assert "<!-- 1.0M -->" in svg and "<!-- 926k -->" in svg and "<!-- 9.0k/345 -->" in svg
    assert "k = thousand" in svg


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1_000, "1.0k"),
        (9_949, "9.9k"),
        (10_000, "10k"),
        (746_078, "746k"),
        (999_499, "999k"),
        (999_500, "1.0M"),
        (12_345_678, "12.3M"),
    ],
)
def test_compact_count(n, text):
    assert compact_count(n) == text


def test_suppressed_counts_are_drawn_and_cut_the_curve(groups) -> None:
    hidden = [dict(g, at_risk=[dict(r) for r in g["at_risk"]]) for g in groups]
    for row in hidden[0]["at_risk"][3:]:
        row["at_risk"], row["events"] = "<11", "*"
    svg = km_figure_svg(hidden, TICKS, min_at_risk=11)
    assert svg.startswith("<svg") and svg == km_figure_svg(hidden, TICKS, min_at_risk=11)
    assert compact_count("<11") == "<11"


def test_flow_figure_is_deterministic_text_svg() -> None:
    from toolkit.figures import flow_figure_svg

    flow = [
        {"label": "patients in the registry", "n": 249, "excluded": 0, "reason": None},
        {"label": "with a dose", "n": 244, "excluded": 5, "reason": "no dose given"},
        {"label": "without prior therapy", "n": 236, "excluded": "<11", "reason": "prior"},
    ]
    strata = [{"label": "HD IL-2 only", "n": 123}, {"label": "IL-2 → anti-PD-1", "n": "*"}]
    svg = flow_figure_svg(flow, strata)
    assert svg == flow_figure_svg(flow, strata)
    assert "<text" in svg and "n = 249" in svg and "n = &lt;11" in svg and "n = *" in svg
    assert "Excluded: no dose given" in svg
    assert 'id="fig-flow"' in svg and 'role="img"' in svg
    with pytest.raises(ValueError):
        flow_figure_svg([])
