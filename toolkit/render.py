"""Render a report context (the pipeline's ``results.json``) to self-contained HTML and to PDF.

The HTML carries everything it needs: the stylesheet in a ``<style>`` tag, the figures as inline
SVG, and the report font (DejaVu Sans, shipped in ``templates/fonts/``) as a data URI holding only
the glyphs the document uses. The PDF is that same HTML laid out by WeasyPrint with a URL fetcher
that reads nothing but inline data and files inside the templates folder.

Both outputs are byte-for-byte reproducible: the figures have fixed ids and no date, the font
subset carries no timestamp, and the PDF's dates are the data cutoff.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from .documents import (
    MONTHS_DECIMALS,
    RATE_DECIMALS,
    RATIO_DECIMALS,
    AssetFetcher,
    check_formats,
    inline_css,
    join_and,
    long_date,
    percent_text,
    render_page,
    size_text,
    write_documents,
)
from .documents import embed_fonts as _embed_fonts
from .documents import make_environment as _document_environment
from .documents import render_pdf as _render_document_pdf
from .errors import UsageError
from .figures import flow_figure_svg, km_figure_svg, overall_km_figure_svg
from .resources import asset_dir

__all__ = [
    "render_html",
    "render_pdf",
    "write_report",
    "make_environment",
    "AssetFetcher",
    "FORMATS",
]

#: Output formats ``write_report`` knows, with the file each one writes.
FORMATS = {"html": "report.html", "pdf": "report.pdf"}

#: Paper sizes of the PDF (``--paper``), as CSS ``@page`` sizes.
PAPERS = {"a4": "A4", "letter": "letter"}

_TEMPLATE = "report.html.j2"
_STYLESHEETS = ("document.css", "report.css")
_NOT_REACHED = "not reached"
_NOT_ESTIMABLE = "not estimable"

# --- number and text filters ------------------------------------------------------------------


def fmt_number(value: float | int) -> str:
    """A time point such as a landmark: ``12`` → ``"12"``, ``6.5`` → ``"6.5"``."""
    return f"{float(value):g}"


def fmt_months(value: float | None) -> str:
    """Months with one decimal (``18.4``); ``None`` (a median not reached) → ``"not reached"``;
    a suppressed edition's ``"NE (<11 at risk)"`` as it is."""
    if isinstance(value, str):
        return value
    if value is None:
        return _NOT_REACHED
    return f"{float(value):.{MONTHS_DECIMALS}f}".replace("-", "\N{MINUS SIGN}")


def fmt_months_unit(value: float | None) -> str:
    """Months with their unit (``"18.4 months"``), ``"not reached"``, or a suppressed
    edition's ``"NE (<11 at risk)"``."""
    if isinstance(value, str):
        return value
    return _NOT_REACHED if value is None else f"{fmt_months(value)} months"


def fmt_pct(value: float | None) -> str:
    """A proportion as a percentage (``0.57`` → ``"57%"``, ``0.971`` → ``"97.1%"``: one decimal
    near 0 or 100%, :func:`toolkit.documents.percent_text`); ``None`` → ``"not estimable"``;
    a suppressed edition's ``"NE (<11 at risk)"`` as it is."""
    if isinstance(value, str):
        return value
    return _NOT_ESTIMABLE if value is None else f"{percent_text(float(value))}%"


def fmt_share(count: int | str, total: int | str) -> str:
    """A count out of a total as ``k/n (p%)``, the percentage to two significant digits.

    ``10, 78`` → ``"10/78 (13%)"``, ``2, 35`` → ``"2/35 (5.7%)"``, as the poster writes them.
    A suppressed count (``"<11"``) is shown without a percentage: ``"<11/35"``.
    """
    if isinstance(count, str) or isinstance(total, str) or not total:
        return f"{count}/{total}"
    percent = 100 * count / total
    digits = 0 if percent == 0 or percent >= 10 else 1
    return f"{count}/{total} ({percent:.{digits}f}%)"


