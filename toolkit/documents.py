"""Shared machinery of the toolkit's documents: Jinja2 HTML, inline CSS and fonts, PDF.

The survival report (:mod:`toolkit.render`), the steward's validation report
(:mod:`toolkit.validation_report`) and the data dictionary (:mod:`toolkit.dictionary`) are all
built the same way, with the pieces here:

* :func:`make_environment`: a Jinja2 environment over the templates folder with autoescaping
  (every value is text until a template says otherwise), ``StrictUndefined`` (a missing key is
  an error, not an empty cell) and the common filters (:data:`COMMON_FILTERS`).
* :func:`inline_css` and :func:`embed_fonts`: the stylesheets go into a ``<style>`` tag and the
  document font (DejaVu Sans, ``templates/fonts/``) into data URIs holding only the glyphs the
  document uses, so an HTML file needs nothing beside itself.
* :func:`render_pdf`: WeasyPrint with :class:`AssetFetcher`, a URL fetcher that reads nothing
  but inline data and files inside the templates folder, and fixed PDF dates and font
  timestamps, so the same HTML always gives the same bytes; the PDF is tagged (PDF/UA-1).
* :func:`write_documents`: the files of a document appear together, each whole, or not at all
  (:mod:`toolkit.atomic`; :func:`write_atomic` is the one-file case).

WeasyPrint is imported only when a PDF is made (or :class:`AssetFetcher` is first used), so a
module that only writes HTML does not pay for it; when its system libraries (Pango) are missing,
making a PDF is a :class:`~toolkit.errors.MissingSystemLibrary` error that says what to install,
and HTML still works.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .atomic import write_atomic, write_files
from .errors import MissingSystemLibrary, UsageError
from .resources import asset_dir

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

__all__ = [
    "COMMON_FILTERS",
    "MONTH_NAMES",
    "MONTHS_DECIMALS",
    "PERCENT_DECIMALS",
    "percent_text",
    "RATIO_DECIMALS",
    "RATE_DECIMALS",
    "AssetFetcher",
    "make_environment",
    "inline_css",
    "embed_fonts",
    "render_page",
    "render_pdf",
    "pdf_date",
    "source_date_epoch",
    "write_atomic",
    "check_formats",
    "document_contents",
    "write_documents",
    "import_weasyprint",
    "PDF_SYSTEM_PACKAGES",
    "join_and",
    "long_date",
    "size_text",
    "paragraphs",
    "thousands",
    "count_of",
]

_FONT_URL = re.compile(r'url\("(fonts/[A-Za-z0-9_.-]+\.ttf)"\)')
_EPOCH_VARIABLE = "SOURCE_DATE_EPOCH"
MONTH_NAMES = (
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
#: The PDF variant of every document: tagged, for assistive technology (WeasyPrint's PDF/UA-1).
PDF_VARIANT = "pdf/ua-1"
#: Decimals of the published numbers: durations in months, percentages, ratios (hazard ratios),
#: incidence rates.
#: The report prints them so, and a suppressed edition's results.json holds them so.
MONTHS_DECIMALS = 1
PERCENT_DECIMALS = 0
#: … and within this distance of 0% or 100%, one decimal more (97% (81–99.6%), not (81–100%)).
PERCENT_NEAR_BOUND = 0.1
RATIO_DECIMALS = 2
RATE_DECIMALS = 1
#: The characters of the pre-built font subsets (``templates/fonts/prebuilt/``): Latin-1 and the
#: typography, arrows, Greek letters and mathematics the documents print. A document whose text
#: keeps to them embeds the pre-built subsets as they are; one with any other character gets a
#: subset made for it, of these characters and its own.
PREBUILT_GLYPHS = frozenset(
    [chr(c) for c in (*range(0x20, 0x7F), *range(0xA0, 0x100))]
    + list("–—‐‑‘’‚“”„†‡•…‰′″‹›€→←↑↓↔≤≥±×÷−≈≠∞√∑∏∈∝ΣΠαβγελμστχκ²³¹⁶⁻ᵀᵢ₀₁½¼¾")
)
#: Where the pre-built subset of each font of ``templates/fonts`` is, relative to the folder.
PREBUILT_FONTS = "fonts/prebuilt"


# --- filters every document may use ------------------------------------------------------------


def percent_text(proportion: float) -> str:
    """A proportion as a percentage without its sign, with :data:`PERCENT_DECIMALS` decimals,
    one more within :data:`PERCENT_NEAR_BOUND` of 0 or 1 (not at them): ``0.5612`` → ``"56"``,
    ``0.996`` → ``"99.6"``, ``0.057`` → ``"5.7"``, ``1.0`` → ``"100"``."""
    near = 0 < proportion < PERCENT_NEAR_BOUND or 1 - PERCENT_NEAR_BOUND < proportion < 1
    return f"{100 * proportion:.{PERCENT_DECIMALS + near}f}"


def size_text(count: str, *, spaced: bool = True) -> str:
    """A group's size from its printed count: ``"n = 236"``; a suppressed count reads
    ``"n < 11"``, not ``"n = <11"``; ``spaced=False`` gives the legends' ``"n=236"``."""
    sign, value = ("<", count[1:]) if count.startswith("<") else ("=", count)
    return f"n {sign} {value}" if spaced else f"n{sign}{value}"


