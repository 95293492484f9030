"""Kaplan–Meier figures as inline SVG text for the HTML and PDF reports.

The figures are drawn with matplotlib's object API (``matplotlib.figure.Figure`` on the SVG
backend), never through ``pyplot``, so no figure or rcParams state survives a call. All style
settings go through ``matplotlib.rc_context``.

Text is converted to paths (``svg.fonttype = "path"``): the glyphs come from matplotlib's own
DejaVu Sans, so the figure looks the same in a browser and in WeasyPrint whatever fonts the
machine has, and the SVG bytes do not depend on font lookup. Together with a fixed
``svg.hashsalt`` and no date in the metadata, the same input gives the same bytes.

Input curves may come from very large cohorts: a step function is reduced to its change points
and then to at most a few points per output pixel column before it is drawn (see
:func:`thin_steps`), so the SVG size does not grow with the number of patients.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["km_figure_svg", "overall_km_figure_svg", "thin_steps", "thin_marks", "PALETTE"]

#: Okabe–Ito colour-blind safe palette; groups take colours in order.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

#: Colour of a single-group (overall) curve.
_SINGLE_COLOUR = "#1F3B5A"

#: Horizontal resolution used to merge steps and censor marks: one bin per this fraction of
#: the time axis. The figure is about 600 px wide, so 2000 bins is finer than a pixel.
_RESOLUTION = 2000

_WIDTH_IN = 7.0
_PLOT_HEIGHT_IN = 3.6
_ROW_HEIGHT_IN = 0.40
_TABLE_HEADER_IN = 0.30
#: Half the width of a digit of the 8.5 pt at-risk numbers, in points (DejaVu digit = 0.636 em).
_HALF_DIGIT_PT = 2.8

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
    """The last at-risk tick with at least ``min_at_risk`` patients, or ``inf`` if never short."""
    last_ok = math.inf
    previous = None
    for row in group["at_risk"]:
        if row["at_risk"] < min_at_risk:
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


def _draw_curve(ax, group, colour, *, stop: float, resolution: float) -> None:
    """Step curve and censor marks of one group, cut at ``stop``."""
    curve = group["curve"]
    t, s = thin_steps(curve["time"], curve["survival"], resolution=resolution)
    if math.isfinite(stop) and t.size:
        inside = t <= stop
        t, s = t[inside], s[inside]
        if t.size and t[-1] < stop:
            t, s = np.append(t, stop), np.append(s, s[-1])
    label = f"{group['label']} (n={group['n']})"
    ax.step(t, s, where="post", color=colour, label=label, solid_joinstyle="miter")
    marks = group.get("censor_marks") or {"time": [], "survival": []}
    mt, ms = thin_marks(marks["time"], marks["survival"], resolution=resolution * 2,
                        y_resolution=0.002)
    if math.isfinite(stop):
        keep = mt <= stop
        mt, ms = mt[keep], ms[keep]
    if mt.size:
        ax.plot(mt, ms, linestyle="none", marker="+", markersize=5, markeredgewidth=0.9,
                color=colour)


def _draw_medians(ax, groups, colours) -> None:
    """Dashed guides from the y axis at 0.5 to each reached median and down to the x axis."""
    reached = [(g["median"], c) for g, c in zip(groups, colours, strict=True)
               if g.get("median") is not None]
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


def _draw_at_risk_table(ax, groups, colours, at_risk_times, x_max) -> None:
    """Numbers at risk under the time axis: one row per group, events/censored beneath."""
    n = len(groups)
    ax.set_xlim(0, x_max)
    ax.set_ylim(n - 0.4, -0.8)
    ax.set_yticks(range(n))
    ax.set_yticklabels([g["label"] for g in groups])
    for tick, colour in zip(ax.get_yticklabels(), colours, strict=True):
        tick.set_color(colour)
        tick.set_fontweight("bold")
    widest = max((len(str(c["at_risk"])) for g in groups for c in g["at_risk"]), default=1)
    # Centred numbers in the first column reach left of the axis by half their width.
    ax.tick_params(axis="y", length=0, pad=6 + _HALF_DIGIT_PT * widest)
    ax.tick_params(axis="x", length=0, labelbottom=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(0, -0.78, "Number at risk (events / censored in the preceding interval)",
            ha="left", va="top", fontsize=7.5, color="#444444",
            transform=ax.get_yaxis_transform())
    ticks = set(float(t) for t in at_risk_times)
    for row, (group, colour) in enumerate(zip(groups, colours, strict=True)):
        for cell in group["at_risk"]:
            if float(cell["time"]) not in ticks or float(cell["time"]) > x_max:
                continue
            ax.text(cell["time"], row, f"{cell['at_risk']}", ha="center", va="center_baseline",
                    fontsize=8.5, color=colour, clip_on=False)
            if cell["time"] > 0:
                ax.text(cell["time"], row + 0.36, f"{cell['events']}/{cell['censored']}",
                        ha="center", va="center", fontsize=6.8, color="#666666",
                        clip_on=False)


def _svg_text(fig) -> str:
    """Serialise ``fig`` to SVG with the XML prolog and doctype removed."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):].strip() + "\n"


def km_figure_svg(
    groups: Sequence[Mapping[str, Any]],
    at_risk_times: Sequence[float],
    *,
    title: str | None = None,
    min_at_risk: int = 0,
    xlabel: str = "Months",
    ylabel: str = "Survival probability",
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

    Returns
    -------
    str
        ``<svg …>…</svg>`` text, without XML prolog, ready to be placed in HTML.
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    if not groups:
        raise ValueError("a Kaplan–Meier figure needs at least one group")
    x_max = _x_limit(groups, at_risk_times)
    resolution = x_max / _RESOLUTION
    colours = _colours(len(groups))
    table_height = _TABLE_HEADER_IN + _ROW_HEIGHT_IN * len(groups)
    with rc_context(_RC):
        fig = Figure(figsize=(_WIDTH_IN, _PLOT_HEIGHT_IN + table_height), layout="constrained")
        FigureCanvasSVG(fig)
        ax, table = fig.subplots(2, 1, height_ratios=[_PLOT_HEIGHT_IN, table_height],
                                 sharex=True)
        for group, colour in zip(groups, colours, strict=True):
            stop = _truncation_time(group, min_at_risk) if min_at_risk > 0 else math.inf
            _draw_curve(ax, group, colour, stop=stop, resolution=resolution)
        _draw_medians(ax, groups, colours)
        _style_axes(ax, at_risk_times, x_max, title=title, xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="best", frameon=False, handlelength=1.8)
        _draw_at_risk_table(table, groups, colours, at_risk_times, x_max)
        return _svg_text(fig)


def overall_km_figure_svg(
    group: Mapping[str, Any],
    at_risk_times: Sequence[float],
    *,
    title: str | None = None,
    min_at_risk: int = 0,
) -> str:
    """Kaplan–Meier figure of one group (the whole cohort); see :func:`km_figure_svg`."""
    return km_figure_svg([group], at_risk_times, title=title, min_at_risk=min_at_risk)
