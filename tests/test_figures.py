"""Kaplan–Meier SVG figures: written directly as SVG with real text, inline-ready,
deterministic, legible in print and in greyscale, and small whatever the cohort size."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from toolkit.figures import (
    DEFAULT_XLABEL,
    PALETTE,
    compact_count,
    km_figure_svg,
    overall_km_figure_svg,
    thin_marks,
    thin_steps,
)

TICKS = [0, 6, 12, 18, 24, 30, 36]
SVG = "{http://www.w3.org/2000/svg}"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
#: Presentation attributes a ``<text>`` inherits from its ancestors.
INHERITED = ("font-size", "font-weight", "font-family", "fill", "text-anchor")


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


def texts(svg: str) -> list[dict]:
    """Every ``<text>`` of ``svg`` in document order, with the attributes it inherits."""
    found: list[dict] = []

    def walk(element: ET.Element, inherited: dict) -> None:
        attrs = inherited | {k: v for k, v in element.attrib.items() if k in INHERITED}
        if element.tag == SVG + "text":
            found.append(attrs | dict(element.attrib) | {"text": element.text or ""})
        for child in element:
            walk(child, attrs)

    walk(ET.fromstring(svg), {})
    return found


def text_x(svg: str, text: str) -> float:
    """x of the first centred ``<text>`` reading ``text``: for a time, its tick label (drawn
    before the at-risk table; the survival axis's labels are right-aligned)."""
    centred = (t for t in texts(svg) if t.get("text-anchor") == "middle")
    return float(next(t["x"] for t in centred if t["text"] == text))


def by_id(svg: str, suffix: str, prefix: str = "km") -> ET.Element:
    element = ET.fromstring(svg).find(f".//*[@id='{prefix}-{suffix}']")
    assert element is not None, suffix
    return element


def curve_paths(svg: str, prefix: str = "km") -> list[ET.Element]:
    """The step curves (not the censor marks), in group order."""
    return [p for p in by_id(svg, "curves", prefix) if p.get("stroke-width") == "1.6"]


def path_numbers(d: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]


def curve_end_x(path: ET.Element) -> float:
    """Right end of a step curve drawn as ``M x y H x V y …``."""
    return max(float(v) for v in re.findall(r"[MH](-?[\d.]+)", path.get("d")))


def at_risk_rows(svg: str, prefix: str = "km") -> list[dict]:
    """Per group: its label lines, its numbers and its events line as ``(text, x, y)``."""
    table = [child for child in by_id(svg, "at-risk", prefix) if child.tag == SVG + "g"]
    rows = []
    for coloured, events in zip(table[0::2], table[1::2], strict=True):
        label, numbers = coloured
        rows.append(
            {
                "fill": coloured.get("fill"),
                "label": [t.text for t in label],
                "numbers": [(t.text, float(t.get("x")), float(t.get("y"))) for t in numbers],
                "events": [(t.text, float(t.get("x")), float(t.get("y"))) for t in events],
                "numbers_pt": float(numbers.get("font-size")),
                "events_pt": float(events.get("font-size")),
            }
        )
    return rows


def printed_points_per_unit(svg: str) -> float:
    """Printed size of one SVG user unit, in points, in the A4 report.

    ``.figure-body svg`` is 100 % of the text column (report.css); the text column is A4 less
    the @page side margins (report.css's own, which override document.css's).
    """
    report_css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    rule = re.search(r"\.figure-body svg\s*\{([^}]*)\}", report_css).group(1)
    assert re.search(r"width:\s*100%", rule)
    page = (TEMPLATES / "document.css").read_text(encoding="utf-8")
    assert re.search(r"@page\s*\{\s*size:\s*A4;", page)
    margins = re.search(r"@page\s*\{[^}]*?margin:\s*([\d.\smm]+);", report_css).group(1)
    top, right, bottom, left = (float(m) for m in re.findall(r"([\d.]+)mm", margins))
    text_width_pt = (210 - left - right) / 25.4 * 72
    view_width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    return text_width_pt / view_width


def contrast_on_white(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


# --- inline-ready, deterministic --------------------------------------------------------------


def test_svg_is_ready_to_inline(groups):
    svg = km_figure_svg(groups, TICKS, title="Overall survival")
    root = ET.fromstring(svg)  # well-formed XML
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert root.get("role") == "img" and "HD IL-2 only" in root.get("aria-label")
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox"))  # scales to the page
    assert "style=" not in svg and "<style" not in svg  # presentation attributes only
    assert "Document Sans" in root.get("font-family")


def test_same_input_same_bytes(groups):
    assert km_figure_svg(groups, TICKS) == km_figure_svg(groups, TICKS)


def test_figures_on_one_page_share_no_ids(groups):
    ids = [
        set(re.findall(r'\sid="([^"]+)"', km_figure_svg(groups, TICKS, id_prefix=prefix)))
        for prefix in ("a", "b")
    ]
    assert ids[0] and not ids[0] & ids[1]
    assert all(i == "a" or i.startswith("a-") for i in ids[0])


def test_markup_in_labels_is_escaped():
    group = make_group("<script>alert(1)</script>", 10, 5.0)
    svg = km_figure_svg([group], TICKS, xlabel="Months & <days>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Months &amp; &lt;days&gt;" in svg
    assert "<script>alert(1)</script> (n=10)" in {t["text"] for t in texts(svg)}  # the legend


def test_at_least_one_group_is_needed():
    with pytest.raises(ValueError):
        km_figure_svg([], TICKS)


# --- text is text -----------------------------------------------------------------------------


def test_every_label_is_a_text_element(groups):
    svg = km_figure_svg(groups, TICKS, title="Overall survival")
    written = {t["text"] for t in texts(svg)}
    assert {"Overall survival", "Survival probability", DEFAULT_XLABEL} <= written
    assert {"0.00", "0.25", "0.50", "0.75", "1.00"} <= written  # survival ticks
    assert {"HD IL-2 only (n=123)", "IL-2 → anti-PD-1 (n=35)"} <= written  # legend
    assert {"HD IL-2 only", "IL-2 → ipilimumab"} <= written  # at-risk rows
    assert {f"{t:g}" for t in TICKS} <= written
    # no glyph outlines: the only paths are the lines (curves, marks, axes, grid, guides, legend)
    assert len(re.findall(r"<path", svg)) <= 2 * len(groups) + 4 + len(groups)
    assert "<use" not in svg


def test_labels_are_plain_text_even_with_dollar_signs():
    svg = km_figure_svg([make_group("dose $\\geq$ 10", 40, 12.0)], TICKS)
    assert "dose $\\geq$ 10" in {t["text"] for t in texts(svg)}


def test_survival_axis_is_labelled_and_rotated(groups):
    svg = km_figure_svg(groups, TICKS, ylabel="Overall survival probability")
    (label,) = (t for t in texts(svg) if t["text"] == "Overall survival probability")
    assert "rotate(-90)" in label["transform"]
    right_aligned = [t for t in texts(svg) if t.get("text-anchor") == "end"]
    ys = {t["text"]: float(t["y"]) for t in right_aligned if t["text"] in ("0.00", "0.50", "1.00")}
    assert ys["1.00"] < ys["0.50"] < ys["0.00"]
    assert ys["0.50"] - ys["1.00"] == pytest.approx(ys["0.00"] - ys["0.50"], abs=0.02)


def test_time_axis_names_its_origin(groups):
    assert DEFAULT_XLABEL == "Months since the index date"
    assert DEFAULT_XLABEL in {t["text"] for t in texts(km_figure_svg(groups, TICKS))}
    named = km_figure_svg(groups, TICKS, xlabel="Months since the 12-month landmark")
    assert "Months since the 12-month landmark" in {t["text"] for t in texts(named)}
    assert DEFAULT_XLABEL not in named
    overall = overall_km_figure_svg(groups[0], TICKS, xlabel="Months since diagnosis")
    assert "Months since diagnosis" in {t["text"] for t in texts(overall)}


# --- legible in print and in greyscale --------------------------------------------------------


@pytest.mark.parametrize("n", [236, 10_000, 1_000_000])
def test_text_is_at_least_8pt_when_printed(n):
    groups = [make_group(f"Stratum {i}", n // (i + 1), 12.0 + 3 * i) for i in range(3)]
    ticks = list(range(0, 61, 6))
    for group in groups:
        group["at_risk"] = [
            {
                "time": t,
                "at_risk": max(group["n"] - 41 * n // 500 * t, 0),
                "events": n // 60,
                "censored": n // 70,
            }
            for t in ticks
        ]
    svg = km_figure_svg(groups, ticks, title="Overall survival")
    scale = printed_points_per_unit(svg)
    sizes = {t["text"]: float(t["font-size"]) * scale for t in texts(svg)}
    assert min(sizes.values()) >= 8.0, min(sizes.items(), key=lambda item: item[1])


def test_events_line_shrinks_only_where_even_the_compact_form_does_not_fit():
    ticks = list(range(0, 121, 6))  # 21 narrow columns
    group = make_group("Registry", 9_000_000, 18.0)
    group["at_risk"] = [
        {"time": t, "at_risk": 9_000_000 - 70_000 * t, "events": 123_456, "censored": 654_321}
        for t in ticks
    ]
    svg = km_figure_svg([group], ticks)
    scale = printed_points_per_unit(svg)
    (row,) = at_risk_rows(svg)
    assert row["numbers_pt"] * scale >= 8.0  # numbers at risk never shrink below 8 pt
    assert 6.5 <= row["events_pt"] * scale < 8.0
    assert ("123k/654k", row["events"][0][1], row["events"][0][2]) == row["events"][0]


def test_strata_differ_in_line_style_as_well_as_colour(groups):
    svg = km_figure_svg(groups, TICKS)
    curves = curve_paths(svg)
    styles = [(p.get("stroke"), p.get("stroke-dasharray")) for p in curves]
    assert [s[0] for s in styles] == list(PALETTE[: len(groups)])  # Okabe–Ito, in order
    dashes = [s[1] for s in styles]
    assert len(set(dashes)) == len(groups)  # greyscale: the line styles alone tell them apart
    assert dashes[0] is None  # the first stratum is solid
    legend = [p for p in by_id(svg, "legend") if p.tag == SVG + "path"]
    assert [(p.get("stroke"), p.get("stroke-dasharray")) for p in legend] == styles
    assert [p.get("stroke-width") for p in legend] == ["1.6"] * len(groups)


def test_seven_strata_have_seven_line_styles():
    many = [make_group(f"Group {i}", 50, 10.0 + i) for i in range(7)]
    dashes = [p.get("stroke-dasharray") for p in curve_paths(km_figure_svg(many, TICKS))]
    assert len(set(dashes)) == 7


def test_median_guides_are_thin_grey_and_unlike_any_curve(groups):
    svg = km_figure_svg(groups, TICKS)
    curves = curve_paths(svg)
    guides = [
        p
        for p in ET.fromstring(svg).iter(SVG + "path")
        if p.get("stroke-dasharray") and p not in curves and p.get("stroke-width") != "1.6"
    ]
    (guide,) = guides
    stroke = guide.get("stroke")
    assert stroke[1:3] == stroke[3:5] == stroke[5:7]  # grey
    assert float(guide.get("stroke-width")) < 1.0 < float(curves[0].get("stroke-width"))
    assert guide.get("stroke-dasharray") not in {p.get("stroke-dasharray") for p in curves}
    # a drop line at each reached median (the third group's is not reached)
    assert guide.get("d").count("V") == 2


def test_coloured_text_has_enough_contrast(groups):
    many = [make_group(f"Group {i}", 50, 10.0 + i) for i in range(len(PALETTE))]
    for figure in (km_figure_svg(groups, TICKS), km_figure_svg(many, TICKS)):
        fills = {t["fill"] for t in texts(figure)}
        assert all(contrast_on_white(f) >= 4.5 for f in fills), fills
    rows = at_risk_rows(km_figure_svg(many, TICKS))
    assert len({row["fill"] for row in rows}) == len(PALETTE)  # still one colour each


# --- the numbers at risk ----------------------------------------------------------------------


def test_at_risk_numbers_are_written_under_the_ticks(groups):
    svg = km_figure_svg(groups, TICKS)
    tick_x = {t: text_x(svg, f"{t:g}") for t in TICKS}
    axis_label_y = float(next(t["y"] for t in texts(svg) if t["text"] == DEFAULT_XLABEL))
    rows = at_risk_rows(svg)
    for group, row in zip(groups, rows, strict=True):
        assert row["label"] == [group["label"]]
        numbers = [(str(cell["at_risk"]), tick_x[cell["time"]]) for cell in group["at_risk"]]
        assert [(text, x) for text, x, _ in row["numbers"]] == numbers
        assert all(y > axis_label_y for _, _, y in row["numbers"])
        # events / censored in each interval, under the number (none before time 0)
        assert [(text, x) for text, x, _ in row["events"]] == [("3/1", x) for _, x in numbers[1:]]
        assert all(e[2] > row["numbers"][0][2] for e in row["events"])
    assert rows[0]["numbers"][0][2] < rows[1]["numbers"][0][2] < rows[2]["numbers"][0][2]


def test_missing_events_show_a_dash(groups):
    group = dict(groups[0], at_risk=[dict(cell) for cell in groups[0]["at_risk"]])
    for cell in group["at_risk"]:
        cell["censored"] = None
    del group["at_risk"][1]["events"]
    (row,) = at_risk_rows(km_figure_svg([group], TICKS))
    assert [text for text, _, _ in row["events"][:2]] == ["–/–", "3/–"]


def test_huge_counts_are_written_compactly():
    ticks = list(range(0, 78, 6))
    group = make_group("Registry", 1_000_000, 18.0)
    group["at_risk"] = [
        {"time": t, "at_risk": 1_000_000 - 12_345 * t, "events": 9_000, "censored": 345}
        for t in ticks
    ]
    svg = km_figure_svg([group], ticks)
    (row,) = at_risk_rows(svg)
    numbers = [text for text, _, _ in row["numbers"]]
    assert numbers[:2] == ["1.0M", "926k"] and row["events"][0][0] == "9.0k/345"
    assert any("k = thousand" in t["text"] for t in texts(svg))


def test_counts_that_fit_are_written_in_full(groups):
    svg = km_figure_svg(groups, TICKS)
    assert not any("k = thousand" in t["text"] for t in texts(svg))
    big = [
        dict(g, at_risk=[dict(c, at_risk=c["at_risk"] * 40) for c in g["at_risk"]]) for g in groups
    ]
    (first, *_) = at_risk_rows(km_figure_svg(big, TICKS))
    assert first["numbers"][0][0] == "4920"  # four digits fit a 6-month column


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


# --- truncation -------------------------------------------------------------------------------


def test_overall_figure_and_truncation():
    overall = make_group("All patients", 236, 18.4)  # at risk: 236, 164, 112, 74, … at 0, 6, …
    full = overall_km_figure_svg(overall, TICKS)
    cut = overall_km_figure_svg(overall, TICKS, min_at_risk=100)
    (full_curve,) = curve_paths(full, "km-overall")
    (cut_curve,) = curve_paths(cut, "km-overall")
    assert curve_end_x(full_curve) == pytest.approx(text_x(full, "36"))
    assert curve_end_x(cut_curve) == pytest.approx(text_x(cut, "12"))  # the last tick with ≥ 100
    shown = [t for t, _, _ in at_risk_rows(cut, "km-overall")[0]["numbers"]]
    assert shown == [str(cell["at_risk"]) for cell in overall["at_risk"]]  # the table is whole


def test_suppressed_counts_are_drawn_and_cut_the_curve(groups) -> None:
    hidden = [dict(g, at_risk=[dict(r) for r in g["at_risk"]]) for g in groups]
    for row in hidden[0]["at_risk"][3:]:
        row["at_risk"], row["events"] = "<11", "*"
    svg = km_figure_svg(hidden, TICKS, min_at_risk=11)
    assert svg == km_figure_svg(hidden, TICKS, min_at_risk=11)
    rows = at_risk_rows(svg)
    assert [t for t, _, _ in rows[0]["numbers"]][3:] == ["<11"] * 4
    assert rows[0]["events"][2][0] == "*/1"
    curves = curve_paths(svg)
    assert curve_end_x(curves[0]) == pytest.approx(text_x(svg, "12"))  # last tick before "<11"
    # the second group has 13 at 24 months and 7 at 30: it stops at 24
    assert [c["at_risk"] for c in hidden[1]["at_risk"]][4:6] == [13, 7]
    assert curve_end_x(curves[1]) == pytest.approx(text_x(svg, "24"))
    assert compact_count("<11") == "<11"


def test_a_group_stops_where_shown_until_says(groups):
    cut = [dict(groups[0], shown_until=20.0), dict(groups[1], shown_until=None)]
    svg = km_figure_svg(cut, TICKS, min_at_risk=11)
    curves = curve_paths(svg)
    x18, x24 = text_x(svg, "18"), text_x(svg, "24")
    assert curve_end_x(curves[0]) == pytest.approx(x18 + (x24 - x18) / 3, abs=0.01)
    assert curve_end_x(curves[1]) == pytest.approx(text_x(svg, "36"))


def test_a_plot_without_any_curve_says_why(groups):
    hidden = km_figure_svg([dict(g, shown_until=0.0) for g in groups], TICKS, min_at_risk=11)
    start = text_x(hidden, "0")
    assert all(curve_end_x(curve) == pytest.approx(start) for curve in curve_paths(hidden))
    assert "Too few patients to draw any curve:" in hidden
    assert "fewer than 11 at risk, or deaths not shown, in the first interval" in hidden
    few = overall_km_figure_svg(groups[0], TICKS, min_at_risk=10_000)
    assert "Too few patients to draw the curve:" in few
    assert "fewer than 10000 at risk in the first interval" in few
    one_cut = [dict(groups[0], shown_until=0.0), groups[1]]
    assert "Too few patients" not in km_figure_svg(one_cut, TICKS, min_at_risk=11)
    assert "Too few patients" not in km_figure_svg(groups, TICKS, min_at_risk=11)


# --- small whatever the cohort ----------------------------------------------------------------


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
    assert len(svg.encode()) < 60_000


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
    marks = [p for p in by_id(svg, "curves") if p.get("stroke-width") == "0.9"]
    assert len(marks) == 1  # one element, however many marks
    d = marks[0].get("d")
    crosses = re.findall(r"M(-?[\d.]+) (-?[\d.]+)h([\d.]+)M(-?[\d.]+) (-?[\d.]+)v([\d.]+)", d)
    assert "".join(f"M{a} {b}h{c}M{e} {f}v{g}" for a, b, c, e, f, g in crosses) == d
    assert len(crosses) == len(groups[0]["censor_marks"]["time"])  # two strokes each
    for left, y, width, x, top, height in ([float(v) for v in c] for c in crosses):
        assert width == height == pytest.approx(5.0)  # a 5 pt wide and high cross …
        assert x == pytest.approx(left + 2.5, abs=0.011)  # … centred on the mark
        assert y == pytest.approx(top + 2.5, abs=0.011)


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


def test_step_curve_goes_across_then_down(groups):
    svg = km_figure_svg([make_group("Two steps", 10, 5.0, steps=2)], [0, 18, 36])
    (curve,) = curve_paths(svg, "km")
    commands = re.findall(r"[MHV]", curve.get("d"))
    assert commands == ["M", "H", "V", "H", "V"]


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
    assert "<text" in svg and "n = 249" in svg and "n &lt; 11" in svg and "n = *" in svg
    assert "Excluded: no dose given" in svg
    assert 'id="fig-flow"' in svg and 'role="img"' in svg
    with pytest.raises(ValueError):
        flow_figure_svg([])


def test_the_flow_skips_steps_that_exclude_nobody_and_writes_small_counts_as_less_than() -> None:
    from toolkit.figures import flow_figure_svg

    flow = [
        {"label": "in the registry", "n": 249, "excluded": 0, "reason": None},
        {"label": "step that excludes nobody", "n": 249, "excluded": 0, "reason": None},
        {"label": "with a dose", "n": 244, "excluded": "<11", "reason": "no dose"},
        {"label": "analysed", "n": 236, "excluded": 0, "reason": None},
    ]
    strata = [{"label": "A", "n": "<11"}, {"label": "B", "n": "*"}]
    svg = flow_figure_svg(flow, strata)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "Step that excludes nobody" not in texts
    boxes = [t for t in texts if t in ("In the registry", "With a dose", "Analysed")]
    assert boxes == ["In the registry", "With a dose", "Analysed"]
    assert "n &lt; 11" in texts and texts.count("n &lt; 11") == 2  # the excluded and stratum A
    assert "n = *" in texts and "n = &lt;11" not in texts
