"""Kaplan–Meier figures as inline SVG text for the HTML and PDF reports.

The figures are drawn with matplotlib's object API (``matplotlib.figure.Figure`` on the SVG
backend), never through ``pyplot``, so no figure or rcParams state survives a call. All style
settings go through ``matplotlib.rc_context``.

Text is converted to paths (``svg.fonttype = "path"``): the glyphs come from matplotlib's own
DejaVu Sans, so the figure looks the same in a browser and in WeasyPrint whatever fonts the
machine has, and the SVG bytes do not depend on font lookup. Together with a fixed
``svg.hashsalt`` and no date in the metadata, the same input gives the same bytes. Each string
is written as one ``<path>`` rather than one ``<use>`` per character (see
:func:`_svg_canvas_class`): WeasyPrint's drawing time grows with the number of elements.

Input curves may come from very large cohorts: a step function is reduced to its change points
and then to at most a few points per output pixel column before it is drawn (see
:func:`thin_steps`); censor marks are thinned to one per cell of about 2 pt (see
:func:`thin_marks`) and all marks of a curve are one ``<path>``. The SVG size and its number
of elements do not grow with the number of patients.
"""

from __future__ import annotations

import functools
import io
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

__all__ = [
    "km_figure_svg",
    "overall_km_figure_svg",
    "flow_figure_svg",
    "thin_steps",
    "thin_marks",
    "compact_count",
    "PALETTE",
]

#: Okabe–Ito colour-blind safe palette; groups take colours in order.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

#: Colour of a single-group (overall) curve.
_SINGLE_COLOUR = "#1F3B5A"

#: Steps closer together than 1/_RESOLUTION of the time axis are merged. The axes are about
#: 410 pt wide, so a bin is under half a point: the merge cannot be seen.
_RESOLUTION = 1000
#: Censor marks (5 pt crosses) closer than this fraction of the axis width overlap: keep one.
_MARK_RESOLUTION = 200
#: … and closer than this in survival probability.
_MARK_Y_RESOLUTION = 0.01
#: Censor mark: a ``+`` this many points wide, stroked this wide (points).
_MARK_SIZE_PT = 5.0
_MARK_WIDTH_PT = 0.9

_WIDTH_IN = 7.0
_PLOT_HEIGHT_IN = 3.6
_ROW_HEIGHT_IN = 0.40
_TABLE_HEADER_IN = 0.30
#: Width of a DejaVu Sans digit, in em.
_DIGIT_EM = 0.636
#: Font sizes (pt) of the at-risk numbers and of the events/censored line beneath them; both
#: shrink when the columns are too narrow for the longest number.
_AT_RISK_PT = 8.5
_EVENTS_PT = 6.8
#: Smallest sizes before counts switch to the compact form (``746k``).
_MIN_AT_RISK_PT = 7.0
_MIN_EVENTS_PT = 5.5
#: Group labels of the at-risk table wrap at this many characters.
_LABEL_WRAP = 24

_STYLE_ATTR = re.compile(r'style="([^"]*)"')
_GLOBAL_STYLE = re.compile(r'\s*<defs>\s*<style type="text/css">\*\{([^}]*)\}</style>\s*</defs>')
_ID = re.compile(r'(\sid=)"([^"]+)"')
_ID_REF = re.compile(r'(href="#|url\(#)([^")]+)')

_RC = {
    "svg.hashsalt": "toolkit-figures",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.labelsize": 8.5,
    "axes.linewidth": 0.8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "lines.linewidth": 1.6,
    "path.simplify": True,
}


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


def _colours(n: int) -> list[str]:
    """One colour per group; a single group gets a dark neutral colour."""
    if n == 1:
        return [_SINGLE_COLOUR]
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def _count(n: int | str) -> str:
    """A group's size for a legend: thousands separated, or as given when suppressed ("<11")."""
    return f"{n:,}" if isinstance(n, int) else str(n)


def _draw_curve(ax, group, colour, *, stop: float, resolution: float) -> None:
    """Step curve and censor marks of one group, cut at ``stop``."""
    curve = group["curve"]
    t, s = thin_steps(curve["time"], curve["survival"], resolution=resolution)
    if math.isfinite(stop) and t.size:
        inside = t <= stop
        t, s = t[inside], s[inside]
        if t.size and t[-1] < stop:
            t, s = np.append(t, stop), np.append(s, s[-1])
    label = f"{group['label']} (n={_count(group['n'])})"
    ax.step(t, s, where="post", color=colour, label=label, solid_joinstyle="miter")
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
        ax.add_artist(_censor_marks_class()(mt, ms, colour))


