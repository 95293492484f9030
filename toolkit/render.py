"""Render a report context (the pipeline's ``results.json``) to self-contained HTML and to PDF.

The HTML carries everything it needs: the stylesheet in a ``<style>`` tag, the figures as inline
SVG, and the report font (DejaVu Sans, shipped in ``templates/fonts/``) as a data URI holding only
the glyphs the document uses. The PDF is that same HTML laid out by WeasyPrint with a URL fetcher
that reads nothing but inline data and files inside the templates folder.

Both outputs are byte-for-byte reproducible: the figures have fixed ids and no date, the font
subset carries no timestamp, and the PDF's dates are the data cutoff.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import weasyprint
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .errors import UsageError
from .figures import km_figure_svg
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

_TEMPLATE = "report.html.j2"
_STYLESHEET = "report.css"
_FONT_URL = re.compile(r'url\("(fonts/[A-Za-z0-9_.-]+\.ttf)"\)')
_EPOCH_VARIABLE = "SOURCE_DATE_EPOCH"
_NOT_REACHED = "not reached"
_NOT_ESTIMABLE = "not estimable"
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
#: Characters always kept in the embedded font, whatever the text: ASCII and common typography.
_BASE_GLYPHS = "".join(chr(c) for c in range(0x20, 0x7F)) + "–—→←≥≤±×·°µ’‘“”…€£ "


# --- number and text filters ------------------------------------------------------------------


def fmt_number(value: float | int) -> str:
    """A time point such as a landmark: ``12`` → ``"12"``, ``6.5`` → ``"6.5"``."""
    return f"{float(value):g}"


def fmt_months(value: float | None) -> str:
    """Months with one decimal (``18.4``); ``None`` (a median not reached) → ``"not reached"``."""
    return _NOT_REACHED if value is None else f"{float(value):.1f}"


def fmt_months_unit(value: float | None) -> str:
    """Months with their unit (``"18.4 months"``), or ``"not reached"``."""
    return _NOT_REACHED if value is None else f"{fmt_months(value)} months"


def fmt_pct(value: float | None) -> str:
    """A proportion as a whole percentage (``0.57`` → ``"57%"``); ``None`` → ``"not estimable"``."""
    return _NOT_ESTIMABLE if value is None else f"{100 * float(value):.0f}%"


def fmt_share(count: int, total: int) -> str:
    """A count out of a total as ``k/n (p%)``, the percentage to two significant digits.

    ``10, 78`` → ``"10/78 (13%)"``, ``2, 35`` → ``"2/35 (5.7%)"``, as the poster writes them.
    """
    if not total:
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
        low = "NE" if lower is None else f"{100 * float(lower):.0f}"
        high = "NE" if upper is None else f"{100 * float(upper):.0f}"
        return f"({prefix}{low}–{high}%)"
    if unit != "months":
        raise ValueError(f"unknown CI unit {unit!r}; expected 'months' or 'pct'")
    if lower is None and upper is None:
        return f"({prefix}{_NOT_REACHED})"
    return f"({prefix}{fmt_months(lower)}–{fmt_months(upper)})"


def join_and(items: Iterable[Any]) -> str:
    """Join as prose: ``a``, ``a and b``, ``a, b and c``."""
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def months_list(values: Sequence[float | None]) -> str:
    """Several durations in prose: ``"14.0, 15.8 and 28.7 months"``.

    When any of them is ``None`` each item carries its own unit instead
    (``"14.0 months, 15.8 months and not reached"``).
    """
    if all(value is not None for value in values):
        return f"{join_and(fmt_months(v) for v in values)} months"
    return join_and(fmt_months_unit(v) for v in values)


def long_date(iso: str) -> str:
    """``"2015-03-16"`` → ``"16 March 2015"`` (fixed English month names, not the locale's)."""
    day = date.fromisoformat(str(iso))
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def with_n(group: Mapping[str, Any]) -> str:
    """A group's label with its size: ``"HD IL-2 only (n=123)"``."""
    return f"{group['label']} (n={group['n']})"


def paragraphs(text: str) -> list[str]:
    """Split free text into paragraphs at blank lines."""
    return [part.strip() for part in re.split(r"\n\s*\n", str(text)) if part.strip()]


def at_landmark(group: Mapping[str, Any], time: float) -> Mapping[str, Any]:
    """The ``survival_at`` entry of ``group`` at ``time``; an all-``None`` entry if absent."""
    for entry in group["survival_at"]:
        if abs(float(entry["time"]) - float(time)) < 1e-9:
            return entry
    return {"time": time, "estimate": None, "ci": [None, None], "at_risk": None}


_FILTERS = {
    "num": fmt_number,
    "months": fmt_months,
    "months_unit": fmt_months_unit,
    "months_list": months_list,
    "pct": fmt_pct,
    "share": fmt_share,
    "ci": fmt_ci,
    "join_and": join_and,
    "long_date": long_date,
    "paragraphs": paragraphs,
    "with_n": with_n,
    "at_landmark": at_landmark,
}


# --- HTML -------------------------------------------------------------------------------------


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
        With the report filters (``months``, ``pct``, ``ci``, ``join_and`` …) registered.
    """
    env = Environment(
        loader=FileSystemLoader(templates or asset_dir("templates")),
        autoescape=select_autoescape(
            enabled_extensions=("html", "j2"), default=True, default_for_string=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(_FILTERS)
    return env


def _figures(context: Mapping[str, Any]) -> dict[str, Markup]:
    """SVG text of every figure the templates place, by name."""
    groups = context["strata"] or [context["overall"]]
    svg = km_figure_svg(groups, context["at_risk_times"], id_prefix="fig-km")
    return {"km_strata": Markup(svg)}


def _font_data_uri(path: Path, text: str) -> str:
    """A WOFF data URI of the font at ``path`` keeping only the glyphs ``text`` needs."""
    return _font_subset_uri(path, frozenset(text) | frozenset(_BASE_GLYPHS))


@lru_cache(maxsize=16)
def _font_subset_uri(path: Path, characters: frozenset[str]) -> str:
    """Subset, compress as WOFF and base64-encode; deterministic (no timestamp recalculated)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.drop_tables += ["FFTM"]
    font = TTFont(path, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(characters)))
    subsetter.subset(font)
    font.flavor = "woff"
    buffer = io.BytesIO()
    font.save(buffer)
    return "data:font/woff;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _embed_fonts(html: str, templates: Path) -> str:
    """Replace the stylesheet's ``url("fonts/….ttf")`` by data URIs of font subsets."""
    text = html

    def replace(match: re.Match[str]) -> str:
        return f'url("{_font_data_uri(templates / match.group(1), text)}")'

    return _FONT_URL.sub(replace, html)