def fmt_ci(pair: Sequence[float | None], unit: str = "months", *, label: bool = True) -> str:
    """A 95% confidence interval in brackets.

    Parameters
    ----------
    pair : sequence of two float or None
        Lower and upper limit. A missing limit of a median is ``"not reached"``; a missing
        limit of a survival proportion is ``"NE"`` (not estimable).
    unit : {"months", "pct"}
        How the limits are written.
    label : bool
        Start with ``"95% CI "``; tables say it once in the column header instead.

    Returns
    -------
    str
        ``"(95% CI 12.1–16.0)"``, ``"(95% CI 20.3–not reached)"``, ``"(48–65%)"`` …
    """
    lower, upper = pair
    prefix = "95% CI " if label else ""
    if unit == "pct":
        if lower is None and upper is None:
            return f"({prefix}NE)"
        low, high = (
            "NE" if limit is None else limit if isinstance(limit, str) else percent_text(limit)
            for limit in (lower, upper)
        )
        return f"({prefix}{low}–{high}%)"
    if unit != "months":
        raise ValueError(f"unknown CI unit {unit!r}; expected 'months' or 'pct'")
    if lower is None and upper is None:
        return f"({prefix}{_NOT_REACHED})"
    # "−0.3–1.6" reads as a range from a negative number only with care: "−0.3 to 1.6"
    negative = any(isinstance(x, int | float) and x < 0 for x in (lower, upper))
    return f"({prefix}{fmt_months(lower)}{' to ' if negative else '–'}{fmt_months(upper)})"


def fmt_statistic(value: float | None) -> str:
    """A test statistic (chi-square) as a ratio is printed, two decimals; ``None`` → ``"–"``."""
    return "–" if value is None else fmt_ratio(value)


def fmt_rate(value: float | str | None) -> str:
    """An incidence rate with one decimal (``14.22`` → ``"14.2"``); ``None`` → ``"–"``; a
    suppressed edition's ``"NE (<11 events)"`` as it is."""
    if value is None:
        return "–"
    return value if isinstance(value, str) else f"{float(value):.{RATE_DECIMALS}f}"


def fmt_ratio(value: float) -> str:
    """A hazard ratio or its CI limit: ``0.7965`` → ``"0.80"``."""
    return f"{float(value):.{RATIO_DECIMALS}f}"


def quantile_of(group: Mapping[str, Any], p: float) -> Mapping[str, Any] | None:
    """The ``quantiles`` entry of ``group`` for probability ``p``, if any."""
    return next((q for q in group.get("quantiles", []) if abs(q["p"] - p) < 1e-9), None)


def fmt_count(value: int | str | None) -> str:
    """A count with thousands separators; a suppressed one (``"<11"``, ``"*"``) as it is."""
    if value is None:
        return "–"
    return value if isinstance(value, str) else f"{int(value):,}"


def fmt_n_pct(cell: Mapping[str, Any]) -> str:
    """A Table 1 cell ``{"n", "pct"}`` as ``"48 (39.0%)"``; a suppressed one without %."""
    if cell.get("pct") is None:
        return fmt_count(cell.get("n"))
    return f"{fmt_count(cell['n'])} ({float(cell['pct']):.1f}%)"


def fmt_age(value: float | str | None) -> str:
    """An age or age quantile (``52``, ``46.5``); top-coded ``"90+"`` and ``None`` as text."""
    if value is None:
        return "–"
    return value if isinstance(value, str) else f"{float(value):g}"


def fmt_age_quantile(value: float | str | None) -> str:
    """A median or quartile of age with one decimal (``53.0``, ``59.5``), so that a median and
    its IQR read alike; top-coded ``"90+"`` and ``None`` as :func:`fmt_age`."""
    if value is None or isinstance(value, str):
        return fmt_age(value)
    return f"{float(value):.1f}"


def date_text(value: str | None) -> str:
    """An ISO date in words (``"20 March 2015"``); other text (``"March 2015"``) as it is."""
    if not value:
        return "–"
    try:
        return long_date(value)
    except ValueError:
        return str(value)


def fmt_p(value: float | str | None) -> str:
    """A p-value: ``"0.043"``, ``"<0.001"``; ``None`` → ``"–"``; a suppressed edition's
    ``"NE (<11 at risk)"`` as it is."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def months_list(values: Sequence[float | None]) -> str:
    """Several durations in prose: ``"14.0, 15.8 and 28.7 months"``.

    When any of them is ``None`` or not estimable each item carries its own unit instead
    (``"14.0 months, 15.8 months and not reached"``).
    """
    if all(value is not None and not isinstance(value, str) for value in values):
        return f"{join_and(fmt_months(v) for v in values)} months"
    return join_and(fmt_months_unit(v) for v in values)


def with_n(group: Mapping[str, Any]) -> str:
    """A group's label with its size: ``"HD IL-2 only (n=123)"``."""
    return f"{group['label']} ({size_text(str(group['n']), spaced=False)})"


