"""Kaplan–Meier and eligibility-flow figures as inline SVG text for the HTML and PDF reports.

Every figure is written as SVG directly, element by element, with no plotting library:

- its text is real ``<text>`` in the document's font (``font-family`` "Document Sans", the
  DejaVu Sans that ``templates/document.css`` embeds), so the numbers at risk, axis labels and
  legend can be searched and copied in the PDF (WeasyPrint draws SVG text with the page's
  fonts) and in the browser;
- it is small and quick: a Kaplan–Meier figure is a few dozen elements written in
  milliseconds (matplotlib cost about a second of CPU per report for its import and drawing,
  and wrote hundreds of kilobytes of glyph outlines), and no library's private API is used;
- the same input gives the same bytes: the output is plain string formatting of the input.

The geometry is in user units equal to points at the narrowest width at which the report
prints a figure (:data:`_PRINTED_WIDTH_IN`): a font size written in the SVG is its smallest
printed size. No text is smaller than 8 pt except, when the at-risk columns are too narrow even
for the compact counts (``746k``), the events/censored line beneath the numbers. Text widths
for the layout are estimated from DejaVu Sans's advance widths (:func:`_text_width`).

Strata are told apart by line style as well as by colour (Okabe–Ito palette), so they survive
a greyscale print; text in a stratum's colour is darkened where needed to keep a 4.5:1
contrast on white.

Input curves may come from very large cohorts: a step function is reduced to its change points
and then to at most a few points per output pixel column before it is drawn (see
:func:`thin_steps`); censor marks are thinned to one per cell of about 2 pt (see
:func:`thin_marks`) and all marks of a curve are one ``<path>``. The SVG size and its number
of elements do not grow with the number of patients.
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from toolkit.documents import size_text

__all__ = [
    "km_figure_svg",
    "overall_km_figure_svg",
    "flow_figure_svg",
    "thin_steps",
    "thin_marks",
    "compact_count",
    "PALETTE",
    "DEFAULT_XLABEL",
]

#: Okabe–Ito colour-blind safe palette; groups take colours in order.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

#: Colour of a single-group (overall) curve.
_SINGLE_COLOUR = "#1F3B5A"

#: ``stroke-dasharray`` of the groups' curves, in order (``""``: solid), in user units (pt):
#: solid, dashed, dotted, dash-dot, long dash, dash-dot-dot, long dash-dash.
_DASHES = ("", "6 3", "1.6 2.4", "8 2.5 1.6 2.5", "12 3", "8 2 1.6 2 1.6 2", "12 2.5 3 2.5")

#: Label of the time axis when the caller names no other: it says where time starts.
DEFAULT_XLABEL = "Months since the index date"

#: The narrowest width at which a figure is printed. ``templates/report.css`` draws
#: ``.figure-body svg`` at ``width: 100%`` of the text column and gives the report's pages
#: 18 mm side margins: on A4, 174 mm = 6.85 in (US letter: 7.08 in).
_PRINTED_WIDTH_IN = 6.85
#: Width of the SVG in user units: one unit prints as (at least) one point.
_WIDTH = _PRINTED_WIDTH_IN * 72

#: Steps closer together than 1/_RESOLUTION of the time axis are merged. The axes are about
#: 420 pt wide, so a bin is under half a point: the merge cannot be seen.
_RESOLUTION = 1000
#: Censor marks (5 pt crosses) closer than this fraction of the axis width overlap: keep one.
_MARK_RESOLUTION = 200
#: … and closer than this in survival probability.
_MARK_Y_RESOLUTION = 0.01
#: Censor mark: a ``+`` this many points wide, stroked this wide (points).
_MARK_SIZE_PT = 5.0
_MARK_WIDTH_PT = 0.9

_FONT_FAMILY = "Document Sans, DejaVu Sans, sans-serif"
#: Font sizes (pt). Numbers at risk shrink from _AT_RISK_PT to _MIN_AT_RISK_PT, then switch
#: to the compact form; the events/censored line goes below 8 pt only if even that is too wide.
_TITLE_PT = 10.0
_AXIS_LABEL_PT = 9.0
_TICK_PT = 8.5
_LEGEND_PT = 8.5
_HEADER_PT = 8.0
_AT_RISK_PT = 8.5
_MIN_AT_RISK_PT = 8.0
_EVENTS_PT = 8.0
_MIN_EVENTS_PT = 6.5
#: Baseline of a line of digits centred on y, below y, in em (DejaVu digits are 0.73 em high).
_CENTRE_EM = 0.36

_MARGIN = 6.0
#: The note in a plot with no curve: size and distance between its baselines.
_NOTE_PT, _NOTE_LEADING = 9.0, 12.0
_PLOT_HEIGHT = 165.0
_TICK_LENGTH = 3.0
_CURVE_WIDTH = 1.6
_LEGEND_SAMPLE = 26.0
_LEGEND_ROW = 12.0
#: Distance between the baselines of an at-risk row's lines (numbers, events, label lines), and
#: the space between rows.
_ROW_PITCH = 10.5
_ROW_GAP = 5.0
#: Survival axis from 0 to this, so a curve at 1 is not drawn on the top edge.
_Y_MAX = 1.02
_Y_TICKS = ((0.0, "0.00"), (0.25, "0.25"), (0.5, "0.50"), (0.75, "0.75"), (1.0, "1.00"))
#: Group labels of the at-risk table wrap at this many characters.
_LABEL_WRAP = 24
#: Least space between the widest numbers of neighbouring at-risk columns (pt).
_MIN_GAP = 3.0
#: Text in a group's colour is darkened until it has this contrast on white (WCAG AA).
_MIN_CONTRAST = 4.5

_INK = "#1d2329"
_AXIS_COLOUR = "#333333"
_GRID_COLOUR = "#e3e3e3"
_MUTED = "#555555"
#: Median guides: thin, grey and finely dashed, unlike any curve.
_MEDIAN_COLOUR = "#8c8c8c"
_MEDIAN_WIDTH = 0.7
_MEDIAN_DASH = "2.5 2"


def _advances(table: str) -> tuple[int, ...]:
    return tuple(int(width) for width in table.split())


#: Advance widths of DejaVu Sans (regular, then bold) for the characters U+0020 … U+007E, in
#: thousandths of an em (from the hmtx tables of templates/fonts/DejaVuSans*.ttf).
_ADVANCE = _advances(
    "318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 636 636 636 636 636 636 "
    "636 636 636 636 337 337 838 838 838 531 1000 684 686 698 770 632 575 775 752 295 295 "
    "656 557 863 748 787 603 787 695 635 611 732 684 989 685 611 685 390 337 390 838 500 500 "
    "613 635 550 635 615 352 635 634 278 278 579 278 974 634 612 635 635 411 521 392 634 592 "
    "818 592 592 525 636 337 636 838"
)
_ADVANCE_BOLD = _advances(
    "348 456 521 838 696 1002 872 306 457 457 523 838 380 415 380 365 696 696 696 696 696 "
    "696 696 696 696 696 400 400 838 838 838 580 1000 774 762 734 830 683 683 821 837 372 372 "
    "775 637 995 837 850 733 850 770 720 682 812 774 1103 771 724 725 457 365 457 838 500 500 "
    "675 716 593 716 678 435 716 712 343 343 665 343 1042 712 687 716 716 493 595 478 712 652 "
    "924 645 652 582 712 365 712 838"
)
#: … and of a few other characters labels use; anything else counts as a (wide) 0.9 em.
_ADVANCE_OTHER = {"–": 500, "—": 1000, "→": 838, "≥": 838, "≤": 838, "×": 838, "±": 838}
_ADVANCE_UNKNOWN = 900


def thin_steps(
    time: Sequence[float], values: Sequence[float], *, resolution: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a right-continuous step function to the points needed to draw it.

    Parameters
    ----------
    time, values : sequence of float
        The step function: ``values[i]`` holds from ``time[i]`` until ``time[i + 1]``.
    resolution : float, optional
        Steps closer together than this (in time units) are merged into one step carrying the
        last value of the run, which is invisible at that resolution. ``0`` keeps every change.

    Returns
    -------
    tuple of numpy.ndarray
        ``(time, values)`` holding the first point, every point where the value changes and
        the last point (so the final flat segment keeps its length).
    """
    t = np.asarray(time, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.size <= 2:
        return t, v
    if resolution > 0:
        # Keep the last point of each time bin: the value reached at the end of the bin.
        bins = np.floor((t - t[0]) / resolution)
        last_in_bin = np.append(bins[1:] != bins[:-1], True)
        last_in_bin[0] = True
        t, v = t[last_in_bin], v[last_in_bin]
    changed = np.append(True, v[1:] != v[:-1])
    changed[-1] = True
    return t[changed], v[changed]


def thin_marks(
    time: Sequence[float], values: Sequence[float], *, resolution: float, y_resolution: float
) -> tuple[np.ndarray, np.ndarray]:
    """Drop censor marks that would be drawn on top of another one.

    Parameters
    ----------
    time, values : sequence of float
        Positions of the marks.
    resolution, y_resolution : float
        Size of a cell in time and survival units; one mark is kept per occupied cell.

    Returns
    -------
    tuple of numpy.ndarray
        The kept marks, in their original order.
    """
    t = np.asarray(time, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.size == 0 or resolution <= 0:
        return t, v
    cells = np.stack([np.floor(t / resolution), np.floor(v / y_resolution)], axis=1)
    _, first = np.unique(cells, axis=0, return_index=True)
    keep = np.sort(first)
    return t[keep], v[keep]


def _truncation_time(group: Mapping[str, Any], min_at_risk: int) -> float:
    """The last at-risk tick with at least ``min_at_risk`` patients, or ``inf`` if never short.

    A group that carries ``shown_until`` (set by :mod:`toolkit.disclosure` from the numbers
    before suppression; ``None`` for no cut) is cut there instead.
    """
    if "shown_until" in group:
        return math.inf if group["shown_until"] is None else float(group["shown_until"])
    last_ok = math.inf
    previous = None
    for row in group["at_risk"]:
        if _is_hidden(row["at_risk"]) or row["at_risk"] < min_at_risk:
            last_ok = previous if previous is not None else float(row["time"])
            break
        previous = float(row["time"])
    return last_ok


def _x_limit(groups: Sequence[Mapping[str, Any]], at_risk_times: Sequence[float]) -> float:
    """Right end of the time axis: the last tick, or the last curve time if that is later."""
    last_tick = float(max(at_risk_times)) if at_risk_times else 0.0
    last_time = max((max(g["curve"]["time"], default=0.0) for g in groups), default=0.0)
    return max(last_tick, float(last_time), 1.0)


def _is_hidden(value: int | str) -> bool:
    """A count the sponsor edition suppressed (``"<11"``, ``"*"``)."""
    return isinstance(value, str)


def compact_count(n: int | str) -> str:
    """A count in at most five characters: ``950``, ``9.9k``, ``746k``, ``1.0M``.

    A suppressed count (a string such as ``"<11"``) is returned as it is.
    """
    if _is_hidden(n):
        return str(n)
    if n < 1_000:
        return str(n)
    if n < 10_000:
        return f"{n / 1_000:.1f}k"
    if n < 999_500:
        return f"{n / 1_000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


def _count(n: int | str) -> str:
    """A group's size for a legend: thousands separated, or as given when suppressed ("<11")."""
    return f"{n:,}" if isinstance(n, int) else str(n)


# --- SVG text and numbers ---------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _num(value: float) -> str:
    """``value`` with at most two decimals and no trailing zeros: ``12.5``, ``3``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Estimated advance width of ``text`` in DejaVu Sans at ``size``, in user units."""
    table = _ADVANCE_BOLD if bold else _ADVANCE
    total = sum(
        table[code - 32]
        if 32 <= (code := ord(char)) < 127
        else _ADVANCE_OTHER.get(char, _ADVANCE_UNKNOWN)
        for char in text
    )
    return total * size / 1000


def _text(x: float, y: float, text: str, **attributes: str | float) -> str:
    """A ``<text>`` element at ``(x, y)``; ``font_size=8`` is written ``font-size="8"``."""
    extra = "".join(
        f' {name.replace("_", "-")}="{_num(value) if isinstance(value, float) else value}"'
        for name, value in attributes.items()
    )
    return f'<text x="{_num(x)}" y="{_num(y)}"{extra}>{_escape(text)}</text>'


def _path(d: str, stroke: str) -> str:
    """A stroked, unfilled ``<path>`` (the root's fill is the text colour)."""
    return f'<path d="{d}" fill="none" {stroke}/>'


def _relative_luminance(colour: str) -> float:
    """WCAG relative luminance of an ``#rrggbb`` colour."""
    channels = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast_on_white(colour: str) -> float:
    return 1.05 / (_relative_luminance(colour) + 0.05)


@functools.cache
def _text_colour(colour: str) -> str:
    """``colour`` darkened in 5 % steps until text in it is legible on white (4.5:1)."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    for step in range(21):
        shade = "#" + "".join(f"{round(c * (1 - 0.05 * step)):02x}" for c in rgb)
        if _contrast_on_white(shade) >= _MIN_CONTRAST:
            return shade
    return "#000000"


# --- geometry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """The plot area in user units and the time it shows (survival runs from 0 to _Y_MAX)."""

    left: float
    top: float
    width: float
    height: float
    x_max: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def x(self, time: Any) -> np.ndarray:
        return self.left + np.asarray(time, dtype=float) / self.x_max * self.width

    def y(self, survival: Any) -> np.ndarray:
        return self.bottom - np.asarray(survival, dtype=float) / _Y_MAX * self.height


@dataclass(frozen=True)
class _Style:
    """How a group is drawn: curve colour, dash pattern and the colour of its text."""

    colour: str
    dash: str

    @property
    def text(self) -> str:
        return _text_colour(self.colour)

    def stroke(self, width: float = _CURVE_WIDTH) -> str:
        """Stroke attributes of a line in this style."""
        dash = f' stroke-dasharray="{self.dash}"' if self.dash else ""
        return f'stroke="{self.colour}" stroke-width="{_num(width)}"{dash}'


def _styles(n: int) -> list[_Style]:
    """One colour and one line style per group; a single group is solid, dark and neutral."""
    if n == 1:
        return [_Style(_SINGLE_COLOUR, "")]
    return [_Style(PALETTE[i % len(PALETTE)], _DASHES[i % len(_DASHES)]) for i in range(n)]


# --- curves, marks and medians ----------------------------------------------------------------


def _curve_points(
    curve: Mapping[str, Any], stop: float, resolution: float
) -> tuple[np.ndarray, np.ndarray]:
    """The thinned steps of a curve, cut at ``stop`` (the last value carried to ``stop``)."""
    t, s = thin_steps(curve["time"], curve["survival"], resolution=resolution)
    if math.isfinite(stop) and t.size:
        inside = t <= stop
        t, s = t[inside], s[inside]
        if t.size and t[-1] < stop:
            t, s = np.append(t, stop), np.append(s, s[-1])
    return t, s


def _step_path(x: np.ndarray, y: np.ndarray) -> str:
    """Path data of a step function drawn "post": across to the next time, then down."""
    xs, ys = [_num(v) for v in x], [_num(v) for v in y]
    return f"M{xs[0]} {ys[0]}" + "".join(f"H{a}V{b}" for a, b in zip(xs[1:], ys[1:], strict=True))


def _cross_path(x: np.ndarray, y: np.ndarray, size: float) -> str:
    """Path data of a ``+`` ``size`` wide and high centred on each point: two strokes each."""
    arm = _num(size)
    lefts, tops = x - size / 2, y - size / 2
    return "".join(
        f"M{_num(a)} {_num(b)}h{arm}M{_num(c)} {_num(d)}v{arm}"
        for a, b, c, d in zip(lefts, y, x, tops, strict=True)
    )


def _curve_svg(
    group: Mapping[str, Any], style: _Style, frame: _Frame, *, stop: float, resolution: float
) -> str:
    """The step curve of one group and its censor marks (one ``<path>`` each), cut at ``stop``."""
    parts = []
    t, s = _curve_points(group["curve"], stop, resolution)
    if t.size:
        parts.append(_path(_step_path(frame.x(t), frame.y(s)), style.stroke()))
    marks = group.get("censor_marks") or {"time": [], "survival": []}
    mt, ms = thin_marks(
        marks["time"],
        marks["survival"],
        resolution=resolution * _RESOLUTION / _MARK_RESOLUTION,
        y_resolution=_MARK_Y_RESOLUTION,
    )
    if math.isfinite(stop):
        keep = mt <= stop
        mt, ms = mt[keep], ms[keep]
    if mt.size:
        crosses = _cross_path(frame.x(mt), frame.y(ms), _MARK_SIZE_PT)
        parts.append(
            _path(crosses, f'stroke="{style.colour}" stroke-width="{_num(_MARK_WIDTH_PT)}"')
        )
    return "\n".join(parts)


def _medians_svg(groups: Sequence[Mapping[str, Any]], frame: _Frame) -> str:
    """Guides from the y axis at 0.5 to each reached median and down to the time axis."""
    # a suppressed edition's "NE (<K at risk)" median is not drawn either
    medians = [float(g["median"]) for g in groups if isinstance(g.get("median"), int | float)]
    if not medians:
        return ""
    half = _num(float(frame.y(0.5)))
    drops = "".join(f"M{_num(float(frame.x(m)))} {half}V{_num(frame.bottom)}" for m in medians)
    across = f"M{_num(frame.left)} {half}H{_num(float(frame.x(max(medians))))}"
    stroke = (
        f'stroke="{_MEDIAN_COLOUR}" stroke-width="{_num(_MEDIAN_WIDTH)}" '
        f'stroke-dasharray="{_MEDIAN_DASH}"'
    )
    return _path(across + drops, stroke)


# --- axes -------------------------------------------------------------------------------------


def _label_every(ticks: Sequence[float], frame: _Frame) -> int:
    """Label every k-th time tick so that neighbouring tick labels never touch."""
    if len(ticks) < 2:
        return 1
    gap = min(b - a for a, b in zip(ticks, ticks[1:], strict=False)) / frame.x_max * frame.width
    widest = max(_text_width(f"{t:g}", _TICK_PT) for t in ticks)
    return max(1, math.ceil((widest + 4) / gap)) if gap > 0 else len(ticks)


def _y_axis_svg(frame: _Frame, ylabel: str) -> str:
    """Grid lines, ticks and tick labels of the survival axis, and its rotated label."""
    ys = [_num(float(frame.y(value))) for value, _ in _Y_TICKS]
    grid = "".join(f"M{_num(frame.left)} {y}H{_num(frame.right)}" for y in ys)
    ticks = "".join(f"M{_num(frame.left - _TICK_LENGTH)} {y}h{_num(_TICK_LENGTH)}" for y in ys)
    x = frame.left - _TICK_LENGTH - 2
    labels = [
        _text(x, float(frame.y(value)) + _CENTRE_EM * _TICK_PT, text) for value, text in _Y_TICKS
    ]
    middle = frame.top + frame.height / 2
    # Rotated, the glyphs reach left of the baseline by their ascent, right by their descent.
    label_x = x - _text_width("0.75", _TICK_PT) - 4 - 0.24 * _AXIS_LABEL_PT
    return "\n".join(
        [
            _path(grid, f'stroke="{_GRID_COLOUR}" stroke-width="0.6"'),
            _path(ticks, f'stroke="{_AXIS_COLOUR}" stroke-width="0.8"'),
            f'<g font-size="{_num(_TICK_PT)}" text-anchor="end">',
            *labels,
            "</g>",
            f'<text transform="translate({_num(label_x)} {_num(middle)}) rotate(-90)" '
            f'font-size="{_num(_AXIS_LABEL_PT)}" text-anchor="middle">{_escape(ylabel)}</text>',
        ]
    )


def _x_axis_svg(frame: _Frame, ticks: Sequence[float], xlabel: str) -> str:
    """Axis lines, time ticks with their labels (thinned if crowded) and the axis label."""
    xs = [_num(float(frame.x(t))) for t in ticks]
    bottom = _num(frame.bottom)
    marks = "".join(f"M{x} {bottom}v{_num(_TICK_LENGTH)}" for x in xs)
    spines = f"M{_num(frame.left)} {_num(frame.top)}V{bottom}H{_num(frame.right)}"
    every = _label_every(ticks, frame)
    baseline = frame.bottom + _TICK_LENGTH + 2 + 0.76 * _TICK_PT
    labels = [
        _text(float(frame.x(t)), baseline, f"{t:g}") for i, t in enumerate(ticks) if i % every == 0
    ]
    return "\n".join(
        [
            _path(spines + marks, f'stroke="{_AXIS_COLOUR}" stroke-width="0.8"'),
            f'<g font-size="{_num(_TICK_PT)}" text-anchor="middle">',
            *labels,
            "</g>",
            _text(
                frame.left + frame.width / 2,
                baseline + 4 + _AXIS_LABEL_PT,
                xlabel,
                font_size=_AXIS_LABEL_PT,
                text_anchor="middle",
            ),
        ]
    )


# --- legend -----------------------------------------------------------------------------------


def _legend_rows(labels: Sequence[str], left: float) -> list[list[tuple[float, int]]]:
    """Place legend entries left to right from ``left``, wrapping at the figure's right edge.

    Returns
    -------
    list of list of (float, int)
        Per row, the x of each entry's line sample and the entry's index.
    """
    rows: list[list[tuple[float, int]]] = [[]]
    x = left
    for i, label in enumerate(labels):
        width = _LEGEND_SAMPLE + 4 + _text_width(label, _LEGEND_PT)
        if rows[-1] and x + width > _WIDTH - _MARGIN:
            rows.append([])
            x = left
        rows[-1].append((x, i))
        x += width + 14
    return rows


def _legend_svg(
    labels: Sequence[str], styles: Sequence[_Style], left: float, top: float, id_prefix: str
) -> tuple[str, float]:
    """The legend above the plot: each group's line sample (colour and dashes) and label.

    Returns
    -------
    tuple of (str, float)
        The SVG and the height the legend takes.
    """
    rows = _legend_rows(labels, left)
    parts = [f'<g id="{id_prefix}-legend" font-size="{_num(_LEGEND_PT)}">']
    for row_index, row in enumerate(rows):
        middle = top + _LEGEND_ROW * (row_index + 0.5)
        for x, i in row:
            sample = f"M{_num(x)} {_num(middle)}h{_num(_LEGEND_SAMPLE)}"
            parts.append(_path(sample, styles[i].stroke()))
            parts.append(_text(x + _LEGEND_SAMPLE + 4, middle + _CENTRE_EM * _LEGEND_PT, labels[i]))
    parts.append("</g>")
    return "\n".join(parts), _LEGEND_ROW * len(rows)


# --- numbers at risk --------------------------------------------------------------------------


def _cell_count(n: int | str | None, compact: bool) -> str:
    """A table count: in full or compact, as given when suppressed, "–" when missing."""
    if n is None:
        return "–"
    return compact_count(n) if compact else str(n)


@dataclass(frozen=True)
class _TableStyle:
    """How the at-risk table is written: font sizes and number formats."""

    at_risk_pt: float = _AT_RISK_PT
    events_pt: float = _EVENTS_PT
    compact_at_risk: bool = False
    compact_events: bool = False

    def at_risk(self, cell: Mapping[str, Any]) -> str:
        return _cell_count(cell.get("at_risk"), self.compact_at_risk)

    def events(self, cell: Mapping[str, Any]) -> str:
        events = _cell_count(cell.get("events"), self.compact_events)
        return f"{events}/{_cell_count(cell.get('censored'), self.compact_events)}"


def _widest(texts: Sequence[str]) -> float:
    """Width of the widest of ``texts`` at 1 pt."""
    return max((_text_width(text, 1.0) for text in texts), default=0.0)


def _table_style(cells: Sequence[Mapping[str, Any]], column: float) -> _TableStyle:
    """Pick sizes and number formats so the numbers of neighbouring columns never touch.

    Numbers at risk are written in full at ``_AT_RISK_PT`` or ``_MIN_AT_RISK_PT`` and else in
    the compact form (``746k``), never below 8 pt; the events/censored line likewise at
    ``_EVENTS_PT``, and if even its compact form is too wide it shrinks, to no less than
    ``_MIN_EVENTS_PT``. Each line keeps its full form where that fits.
    """
    room = column - _MIN_GAP
    full, short = _TableStyle(), _TableStyle(compact_at_risk=True, compact_events=True)
    sizes = (_AT_RISK_PT, _MIN_AT_RISK_PT)
    at_risk_pt, compact_at_risk = _MIN_AT_RISK_PT, True
    for style in (full, short):
        widest = _widest([style.at_risk(c) for c in cells])
        fitting = [pt for pt in sizes if widest * pt <= room]
        if fitting:
            at_risk_pt, compact_at_risk = fitting[0], style.compact_at_risk
            break
    interval_cells = [c for c in cells if float(c["time"]) > 0]
    widest_full = _widest([full.events(c) for c in interval_cells])
    widest_short = _widest([short.events(c) for c in interval_cells])
    if widest_full * _EVENTS_PT <= room:
        events_pt, compact_events = _EVENTS_PT, False
    else:
        events_pt = max(_MIN_EVENTS_PT, min(_EVENTS_PT, room / widest_short))
        compact_events = True
    return _TableStyle(at_risk_pt, events_pt, compact_at_risk, compact_events)


def _drawn_cells(group: Mapping[str, Any], ticks: Sequence[float]) -> list[Mapping[str, Any]]:
    """The group's at-risk cells that fall on a drawn tick."""
    drawn = set(ticks)
    return [cell for cell in group["at_risk"] if float(cell["time"]) in drawn]


def _row_labels(groups: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Each group's label for the at-risk table, wrapped to lines."""
    return [textwrap.wrap(str(g["label"]), _LABEL_WRAP) or [""] for g in groups]


def _half_column_width(groups: Sequence[Mapping[str, Any]], tick: float | None) -> float:
    """Half the widest text centred on ``tick`` (its label, the full counts), user units."""
    if tick is None:
        return 0.0
    style = _TableStyle()
    cells = [c for g in groups for c in _drawn_cells(g, [tick])]
    widths = [_text_width(f"{tick:g}", _TICK_PT)]
    widths += [_text_width(style.at_risk(c), _AT_RISK_PT) for c in cells]
    widths += [_text_width(style.events(c), _EVENTS_PT) for c in cells if tick > 0]
    return max(widths) / 2


def _column_width(ticks: Sequence[float], frame: _Frame) -> float:
    """Width of the narrowest at-risk column, in user units."""
    if len(ticks) < 2:
        return frame.width
    return min(b - a for a, b in zip(ticks, ticks[1:], strict=False)) / frame.x_max * frame.width


def _row_svg(
    cells: Sequence[Mapping[str, Any]],
    lines: Sequence[str],
    style: _Style,
    table: _TableStyle,
    frame: _Frame,
    *,
    baseline: float,
    label_right: float,
) -> str:
    """One group's row: its label left of the axis, its numbers at risk under the ticks and
    the events/censored line beneath them (none at time 0: no interval precedes it)."""
    xs = [float(frame.x(float(cell["time"]))) for cell in cells]
    numbers = [_text(x, baseline, table.at_risk(c)) for x, c in zip(xs, cells, strict=True)]
    events = [
        _text(x, baseline + _ROW_PITCH, table.events(c))
        for x, c in zip(xs, cells, strict=True)
        if float(c["time"]) > 0
    ]
    label = [_text(label_right, baseline + k * _ROW_PITCH, line) for k, line in enumerate(lines)]
    return "\n".join(
        [
            f'<g fill="{style.text}">',
            f'<g text-anchor="end" font-size="{_num(_AT_RISK_PT)}" font-weight="bold">',
            *label,
            "</g>",
            f'<g text-anchor="middle" font-size="{_num(table.at_risk_pt)}">',
            *numbers,
            "</g>",
            "</g>",
            f'<g text-anchor="middle" font-size="{_num(table.events_pt)}" fill="{_MUTED}">',
            *events,
            "</g>",
        ]
    )


def _table_svg(
    groups: Sequence[Mapping[str, Any]],
    styles: Sequence[_Style],
    ticks: Sequence[float],
    frame: _Frame,
    *,
    top: float,
    label_right: float,
    id_prefix: str,
) -> tuple[str, float]:
    """The numbers-at-risk table under the time axis, one row per group.

    Returns
    -------
    tuple of (str, float)
        The SVG and the y where the table ends.
    """
    cells = [_drawn_cells(g, ticks) for g in groups]
    flat = [c for row in cells for c in row]
    table, full = _table_style(flat, _column_width(ticks, frame)), _TableStyle()
    header = "Number at risk (events / censored in the preceding interval)"
    if any(table.at_risk(c) != full.at_risk(c) or table.events(c) != full.events(c) for c in flat):
        header += "; k = thousand, M = million"
    parts = [
        f'<g id="{id_prefix}-at-risk">',
        _text(_MARGIN, top + 0.76 * _HEADER_PT, header, font_size=_HEADER_PT, fill=_MUTED),
    ]
    baseline = top + _HEADER_PT + 8 + 0.76 * _AT_RISK_PT
    bottom = baseline
    for row, lines, style in zip(cells, _row_labels(groups), styles, strict=True):
        parts.append(
            _row_svg(row, lines, style, table, frame, baseline=baseline, label_right=label_right)
        )
        bottom = baseline + (max(2, len(lines)) - 1) * _ROW_PITCH + 3
        baseline = bottom + _ROW_GAP + 0.76 * _AT_RISK_PT
    parts.append("</g>")
    return "\n".join(parts), bottom


# --- the figure -------------------------------------------------------------------------------


def _plot_left(
    groups: Sequence[Mapping[str, Any]], label_lines: Sequence[Sequence[str]], first: float | None
) -> tuple[float, float]:
    """Left edge of the plot and right edge of the at-risk labels, in user units.

    The plot leaves room for the survival axis's label and tick labels, and for the at-risk
    labels beside the first column's numbers (centred on the axis, half of them left of it).
    """
    y_axis = _MARGIN + _AXIS_LABEL_PT + 4 + _text_width("0.75", _TICK_PT) + _TICK_LENGTH + 2
    widest = max(
        _text_width(line, _AT_RISK_PT, bold=True) for lines in label_lines for line in lines
    )
    half_first = _half_column_width(groups, first)
    left = max(y_axis, _MARGIN + widest + 8 + half_first)
    return left, left - half_first - 8


def _plot_width(
    groups: Sequence[Mapping[str, Any]], ticks: Sequence[float], left: float, x_max: float
) -> float:
    """Width of the plot: to the right margin, less what the last column's text needs."""
    room = _WIDTH - _MARGIN - left
    if not ticks or ticks[-1] <= 0:
        return room
    # the last column's text is centred on the last tick, which may lie left of the axis end
    half = _half_column_width(groups, ticks[-1])
    return min(room, (room - half) * x_max / ticks[-1])


def _plot_svg(
    groups: Sequence[Mapping[str, Any]],
    styles: Sequence[_Style],
    frame: _Frame,
    ticks: Sequence[float],
    *,
    min_at_risk: int,
    labels: tuple[str, str],
    id_prefix: str,
) -> str:
    """Grid, median guides, curves with censor marks, then the axes over them; a plot where
    no curve can start says so in its middle, so that it does not read as a drawing error."""
    resolution = frame.x_max / _RESOLUTION
    stops = [_truncation_time(group, min_at_risk) for group in groups]
    curves = [
        _curve_svg(group, style, frame, stop=stop, resolution=resolution)
        for group, style, stop in zip(groups, styles, stops, strict=True)
    ]
    xlabel, ylabel = labels
    parts = [
        _y_axis_svg(frame, ylabel),
        _medians_svg(groups, frame),
        f'<g id="{id_prefix}-curves">',
        *curves,
        "</g>",
        _x_axis_svg(frame, ticks, xlabel),
    ]
    if all(stop <= 0 for stop in stops):
        parts.append(_nothing_drawn_svg(frame, groups, min_at_risk))
    return "\n".join(part for part in parts if part)


def _nothing_drawn_svg(frame: _Frame, groups: Sequence[Mapping[str, Any]], min_at_risk: int) -> str:
    """Centred lines in the plot: no curve, and why (the caption names the groups)."""
    whose = "the curve" if len(groups) == 1 else "any curve"
    suppressed = any("shown_until" in group for group in groups)  # an edition's disclosure cut
    lines = (
        f"Too few patients to draw {whose}:",
        f"fewer than {min_at_risk} at risk"
        + (", or deaths not shown," if suppressed else "")
        + " in the first interval",
        "(numbers at risk below).",
    )
    cx, middle = frame.left + frame.width / 2, frame.top + frame.height / 2
    first = middle - (len(lines) - 1) / 2 * _NOTE_LEADING + _CENTRE_EM * _NOTE_PT
    return "\n".join(
        _text(cx, first + i * _NOTE_LEADING, line, text_anchor="middle", font_size=_NOTE_PT)
        for i, line in enumerate(lines)
    )


def _svg_root(parts: Sequence[str], height: float, id_prefix: str, label: str) -> str:
    """The ``<svg>`` element around ``parts``: sized by a viewBox, labelled, text in the ink."""
    width, height = _num(_WIDTH), _num(math.ceil(height))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{id_prefix}" class="figure-svg" '
        f'role="img" aria-label={quoteattr(label)} viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="{_FONT_FAMILY}" '
        f'font-size="{_num(_TICK_PT)}" fill="{_INK}">\n' + "\n".join(parts) + "\n</svg>\n"
    )


def km_figure_svg(
    groups: Sequence[Mapping[str, Any]],
    at_risk_times: Sequence[float],
    *,
    title: str | None = None,
    min_at_risk: int = 0,
    xlabel: str = DEFAULT_XLABEL,
    ylabel: str = "Survival probability",
    id_prefix: str = "km",
) -> str:
    """Draw Kaplan–Meier curves by group with a numbers-at-risk table, as inline SVG.

    Parameters
    ----------
    groups : sequence of mapping
        Report-context groups (``label``, ``n``, ``median``, ``curve``, ``censor_marks``,
        ``at_risk``; optionally ``shown_until``); drawn in order, each in its own colour and
        line style.
    at_risk_times : sequence of float
        Time-axis ticks (months); the at-risk table has one column per tick.
    title : str, optional
        Title drawn above the legend.
    min_at_risk : int, optional
        Stop each curve at the last tick where at least this many patients are still at risk;
        ``0`` (default) draws whole curves.
    xlabel : str, optional
        Label of the time axis, naming its origin and unit (default :data:`DEFAULT_XLABEL`).
    ylabel : str, optional
        Label of the survival axis.
    id_prefix : str, optional
        ``id`` of the root element and prefix of every other ``id``; give each figure on a
        page its own.

    Returns
    -------
    str
        ``<svg …>…</svg>`` text without XML prolog, ready to be placed in HTML: a ``viewBox``
        so that it scales to the page width, every label a ``<text>`` element in the document
        font, ``role="img"`` with an ``aria-label`` naming the groups.
    """
    if not groups:
        raise ValueError("a Kaplan–Meier figure needs at least one group")
    x_max = _x_limit(groups, at_risk_times)
    ticks = sorted({float(t) for t in at_risk_times})
    styles = _styles(len(groups))
    left, label_right = _plot_left(groups, _row_labels(groups), ticks[0] if ticks else None)
    width = _plot_width(groups, ticks, left, x_max)
    parts, top = [], _MARGIN
    if title:
        baseline = top + 0.76 * _TITLE_PT
        parts.append(_text(_MARGIN, baseline, title, font_size=_TITLE_PT, font_weight="bold"))
        top += _TITLE_PT + 6
    entries = [f"{g['label']} ({size_text(_count(g['n']), spaced=False)})" for g in groups]
    legend, legend_height = _legend_svg(entries, styles, left, top, id_prefix)
    frame = _Frame(left, top + legend_height + 8, width, _PLOT_HEIGHT, x_max)
    plot = _plot_svg(
        groups,
        styles,
        frame,
        ticks,
        min_at_risk=min_at_risk,
        labels=(xlabel, ylabel),
        id_prefix=id_prefix,
    )
    table, bottom = _table_svg(
        groups,
        styles,
        ticks,
        frame,
        top=frame.bottom + 34,
        label_right=label_right,
        id_prefix=id_prefix,
    )
    label = "Kaplan–Meier curves: " + ", ".join(str(g["label"]) for g in groups)
    return _svg_root([*parts, legend, plot, table], bottom + _MARGIN, id_prefix, label)


def overall_km_figure_svg(
    group: Mapping[str, Any],
    at_risk_times: Sequence[float],
    *,
    title: str | None = None,
    min_at_risk: int = 0,
    xlabel: str = DEFAULT_XLABEL,
    id_prefix: str = "km-overall",
) -> str:
    """Kaplan–Meier figure of one group (the whole cohort), drawn solid in a dark neutral colour.

    Parameters
    ----------
    group : mapping
        One report-context group, as for :func:`km_figure_svg`.
    at_risk_times, title, min_at_risk, xlabel, id_prefix
        As for :func:`km_figure_svg`.

    Returns
    -------
    str
        Inline ``<svg>`` text, as :func:`km_figure_svg` returns.
    """
    return km_figure_svg(
        [group],
        at_risk_times,
        title=title,
        min_at_risk=min_at_risk,
        xlabel=xlabel,
        id_prefix=id_prefix,
    )


# --- CONSORT-style eligibility flow ----------------------------------------------------------

#: Geometry of the flow diagram, in SVG user units (the figure scales to the page width).
_FLOW_WIDTH = 680
_FLOW_MARGIN = 10
_FLOW_MAIN_W = 320
_FLOW_SIDE_X = 390
_FLOW_FONT = 11.0
_FLOW_LINE = 14.0
_FLOW_PAD = 8.0
#: Average DejaVu Sans advance per character, in em: a safe (wide) estimate for wrapping.
_FLOW_CHAR_EM = 0.62
_FLOW_INK = "#1d2329"
_FLOW_LINE_COLOUR = "#5b6670"
_FLOW_FILL = "#f2f5f8"
_FLOW_FONT_FAMILY = _FONT_FAMILY


@dataclass(frozen=True)
class _Box:
    """A box of the flow diagram: top-left corner, size and its text lines (first line bold)."""

    x: float
    y: float
    w: float
    lines: tuple[str, ...]
    bold_last: bool = True

    @property
    def h(self) -> float:
        return len(self.lines) * _FLOW_LINE + 2 * _FLOW_PAD

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h


def _wrap(text: str, width: float) -> list[str]:
    """Wrap ``text`` to lines that fit ``width`` user units at the flow font size."""
    chars = max(8, int((width - 2 * _FLOW_PAD) / (_FLOW_FONT * _FLOW_CHAR_EM)))
    return textwrap.wrap(str(text), chars, break_long_words=True) or [""]


def _count_line(n: int | str) -> str:
    """``"n = 236"``, ``"n < 11"`` (:func:`toolkit.documents.size_text`)."""
    return size_text(str(n))


def _box_lines(label: str, n: int | str, width: float) -> tuple[str, ...]:
    text = str(label)
    return (*_wrap(text[:1].upper() + text[1:], width), _count_line(n))


def _box_svg(box: _Box) -> str:
    """A rectangle with centred text lines; the count line in bold."""
    parts = [
        f'<rect x="{box.x:g}" y="{box.y:g}" width="{box.w:g}" height="{box.h:g}" rx="3" '
        f'fill="{_FLOW_FILL}" stroke="{_FLOW_LINE_COLOUR}" stroke-width="1"/>'
    ]
    for i, line in enumerate(box.lines):
        y = box.y + _FLOW_PAD + _FLOW_LINE * (i + 1) - 3.5
        weight = ' font-weight="bold"' if box.bold_last and i == len(box.lines) - 1 else ""
        parts.append(
            f'<text x="{box.cx:g}" y="{y:g}" text-anchor="middle"{weight}>{_escape(line)}</text>'
        )
    return "\n".join(parts)


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    """A straight connector with a filled arrow head at ``(x2, y2)``."""
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bx, by = x2 - 6 * ux, y2 - 6 * uy
    left = (bx - 3.5 * uy, by + 3.5 * ux)
    right = (bx + 3.5 * uy, by - 3.5 * ux)
    return (
        f'<line x1="{x1:g}" y1="{y1:g}" x2="{bx:g}" y2="{by:g}" stroke="{_FLOW_LINE_COLOUR}" '
        f'stroke-width="1.2"/>'
        f'<polygon points="{x2:g},{y2:g} {left[0]:.2f},{left[1]:.2f} '
        f'{right[0]:.2f},{right[1]:.2f}" fill="{_FLOW_LINE_COLOUR}"/>'
    )


def _flow_layout(flow: Sequence[Mapping[str, Any]]) -> tuple[list[str], float, _Box]:
    """Main boxes, arrows and exclusion side boxes; returns SVG parts, y reached, last box."""
    parts: list[str] = []
    side_w = _FLOW_WIDTH - _FLOW_MARGIN - _FLOW_SIDE_X
    box = _Box(
        _FLOW_MARGIN,
        _FLOW_MARGIN,
        _FLOW_MAIN_W,
        _box_lines(flow[0]["label"], flow[0]["n"], _FLOW_MAIN_W),
    )
    parts.append(_box_svg(box))
    last = len(flow) - 1
    # a step that excludes nobody adds a box and nothing else; the last (analysed) stays
    shown = [s for i, s in enumerate(flow) if i and (i == last or s.get("excluded", 0) != 0)]
    for step in shown:
        excluded = step.get("excluded", 0)
        side = None
        gap = 28.0
        if excluded not in (0, None):
            reason = step.get("reason") or "excluded"
            lines = (*_wrap(f"Excluded: {reason}", side_w), _count_line(excluded))
            side = _Box(_FLOW_SIDE_X, 0, side_w, lines)
            gap = max(gap, side.h + 20)
        top = box.bottom + gap
        if side is not None:
            side = _Box(side.x, box.bottom + (gap - side.h) / 2, side.w, side.lines)
            mid = side.y + side.h / 2
            parts.append(_arrow(box.cx, mid, side.x, mid))
            parts.append(_box_svg(side))
        parts.append(_arrow(box.cx, box.bottom, box.cx, top))
        box = _Box(
            _FLOW_MARGIN, top, _FLOW_MAIN_W, _box_lines(step["label"], step["n"], _FLOW_MAIN_W)
        )
        parts.append(_box_svg(box))
    return parts, box.bottom, box


def _strata_layout(strata: Sequence[Mapping[str, Any]], last: _Box) -> tuple[list[str], float]:
    """The strata boxes side by side under the last step, joined by a bus line."""
    parts: list[str] = []
    count = len(strata)
    gap = 12.0
    width = (_FLOW_WIDTH - 2 * _FLOW_MARGIN - gap * (count - 1)) / count
    boxes = [
        _Box(_FLOW_MARGIN + i * (width + gap), 0, width, _box_lines(g["label"], g["n"], width))
        for i, g in enumerate(strata)
    ]
    bus = last.bottom + 16
    top = bus + 18
    height = max(b.h for b in boxes)
    centres = [b.cx for b in boxes]
    parts.append(
        f'<line x1="{last.cx:g}" y1="{last.bottom:g}" x2="{last.cx:g}" y2="{bus:g}" '
        f'stroke="{_FLOW_LINE_COLOUR}" stroke-width="1.2"/>'
    )
    parts.append(
        f'<line x1="{min(centres + [last.cx]):g}" y1="{bus:g}" x2="{max(centres + [last.cx]):g}" '
        f'y2="{bus:g}" stroke="{_FLOW_LINE_COLOUR}" stroke-width="1.2"/>'
    )
    for box in boxes:
        parts.append(_arrow(box.cx, bus, box.cx, top))
        placed = _Box(box.x, top + (height - box.h) / 2, box.w, box.lines)
        parts.append(_box_svg(placed))
    return parts, top + height


def flow_figure_svg(
    flow: Sequence[Mapping[str, Any]],
    strata: Sequence[Mapping[str, Any]] = (),
    *,
    id_prefix: str = "fig-flow",
) -> str:
    """A CONSORT-style eligibility diagram as inline SVG, drawn by hand (no matplotlib).

    Parameters
    ----------
    flow : sequence of mapping
        Eligibility steps (``label``, ``n``; ``excluded`` and ``reason`` for the patients the
        step removed), as in the context's ``cohort.flow``. Counts may be strings (``"<11"``).
    strata : sequence of mapping
        Groups (``label``, ``n``) drawn side by side under the last step; none for no split.
    id_prefix : str
        ``id`` of the root element.

    Returns
    -------
    str
        ``<svg>`` text: boxes with wrapped text (real text, so it can be searched and copied),
        down arrows between steps, side boxes with the exclusions and their counts.
    """
    if not flow:
        raise ValueError("a flow diagram needs at least one step")
    parts, bottom, last = _flow_layout(flow)
    if strata:
        more, bottom = _strata_layout(strata, last)
        parts += more
    height = math.ceil(bottom + _FLOW_MARGIN)
    label = "Eligibility flow: " + "; ".join(f"{s['label']} (n = {s['n']})" for s in flow)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{id_prefix}" class="figure-svg flow-svg" '
        f'role="img" aria-label={quoteattr(label)} viewBox="0 0 {_FLOW_WIDTH} {height}" '
        f'width="{_FLOW_WIDTH}" height="{height}" font-family="{_FLOW_FONT_FAMILY}" '
        f'font-size="{_FLOW_FONT:g}" fill="{_FLOW_INK}">\n' + "\n".join(parts) + "\n</svg>\n"
    )