def join_and(items: Iterable[Any]) -> str:
    """Join as prose: ``a``, ``a and b``, ``a, b and c``."""
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def long_date(iso: str) -> str:
    """``"2015-03-16"`` → ``"16 March 2015"`` (fixed English month names, not the locale's)."""
    day = date.fromisoformat(str(iso))
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def paragraphs(text: str) -> list[str]:
    """Split free text into paragraphs at blank lines."""
    return [part.strip() for part in re.split(r"\n\s*\n", str(text)) if part.strip()]


def thousands(value: int) -> str:
    """A count with thousands separators: ``12345`` → ``"12,345"``."""
    return f"{int(value):,}"


def count_of(value: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun: ``1, "error"`` → ``"1 error"``, ``2, "error"`` → ``"2 errors"``."""
    noun = singular if int(value) == 1 else (plural or f"{singular}s")
    return f"{thousands(value)} {noun}"


COMMON_FILTERS: dict[str, Callable[..., Any]] = {
    "join_and": join_and,
    "long_date": long_date,
    "paragraphs": paragraphs,
    "thousands": thousands,
    "count_of": count_of,
}
"""Filters registered in every environment :func:`make_environment` builds."""


# --- HTML --------------------------------------------------------------------------------------


def make_environment(
    templates: Path | None = None, filters: Mapping[str, Callable[..., Any]] | None = None
) -> Environment:
    """A Jinja2 environment over a templates folder: autoescaping and strict undefined.

    Parameters
    ----------
    templates : pathlib.Path, optional
        Template folder; defaults to ``asset_dir("templates")``.
    filters : mapping, optional
        Filters to register besides :data:`COMMON_FILTERS` (a name given here wins).

    Returns
    -------
    jinja2.Environment
        A new environment; callers cache it if they render often.
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
    env.filters.update(COMMON_FILTERS)
    env.filters.update(filters or {})
    return env


def inline_css(*names: str, templates: Path | None = None) -> Markup:
    """The stylesheets ``names`` (files in the templates folder), joined for a ``<style>`` tag.

    Their ``url("fonts/….ttf")`` stay relative to the templates folder: :func:`embed_fonts`
    replaces them once the document's text is known.
    """
    root = templates or asset_dir("templates")
    return Markup("\n".join((root / name).read_text(encoding="utf-8") for name in names))


def render_page(
    template: str,
    stylesheets: tuple[str, ...],
    *,
    filters: Mapping[str, Callable[..., Any]] | None = None,
    **variables: Any,
) -> str:
    """A self-contained page: ``template`` rendered with ``variables`` (and ``filters`` besides
    the common ones) and the base stylesheet plus ``stylesheets`` inline, the fonts it uses
    embedded as a subset."""
    html = (
        make_environment(filters=filters)
        .get_template(template)
        .render(stylesheet=inline_css("document.css", *stylesheets), **variables)
    )
    return embed_fonts(html)


def embed_fonts(html: str, templates: Path | None = None) -> str:
    """Replace every ``url("fonts/….ttf")`` of ``html`` by a data URI of a font subset.

    A document whose characters are all :data:`PREBUILT_GLYPHS` embeds the pre-built subset
    (:func:`prebuild_fonts`); any other gets a subset of those characters and its own. Each is
    compressed as WOFF and carries no timestamp, so the result is reproducible.
    """
    root = templates or asset_dir("templates")
    characters = frozenset(html) - frozenset("\t\n\r")  # line breaks draw no glyph

    def replace(match: re.Match[str]) -> str:
        font = root / match.group(1)
        if characters <= PREBUILT_GLYPHS:
            return f'url("{_prebuilt_uri(root / PREBUILT_FONTS / f"{font.stem}.woff")}")'
        return f'url("{_font_subset_uri(font, characters | PREBUILT_GLYPHS)}")'

    return _FONT_URL.sub(replace, html)


@lru_cache(maxsize=16)
def _prebuilt_uri(path: Path) -> str:
    return "data:font/woff;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@lru_cache(maxsize=16)
def _font_subset_uri(path: Path, characters: frozenset[str]) -> str:
    """Subset, compress as WOFF and base64-encode (:func:`font_subset`)."""
    return "data:font/woff;base64," + base64.b64encode(font_subset(path, characters)).decode(
        "ascii"
    )


def font_subset(path: Path, characters: frozenset[str]) -> bytes:
    """The font at ``path`` cut to ``characters``, as WOFF bytes; deterministic (no timestamp
    recalculated)."""
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
    return buffer.getvalue()


def prebuild_fonts(templates: Path | None = None) -> list[Path]:
    """Write the pre-built subset (:data:`PREBUILT_GLYPHS`) of every font of
    ``templates/fonts`` into ``templates/fonts/prebuilt`` (``make fonts``); the files written."""
    root = templates or asset_dir("templates")
    written = []
    for font in sorted((root / "fonts").glob("*.ttf")):
        target = root / PREBUILT_FONTS / f"{font.stem}.woff"
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, font_subset(font, PREBUILT_GLYPHS))
        written.append(target)
    return written