def render_html(context: Mapping[str, Any], *, embed_fonts: bool = True) -> str:
    """Render the report context to one self-contained HTML document.

    Parameters
    ----------
    context : mapping
        The report context (see the module docs of ``toolkit.report_context``); every key the
        templates use must be present — a missing one raises ``jinja2.UndefinedError``.
    embed_fonts : bool, optional
        Put the report font into the HTML as a data URI (default). ``False`` leaves
        ``url("fonts/….ttf")`` relative to the templates folder, which only WeasyPrint resolves.

    Returns
    -------
    str
        The HTML text.
    """
    templates = asset_dir("templates")
    env = make_environment(templates)
    stylesheet = (templates / _STYLESHEET).read_text(encoding="utf-8")
    html = env.get_template(_TEMPLATE).render(
        report=context, figures=_figures(context), stylesheet=Markup(stylesheet)
    )
    return _embed_fonts(html, templates) if embed_fonts else html


# --- PDF --------------------------------------------------------------------------------------


class AssetFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that reads only inline ``data:`` URLs and template files.

    Anything else — ``http(s)``, ``ftp``, ``file`` outside the templates folder (after
    resolving symlinks and ``..``) — is refused with ``ValueError``; WeasyPrint then logs a
    warning and leaves the resource out. Every URL asked for is recorded in ``requested`` and
    every refusal in ``refused``.

    Parameters
    ----------
    root : pathlib.Path, optional
        The one folder files may come from; defaults to ``asset_dir("templates")``.
    """

    def __init__(self, root: Path | None = None) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self.root = Path(root or asset_dir("templates")).resolve()
        self.requested: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Return the resource at ``url`` or raise ``ValueError`` if it is not allowed."""
        self.requested.append(url)
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = self.asset_path(url)
        if path is None:
            self.refused.append(url)
            raise ValueError(f"refused to fetch {url!r}: only files in {self.root} are allowed")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )

    def asset_path(self, url: str) -> Path | None:
        """The file ``url`` names if it is a ``file:`` URL of a file inside ``root``."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


def _pdf_date(cutoff: str) -> str:
    """The cutoff as a PDF date string at midnight UTC: ``D:20150316000000Z``."""
    return date.fromisoformat(cutoff).strftime("D:%Y%m%d000000Z")


@contextmanager
def _source_date_epoch(cutoff: str) -> Iterator[None]:
    """Set ``SOURCE_DATE_EPOCH`` to the cutoff for the duration of a PDF render.

    WeasyPrint re-saves fonts with fontTools (to decode WOFF, and to subset when the HarfBuzz
    subsetter library is absent); fontTools then stamps the font's ``head.modified`` with the
    current time unless ``SOURCE_DATE_EPOCH`` is set, which would make every PDF differ.
    The previous value (or its absence) is restored afterwards.
    """
    day = date.fromisoformat(cutoff)
    epoch = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    previous = os.environ.get(_EPOCH_VARIABLE)
    os.environ[_EPOCH_VARIABLE] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_EPOCH_VARIABLE, None)
        else:
            os.environ[_EPOCH_VARIABLE] = previous


def render_pdf(
    html: str, *, cutoff: str, title: str, url_fetcher: AssetFetcher | None = None
) -> bytes:
    """Lay out report HTML as an A4 PDF with WeasyPrint.

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
    stamp = _pdf_date(cutoff)

    def finish(_document, pdf) -> None:
        import pydyf

        pdf.info["Title"] = pydyf.String(title)
        pdf.info["CreationDate"] = pydyf.String(stamp)
        pdf.info["ModDate"] = pydyf.String(stamp)

    templates = asset_dir("templates")
    document = weasyprint.HTML(
        string=html,
        base_url=templates.as_uri() + "/",
        url_fetcher=url_fetcher or AssetFetcher(templates),
    )
    with _source_date_epoch(cutoff):
        return document.write_pdf(finisher=finish)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def write_report(
    context: Mapping[str, Any],
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = ("html", "pdf"),
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

    Returns
    -------
    dict of str to pathlib.Path
        The path written for each format.

    Raises
    ------
    UsageError
        If a format is unknown.
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise UsageError(
            f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = render_html(context)
    written: dict[str, Path] = {}
    for name in FORMATS:
        if name not in formats:
            continue
        if name == "html":
            data = html.encode("utf-8")
        else:
            data = render_pdf(html, cutoff=context["cutoff"], title=context["title"])
        written[name] = out / FORMATS[name]
        _write_atomic(written[name], data)
    return written