def at_landmark(group: Mapping[str, Any], time: float) -> Mapping[str, Any]:
    """The ``survival_at`` entry of ``group`` at ``time``; an all-``None`` entry if absent."""
    for entry in group["survival_at"]:
        if abs(float(entry["time"]) - float(time)) < 1e-9:
            return entry
    return {"time": time, "estimate": None, "ci": [None, None], "at_risk": None}


_FILTERS = {  # besides toolkit.documents.COMMON_FILTERS (join_and, long_date …)
    "num": fmt_number,
    "months": fmt_months,
    "months_unit": fmt_months_unit,
    "months_list": months_list,
    "pct": fmt_pct,
    "share": fmt_share,
    "cell": fmt_count,
    "size": size_text,
    "n_pct": fmt_n_pct,
    "age": fmt_age,
    "age_quantile": fmt_age_quantile,
    "pvalue": fmt_p,
    "ratio": fmt_ratio,
    "rate": fmt_rate,
    "quantile": quantile_of,
    "statistic": fmt_statistic,
    "landmark_column": lambda months: {
        "title": f"Landmark {months:g} months",
        "sub": "HR (95% CI), p",
        "numeric": True,
    },
    "date_text": date_text,
    "ci": fmt_ci,
    "with_n": with_n,
    "at_landmark": at_landmark,
}


# --- HTML -------------------------------------------------------------------------------------


def render_compare_html(context: Mapping[str, Any]) -> str:
    """The comparison of two cutoffs (:func:`toolkit.compare.compare_context`) as a
    self-contained HTML document, its numbers formatted as the reports format them."""
    return render_page("compare.html.j2", (), filters=_FILTERS, changes=context)


@lru_cache(maxsize=4)
def make_environment(templates: Path | None = None) -> Environment:
    """The Jinja2 environment of the report templates (autoescaping, strict undefined).

    Parameters
    ----------
    templates : pathlib.Path, optional
        Template folder; defaults to ``asset_dir("templates")``.

    Returns
    -------
    jinja2.Environment
        :func:`toolkit.documents.make_environment` with the report filters (``months``,
        ``pct``, ``ci``, ``join_and`` …) registered.
    """
    return _document_environment(templates, _FILTERS)