# --- PDF ---------------------------------------------------------------------------------------

PDF_SYSTEM_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0")
"""The Debian packages WeasyPrint needs beside pip's (their dependencies come with them)."""

_LIBRARY = re.compile(r"cannot load library '([^']+)'")


def import_weasyprint() -> Any:
    """Import WeasyPrint; missing system libraries are a one-line error naming the install.

    WeasyPrint prints a banner on stdout when a library fails to load; it is swallowed here,
    the error says the same in one line.

    Raises
    ------
    MissingSystemLibrary
        When WeasyPrint cannot load Pango (or another library it needs).
    """
    try:
        with redirect_stdout(io.StringIO()):
            import weasyprint
    except OSError as error:
        raise MissingSystemLibrary(_missing_library_message(error)) from None
    return weasyprint


def _missing_library_message(error: OSError) -> str:
    found = _LIBRARY.search(str(error))
    library = found.group(1) if found else "Pango"
    return (
        f"PDF output needs the system library {library}, which is not installed; "
        f"install it as root with: apt-get install -y {' '.join(PDF_SYSTEM_PACKAGES)} "
        "(or write HTML only: --format html)"
    )


def _unavailable_fetcher(message: str) -> type:
    """A stand-in :class:`AssetFetcher` when WeasyPrint cannot load: making one is the error.

    It lets modules that name the class import (and write HTML) without Pango.
    """

    class AssetFetcher:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise MissingSystemLibrary(message)

    AssetFetcher.__module__ = __name__
    return AssetFetcher