def _cross_path_vertices(centres: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and codes of one ``+`` of half-width ``half`` around each of ``centres``.

    Parameters
    ----------
    centres : numpy.ndarray
        ``(n, 2)`` mark centres in display units.
    half : float
        Half the length of each arm, in display units.

    Returns
    -------
    tuple of numpy.ndarray
        ``(4 n, 2)`` vertices and their path codes: for each mark a horizontal and a vertical
        stroke, each a move-to and a line-to.
    """
    arms = np.array([[-half, 0.0], [half, 0.0], [0.0, -half], [0.0, half]])
    vertices = (centres[:, None, :] + arms[None, :, :]).reshape(-1, 2)
    move, line = 1, 2  # matplotlib.path.Path.MOVETO, Path.LINETO
    codes = np.tile(np.array([move, line, move, line], dtype=np.uint8), len(centres))
    return vertices, codes


@functools.cache
def _censor_marks_class() -> type:
    """The artist that draws a curve's censor marks (built on first use: lazy matplotlib)."""
    from matplotlib.artist import Artist
    from matplotlib.path import Path
    from matplotlib.transforms import IdentityTransform

    class CensorMarks(Artist):
        """All censor marks of one curve as a single stroked path.

        Looks like ``ax.plot(x, y, "+", markersize=5, markeredgewidth=0.9)``, but the SVG
        backend writes one ``<path>`` instead of one ``<use>`` per mark, so the figure's
        element count does not grow with the number of marks.
        """

        zorder = 2  # the zorder of lines: drawn over the grid, in the order added

        def __init__(self, x: np.ndarray, y: np.ndarray, colour: str) -> None:
            super().__init__()
            self._xy = np.column_stack([x, y])
            self._colour = colour

        def draw(self, renderer) -> None:
            if not self.get_visible() or not len(self._xy):
                return
            centres = self.axes.transData.transform(self._xy)
            half = renderer.points_to_pixels(_MARK_SIZE_PT) / 2
            vertices, codes = _cross_path_vertices(centres, half)
            path = Path(vertices, codes)
            path.should_simplify = False  # every arm is drawn as it is
            gc = renderer.new_gc()
            self._set_gc_clip(gc)
            gc.set_foreground(self._colour)
            gc.set_linewidth(renderer.points_to_pixels(_MARK_WIDTH_PT))
            gc.set_capstyle("butt")
            renderer.draw_path(gc, path, IdentityTransform())
            gc.restore()
            self.stale = False

    return CensorMarks


def _draw_medians(ax, groups, colours) -> None:
    """Dashed guides from the y axis at 0.5 to each reached median and down to the x axis."""
    reached = [
        (g["median"], c)
        for g, c in zip(groups, colours, strict=True)
        # a suppressed edition's "NE (<K at risk)" median is not drawn either
        if isinstance(g.get("median"), int | float)
    ]
    if not reached:
        return
    guide = dict(linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)
    ax.plot([0, max(m for m, _ in reached)], [0.5, 0.5], color="#888888", **guide)
    for median, colour in reached:
        ax.plot([median, median], [0, 0.5], color=colour, **guide)


def _style_axes(ax, at_risk_times, x_max, *, title, xlabel, ylabel) -> None:
    """Ticks, limits, labels and spines of the survival axes."""
    ax.set_xlim(0, x_max)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(list(at_risk_times))
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_yticklabels(["0", "0.25", "0.50", "0.75", "1.00"])
    ax.set_xlabel(xlabel, labelpad=2)
    ax.set_ylabel(ylabel)
    ax.tick_params(labelbottom=True, length=3)
    ax.grid(axis="y", color="#e3e3e3", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, loc="left", fontweight="bold")


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


@dataclass(frozen=True)
class _TableStyle:
    """How the at-risk table is written: font sizes, number format, label wrapping."""

    at_risk_pt: float
    events_pt: float
    compact: bool
    labels: list[str]
    pad_pt: float

    def count(self, n: int | str) -> str:
        return compact_count(n) if self.compact else str(n)


def _table_style(groups, ticks: list[float], x_max: float) -> _TableStyle:
    """Pick sizes so the numbers of neighbouring columns never touch.

    Numbers are written in full at up to ``_AT_RISK_PT``; if even ``_MIN_AT_RISK_PT`` is too
    big for the narrowest column they switch to the compact form (``746k``).
    """
    labels = [textwrap.fill(str(g["label"]), _LABEL_WRAP) for g in groups]
    label_pt = max(len(line) for label in labels for line in label.splitlines()) * 0.66
    cells = [c for g in groups for c in g["at_risk"]]
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False) if b <= x_max]
    widest = max((len(str(c["at_risk"])) for c in cells), default=1)
    pad_pt = 6 + _DIGIT_EM * _AT_RISK_PT / 2 * widest
    axes_pt = _WIDTH_IN * 72 - max(label_pt * _AT_RISK_PT + pad_pt, 48) - 14
    column_pt = min(gaps) / x_max * axes_pt if gaps else axes_pt

    def fit(size: float, texts: list[str]) -> float:
        chars = max((len(t) for t in texts), default=1)
        return min(size, 0.85 * column_pt / (_DIGIT_EM * chars))

    for compact in (False, True):
        count = compact_count if compact else str
        at_risk = fit(_AT_RISK_PT, [count(c["at_risk"]) for c in cells])
        events = fit(_EVENTS_PT, [f"{count(c['events'])}/{count(c['censored'])}" for c in cells])
        if at_risk >= _MIN_AT_RISK_PT and events >= _MIN_EVENTS_PT:
            break
    at_risk, events = max(at_risk, _MIN_AT_RISK_PT), max(events, _MIN_EVENTS_PT)
    return _TableStyle(at_risk, events, compact, labels, pad_pt)