def _figures(context: Mapping[str, Any]) -> dict[str, Markup]:
    """SVG text of every figure the templates place, by name."""
    groups = context["strata"] or [context["overall"]]
    ticks = context["at_risk_times"]
    min_at_risk = int(context.get("min_at_risk_shown") or 0)
    figures = {
        "km_strata": km_figure_svg(groups, ticks, min_at_risk=min_at_risk, id_prefix="fig-km"),
        "km_overall": overall_km_figure_svg(
            context["overall"], ticks, min_at_risk=min_at_risk, id_prefix="fig-km-overall"
        ),
        "flow": flow_figure_svg(context["cohort"]["flow"], context["strata"]),
    }
    aware = context.get("aware_figures") or {}
    if aware.get("simon_makuch"):
        figures["simon_makuch"] = km_figure_svg(aware["simon_makuch"], ticks, id_prefix="fig-sm")
    if aware.get("landmark"):
        landmark = aware["landmark"]
        since = [t for t in ticks if t + landmark["landmark"] <= ticks[-1]]
        figures["landmark"] = km_figure_svg(
            landmark["groups"],
            since,
            min_at_risk=min_at_risk,
            xlabel=f"Months since the {landmark['landmark']:g}-month landmark",
            id_prefix="fig-landmark",
        )
    return {name: Markup(svg) for name, svg in figures.items()}


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string that cannot close the ``<style>`` element."""
    escaped = "".join(
        f"\\{ord(ch):X} " if ch in '"\\<>&' or ord(ch) < 0x20 else ch for ch in str(text)
    )
    return f'"{escaped}"'


def page_css(context: Mapping[str, Any], paper: str = "a4") -> Markup:
    """The ``@page`` rules that depend on the report: paper size, running header, and in a
    suppressed edition a running footer with the edition and threshold.

    Parameters
    ----------
    context : mapping
        The report context (``short_title``, ``cutoff``).
    paper : {"a4", "letter"}
        Page size.

    Returns
    -------
    markupsafe.Markup
        CSS for a ``<style>`` element; the header text is CSS-escaped.
    """
    if paper not in PAPERS:
        raise UsageError(f"unknown paper size {paper!r}; choose from {', '.join(PAPERS)}")
    title = context.get("short_title") or context["title"]
    rules = (
        f"@page {{ size: {PAPERS[paper]}; }}\n"
        f"@page {{ @top-left {{ content: {_css_string(title)}; }} }}\n"
    )
    disclosure = context.get("disclosure") or {}
    if disclosure.get("suppressed"):
        # a forwarded page keeps the edition, the registry (synthetic or not) and the threshold
        mark = (
            f"{context['registry']} · {str(context['edition']).capitalize()} edition · "
            f"counts below {disclosure['threshold']} suppressed"
        )
        rules += (
            f"@page {{ @bottom-left {{ content: {_css_string(mark)}; width: 75%; "
            'font-family: "Document Sans", sans-serif; font-size: 7.5pt; color: #5b6670; '
            "vertical-align: top; padding-top: 3mm; } }\n"
        )
    return Markup(rules)


def render_html(context: Mapping[str, Any], *, embed_fonts: bool = True, paper: str = "a4") -> str:
    """Render the report context to one self-contained HTML document.

    Parameters
    ----------
    context : mapping
        The report context (see the module docs of ``toolkit.report_context``); every key the
        templates use must be present — a missing one raises ``jinja2.UndefinedError``.
    embed_fonts : bool, optional
        Put the report font into the HTML as a data URI (default). ``False`` leaves
        ``url("fonts/….ttf")`` relative to the templates folder, which only WeasyPrint resolves.
    paper : {"a4", "letter"}, optional
        Page size when printed (the PDF's page size).

    Returns
    -------
    str
        The HTML text.
    """
    templates = asset_dir("templates")
    env = make_environment(templates)
    html = env.get_template(_TEMPLATE).render(
        report=context,
        figures=_figures(context),
        stylesheet=inline_css(*_STYLESHEETS, templates=templates),
        page_css=page_css(context, paper),
    )
    return _embed_fonts(html, templates) if embed_fonts else html


# --- PDF --------------------------------------------------------------------------------------


def render_pdf(
    html: str, *, cutoff: str, title: str, url_fetcher: AssetFetcher | None = None
) -> bytes:
    """Lay out report HTML as an A4 PDF with WeasyPrint (:func:`toolkit.documents.render_pdf`).

    Parameters
    ----------
    html : str
        Output of :func:`render_html`; relative URLs resolve inside the templates folder.
    cutoff : str
        Data cutoff (ISO date); becomes the PDF creation and modification date, so the same
        input always gives the same bytes.
    title : str
        Document title in the PDF metadata.
    url_fetcher : AssetFetcher, optional
        Fetcher to use (a fresh :class:`AssetFetcher` by default); pass one to inspect what
        the document asked for.

    Returns
    -------
    bytes
        The PDF.
    """
    return _render_document_pdf(html, title=title, stamp=cutoff, url_fetcher=url_fetcher)


def write_report(
    context: Mapping[str, Any],
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = ("html", "pdf"),
    *,
    paper: str = "a4",
) -> dict[str, Path]:
    """Write ``report.html`` and/or ``report.pdf`` for a report context.

    Parameters
    ----------
    context : mapping
        The report context.
    out_dir : path-like
        Folder to write into; created if missing. Existing reports are replaced.
    formats : sequence of {"html", "pdf"}
        Which files to write.
    paper : {"a4", "letter"}, optional
        Page size of the PDF (and of the HTML when printed).

    Returns
    -------
    dict of str to pathlib.Path
        The path written for each format.

    Raises
    ------
    UsageError
        If a format is unknown.
    """
    check_formats(formats, FORMATS, "report")
    return write_documents(
        render_html(context, paper=paper),
        out_dir,
        FORMATS,
        formats,
        lambda html: render_pdf(html, cutoff=context["cutoff"], title=context["title"]),
    )