@lru_cache(maxsize=1)
def _asset_fetcher_class() -> type[URLFetcher]:
    """Define :class:`AssetFetcher` on first use, when WeasyPrint is imported."""
    import_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AssetFetcher(URLFetcher):
        """A WeasyPrint URL fetcher that reads only inline ``data:`` URLs and template files.

        Anything else — ``http(s)``, ``ftp``, ``file`` outside the templates folder (after
        resolving symlinks and ``..``) — is refused with ``ValueError``; WeasyPrint then logs a
        warning and leaves the resource out. Every URL asked for is recorded in ``requested``
        and every refusal in ``refused``.

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

    AssetFetcher.__module__ = __name__
    return AssetFetcher


if TYPE_CHECKING:
    AssetFetcher = URLFetcher  # the class :func:`_asset_fetcher_class` defines
else:

    def __getattr__(name: str) -> Any:
        """``AssetFetcher`` is made on first access (PEP 562), importing WeasyPrint then."""
        if name == "AssetFetcher":
            try:
                return _asset_fetcher_class()
            except MissingSystemLibrary as error:
                return _unavailable_fetcher(str(error))
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pdf_date(day: str | date) -> str:
    """A day as a PDF date string at midnight UTC: ``"2015-03-16"`` → ``D:20150316000000Z``."""
    return date.fromisoformat(str(day)).strftime("D:%Y%m%d000000Z")


@contextmanager
def source_date_epoch(day: str | date | None) -> Iterator[None]:
    """Set ``SOURCE_DATE_EPOCH`` to ``day`` (midnight UTC; the epoch when ``None``) meanwhile.

    WeasyPrint re-saves fonts with fontTools (to decode WOFF, and to subset when the HarfBuzz
    subsetter library is absent); fontTools then stamps the font's ``head.modified`` with the
    current time unless ``SOURCE_DATE_EPOCH`` is set, which would make every PDF differ.
    The previous value (or its absence) is restored afterwards.
    """
    epoch = 0
    if day is not None:
        when = date.fromisoformat(str(day))
        epoch = int(datetime(when.year, when.month, when.day, tzinfo=UTC).timestamp())
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
    html: str,
    *,
    title: str,
    stamp: str | date | None = None,
    url_fetcher: URLFetcher | None = None,
    templates: Path | None = None,
) -> bytes:
    """Lay out an HTML document as a PDF with WeasyPrint, reproducibly.

    Parameters
    ----------
    html : str
        The document; relative URLs resolve inside the templates folder.
    title : str
        Document title in the PDF metadata.
    stamp : str or date, optional
        The day written as the PDF's creation and modification date (e.g. a data cutoff).
        ``None`` writes no date at all. Either way the same input gives the same bytes.
    url_fetcher : AssetFetcher, optional
        Fetcher to use (a fresh :class:`AssetFetcher` over ``templates`` by default); pass one
        to inspect what the document asked for.
    templates : pathlib.Path, optional
        The templates folder (base URL and fetcher root); defaults to ``asset_dir("templates")``.

    Returns
    -------
    bytes
        The PDF.
    """
    weasyprint = import_weasyprint()
    import pydyf

    stamp_text = pdf_date(stamp) if stamp is not None else None

    def finish(_document: Any, pdf: Any) -> None:
        pdf.info["Title"] = pydyf.String(title)
        for key in ("CreationDate", "ModDate"):
            if stamp_text is None:
                pdf.info.pop(key, None)
            else:
                pdf.info[key] = pydyf.String(stamp_text)

    root = templates or asset_dir("templates")
    document = weasyprint.HTML(
        string=html,
        base_url=root.as_uri() + "/",
        url_fetcher=url_fetcher or _asset_fetcher_class()(root),
    )
    with source_date_epoch(stamp):
        # PDF/UA-1: a tagged PDF (structure, reading order, alternative text) for screen readers
        return document.write_pdf(finisher=finish, pdf_variant=PDF_VARIANT)


# --- files -------------------------------------------------------------------------------------


def check_formats(formats: Iterable[str], files: Mapping[str, str], what: str) -> None:
    """Refuse a format that ``files`` (format → file name) does not know, naming the choices."""
    unknown = sorted(set(formats) - set(files))
    if unknown:
        raise UsageError(
            f"unknown {what} format(s) {', '.join(unknown)}; choose from {', '.join(files)}"
        )


def document_contents(
    html: str,
    files: Mapping[str, str],
    formats: Iterable[str],
    pdf: Callable[[str], bytes],
) -> dict[str, bytes]:
    """The bytes of each wanted kind of ``files`` (``html`` as UTF-8, ``pdf`` as ``pdf(html)``)."""
    wanted = set(formats)
    return {
        kind: html.encode("utf-8") if kind == "html" else pdf(html)
        for kind in files
        if kind in wanted
    }


def write_documents(
    html: str,
    out_dir: str | os.PathLike[str],
    files: Mapping[str, str],
    formats: Iterable[str],
    pdf: Callable[[str], bytes],
) -> dict[str, Path]:
    """Write the HTML and/or its PDF (``pdf(html)``) under their names in ``files``.

    Everything is rendered before anything is written, and the files are replaced together
    (:func:`toolkit.atomic.write_files`): a failure leaves the earlier files as they were.
    """
    out = Path(out_dir)
    contents = document_contents(html, files, formats, pdf)
    out.mkdir(parents=True, exist_ok=True)
    written = {kind: out / files[kind] for kind in contents}
    write_files({written[kind]: data for kind, data in contents.items()})
    return written