def _draw_at_risk_table(ax, groups, colours, at_risk_times, x_max) -> None:
    """Numbers at risk under the time axis: one row per group, events/censored beneath."""
    ticks = sorted({float(t) for t in at_risk_times})
    style = _table_style(groups, ticks, x_max)
    n = len(groups)
    ax.set_xlim(0, x_max)
    ax.set_ylim(n - 0.4, -0.8)
    ax.set_yticks(range(n))
    ax.set_yticklabels(style.labels, linespacing=1.0)
    for tick, colour in zip(ax.get_yticklabels(), colours, strict=True):
        tick.set_color(colour)
        tick.set_fontweight("bold")
    # Centred numbers in the first column reach left of the axis by half their width.
    ax.tick_params(axis="y", length=0, pad=style.pad_pt)
    ax.tick_params(axis="x", length=0, labelbottom=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    header = "Number at risk (events / censored in the preceding interval)"
    if style.compact:
        header += "; k = thousand, M = million"
    ax.text(
        0,
        -0.78,
        header,
        ha="left",
        va="top",
        fontsize=7.5,
        color="#444444",
        transform=ax.get_yaxis_transform(),
    )
    for row, (group, colour) in enumerate(zip(groups, colours, strict=True)):
        for cell in group["at_risk"]:
            time = float(cell["time"])
            if time not in ticks or time > x_max:
                continue
            ax.text(
                time,
                row,
                style.count(cell["at_risk"]),
                ha="center",
                va="center_baseline",
                fontsize=style.at_risk_pt,
                color=colour,
                clip_on=False,
            )
            if time > 0:
                ax.text(
                    time,
                    row + 0.36,
                    f"{style.count(cell['events'])}/{style.count(cell['censored'])}",
                    ha="center",
                    va="center",
                    fontsize=style.events_pt,
                    color="#666666",
                    clip_on=False,
                )


@functools.cache
def _svg_canvas_class() -> type:
    """The SVG canvas of the figures: text as one path per string (built on first use).

    matplotlib's SVG backend (``svg.fonttype = "path"``) defines each glyph once and places
    every character with a ``<use>``: an at-risk table becomes hundreds of elements, and
    WeasyPrint pays per element (it copies and re-parses the glyph at every ``<use>``). This
    renderer writes each string as one ``<path>`` holding the same glyph outlines at the same
    places (the outlines of :meth:`matplotlib.textpath.TextToPath.get_text_path`), so the
    figure looks the same with one element per string instead of one per character. Mathtext
    and text with font features or a language keep matplotlib's own drawing.

    The renderer overrides a private method of ``RendererSVG`` and uses its ``writer``,
    ``_text2path`` and ``_convert_path`` (written against matplotlib 3.11);
    ``tests/test_figures.py`` checks that text still comes out as one path per string.
    """
    import codecs

    from matplotlib import cbook
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
    from matplotlib.colors import rgb2hex
    from matplotlib.path import Path

    class TextAsPathRenderer(RendererSVG):
        """``RendererSVG`` writing each plain string as a single ``<path>``."""

        def _draw_text_as_path(self, gc, x, y, s, prop, angle, ismath, mtext=None):
            if ismath or _is_shaped(mtext) or gc.get_url() is not None:
                return super()._draw_text_as_path(gc, x, y, s, prop, angle, ismath, mtext)
            self.writer.comment(s)
            vertices, codes = self._text2path.get_text_path(prop, s)
            if not len(codes):
                return None
            # Glyph outlines are whole numbers in FreeType's 1/64 units: write them so.
            path = Path(np.asarray(vertices) * 64, codes)
            scale = prop.get_size_in_points() / self._text2path.FONT_SCALE
            transform = [
                ("translate", (x, y)),
                ("rotate", (-angle,)),
                ("scale", (scale, -scale)),
                ("scale", (1 / 64,)),
            ]
            self.writer.element(
                "path",
                d=self._convert_path(path, simplify=False),
                style=_text_style(rgb2hex(gc.get_rgb()), _alpha(gc)),
                transform=_svg_transform(transform),
            )
            return None

    class Canvas(FigureCanvasSVG):
        """``FigureCanvasSVG`` drawing with :class:`TextAsPathRenderer`."""

        def print_svg(self, filename, *, bbox_inches_restore=None, metadata=None, **_):
            # matplotlib's FigureCanvasSVG.print_svg with the renderer swapped. Unlike its
            # own canvases, matplotlib passes a third-party one every print_figure option
            # (dpi, facecolor, edgecolor, orientation): the SVG canvas uses none of them.
            with cbook.open_file_cm(filename, "w", encoding="utf-8") as fh:
                if not cbook.file_requires_unicode(fh):
                    fh = codecs.getwriter("utf-8")(fh)
                dpi = self.figure.dpi
                self.figure.dpi = 72
                width, height = self.figure.get_size_inches()
                svg = TextAsPathRenderer(
                    width * 72, height * 72, fh, image_dpi=dpi, metadata=metadata
                )
                renderer = MixedModeRenderer(
                    self.figure, width, height, dpi, svg, bbox_inches_restore=bbox_inches_restore
                )
                self.figure.draw(renderer)
                renderer.finalize()

    return Canvas


def _is_shaped(text) -> bool:
    """Whether a ``Text`` asks for font features or a language (matplotlib ≥ 3.10)."""
    features = getattr(text, "get_fontfeatures", lambda: None)()
    language = getattr(text, "get_language", lambda: None)()
    return bool(features or language)


def _alpha(gc) -> float:
    """Opacity of a graphics context, as matplotlib's SVG backend reads it."""
    return gc.get_alpha() if gc.get_forced_alpha() else gc.get_rgb()[3]


def _number(value: float) -> str:
    """``value`` with at most six decimals and no trailing zeros (matplotlib's SVG numbers)."""
    return f"{value:f}".rstrip("0").rstrip(".")


def _text_style(colour: str, alpha: float) -> str:
    """``style`` of a text path: its fill colour and opacity where not the SVG defaults."""
    parts = [] if colour == "#000000" else [f"fill: {colour}"]
    if alpha != 1:
        parts.append(f"opacity: {_number(alpha)}")
    return "; ".join(parts)


def _svg_transform(operations: Sequence[tuple[str, tuple[float, ...]]]) -> str:
    """SVG ``transform`` text for ``[(name, values), …]``, leaving out identity steps."""
    identity = {"translate": (0, 0), "rotate": (0,), "scale": (1,)}
    return " ".join(
        f"{name}({' '.join(_number(v) for v in values)})"
        for name, values in operations
        if tuple(values) != identity[name]
    )


def _svg_text(fig) -> str:
    """Serialise ``fig`` to SVG with the XML prolog and doctype removed."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :].strip() + "\n"


def _attributes(declarations: str) -> str:
    """``"fill: #fff; stroke: none"`` → ``'fill="#fff" stroke="none"'``."""
    pairs = (item.split(":", 1) for item in declarations.split(";") if ":" in item)
    return " ".join(f'{name.strip()}="{value.strip()}"' for name, value in pairs)


def _inline_ready(svg: str, id_prefix: str, label: str) -> str:
    """Make matplotlib's SVG fit to sit inside an HTML page next to other figures.

    Style attributes become presentation attributes and the global ``*{…}`` stylesheet
    becomes attributes of the root (a ``<style>`` inside HTML would apply to the whole page,
    and HTML renderers warn about SVG-only properties in ``style``); ids get ``id_prefix`` so
    two figures on one page never share one; the root gets ``role="img"`` and a label.
    """
    svg = _STYLE_ATTR.sub(lambda m: _attributes(m.group(1)), svg)
    match = _GLOBAL_STYLE.search(svg)
    root_attrs = _attributes(match.group(1)) if match else ""
    svg = _GLOBAL_STYLE.sub("", svg, count=1)
    svg = _ID.sub(lambda m: f'{m.group(1)}"{id_prefix}-{m.group(2)}"', svg)
    svg = _ID_REF.sub(lambda m: f"{m.group(1)}{id_prefix}-{m.group(2)}", svg)
    extra = f' class="figure-svg" role="img" aria-label={quoteattr(label)} {root_attrs}'
    return svg.replace("<svg ", f"<svg{extra} ", 1)


def km_figure_svg(
    groups: Sequence[Mapping[str, Any]],
    at_risk_times: Sequence[float],
    *,
    title: str | None = None,
    min_at_risk: int = 0,
    xlabel: str = "Months",
    ylabel: str = "Survival probability",
    id_prefix: str = "km",
) -> str:
    """Draw Kaplan–Meier curves by group with a numbers-at-risk table, as inline SVG.

    Parameters
    ----------
    groups : sequence of mapping
        Report-context groups (``label``, ``n``, ``median``, ``curve``, ``censor_marks``,
        ``at_risk``); drawn in order, one colour each.
    at_risk_times : sequence of float
        Time-axis ticks (months); the at-risk table has one column per tick.
    title : str, optional
        Title drawn above the axes.
    min_at_risk : int, optional
        Stop each curve at the last tick where at least this many patients are still at risk;
        ``0`` (default) draws whole curves.
    xlabel, ylabel : str, optional
        Axis labels.
    id_prefix : str, optional
        Prefix of every ``id`` in the SVG; give each figure on a page its own.

    Returns
    -------
    str
        ``<svg …>…</svg>`` text, without XML prolog, ready to be placed in HTML: SVG-only
        styling as presentation attributes, ids prefixed, ``role="img"`` with an
        ``aria-label`` naming the groups.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    if not groups:
        raise ValueError("a Kaplan–Meier figure needs at least one group")
    x_max = _x_limit(groups, at_risk_times)
    resolution = x_max / _RESOLUTION
    colours = _colours(len(groups))
    table_height = _TABLE_HEADER_IN + _ROW_HEIGHT_IN * len(groups)
    with rc_context(_RC):
        fig = Figure(figsize=(_WIDTH_IN, _PLOT_HEIGHT_IN + table_height), layout="constrained")
        _svg_canvas_class()(fig)
        ax, table = fig.subplots(2, 1, height_ratios=[_PLOT_HEIGHT_IN, table_height], sharex=True)
        for group, colour in zip(groups, colours, strict=True):
            stop = _truncation_time(group, min_at_risk) if min_at_risk > 0 else math.inf
            _draw_curve(ax, group, colour, stop=stop, resolution=resolution)
        _draw_medians(ax, groups, colours)
        _style_axes(ax, at_risk_times, x_max, title=title, xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="best", frameon=False, handlelength=1.8)
        _draw_at_risk_table(table, groups, colours, at_risk_times, x_max)
        svg = _svg_text(fig)
    label = "Kaplan–Meier curves: " + ", ".join(str(g["label"]) for g in groups)
    return _inline_ready(svg, id_prefix, label)


def overall_km_figure_svg(
    group: Mapping[str, Any],
    at_risk_times: Sequence[float],
    *,
    title: str | None = None,
    min_at_risk: int = 0,
    id_prefix: str = "km-overall",
) -> str:
    """Kaplan–Meier figure of one group (the whole cohort); see :func:`km_figure_svg`."""
    return km_figure_svg(
        [group], at_risk_times, title=title, min_at_risk=min_at_risk, id_prefix=id_prefix
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
_FLOW_FONT_FAMILY = "Document Sans, DejaVu Sans, sans-serif"


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


def _box_lines(label: str, n: int | str, width: float) -> tuple[str, ...]:
    text = str(label)
    return (*_wrap(text[:1].upper() + text[1:], width), f"n = {n}")


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


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    for step in flow[1:]:
        excluded = step.get("excluded", 0)
        side = None
        gap = 28.0
        if excluded not in (0, None):
            reason = step.get("reason") or "excluded"
            lines = (*_wrap(f"Excluded: {reason}", side_w), f"n = {excluded}")
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
