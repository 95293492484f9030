"""The shared document machinery: Jinja2 environment, inline CSS and fonts, PDF, atomic writes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from pypdf import PdfReader

from toolkit import documents, render
from toolkit.documents import (
    COMMON_FILTERS,
    PREBUILT_GLYPHS,
    AssetFetcher,
    embed_fonts,
    inline_css,
    make_environment,
    render_pdf,
    write_atomic,
)
from toolkit.resources import asset_dir

PAGE = "<html><head><title>t</title><style>{css}</style></head><body><p>{text}</p></body></html>"


def test_environment_escapes_and_refuses_missing_keys() -> None:
    env = make_environment()
    template = env.from_string("<p>{{ value }}</p>")
    assert template.render(value="<b>&") == "<p>&lt;b&gt;&amp;</p>"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    assert set(COMMON_FILTERS) <= set(env.filters)


def test_extra_filters_are_added_per_environment() -> None:
    shout = make_environment(filters={"shout": str.upper})
    assert shout.from_string("{{ 'a' | shout }}").render() == "A"
    assert "shout" not in make_environment().filters
    assert "months" in render.make_environment().filters  # the report's own filters


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("thousands", (12345,), "12,345"),
        ("count_of", (1, "error"), "1 error"),
        ("count_of", (2, "error"), "2 errors"),
        ("count_of", (1200, "query", "queries"), "1,200 queries"),
        ("join_and", (["a", "b", "c"],), "a, b and c"),
        ("long_date", ("2015-03-16",), "16 March 2015"),
        ("paragraphs", ("one\n\n two \n",), ["one", "two"]),
    ],
)
def test_common_filters(name: str, args: tuple, expected: object) -> None:
    assert COMMON_FILTERS[name](*args) == expected


def test_css_is_inlined_and_fonts_embedded() -> None:
    css = inline_css("document.css")
    assert "@page" in css and 'url("fonts/DejaVuSans.ttf")' in css
    html = embed_fonts(PAGE.format(css=css, text="Überprüfung ≥ 5"))
    assert 'url("fonts/' not in html
    assert html.count("data:font/woff;base64,") == 2
    assert embed_fonts(PAGE.format(css=css, text="Überprüfung ≥ 5")) == html  # reproducible


def _embedded_fonts(html: str) -> list[bytes]:
    import base64
    import re

    return [
        base64.b64decode(b) for b in re.findall(r"data:font/woff;base64,([A-Za-z0-9+/=]+)", html)
    ]


def test_a_document_in_the_prebuilt_characters_embeds_the_prebuilt_subsets() -> None:
    from toolkit.documents import PREBUILT_FONTS, font_subset
    from toolkit.resources import asset_dir

    root = asset_dir("templates")
    fonts = sorted((root / "fonts").glob("*.ttf"))
    prebuilt = [root / PREBUILT_FONTS / f"{font.stem}.woff" for font in fonts]
    # checked in as the subsetter makes them now: `make fonts` after a font or the set changes
    assert [p.read_bytes() for p in prebuilt] == [font_subset(f, PREBUILT_GLYPHS) for f in fonts]
    css = inline_css("document.css")
    text = "Überprüfung ≥ 5 → 12 months\n\t(95% CI)"
    html = embed_fonts(PAGE.format(css=css, text=text))
    assert sorted(_embedded_fonts(html)) == sorted(p.read_bytes() for p in prebuilt)


def test_a_character_outside_the_prebuilt_set_gets_a_subset_that_draws_it() -> None:
    from fontTools.ttLib import TTFont

    assert "Ж" not in PREBUILT_GLYPHS
    html = embed_fonts(PAGE.format(css=inline_css("document.css"), text="Site Жуковский"))
    for data in _embedded_fonts(html):
        cmap = TTFont(io.BytesIO(data)).getBestCmap()
        assert ord("Ж") in cmap and ord("≥") in cmap  # its own characters and the set's


def test_render_pdf_is_reproducible_and_dated_only_when_asked() -> None:
    html = embed_fonts(PAGE.format(css=inline_css("document.css"), text="hello"))
    undated = render_pdf(html, title="Plain")
    assert undated == render_pdf(html, title="Plain")
    meta = PdfReader(io.BytesIO(undated)).metadata
    assert meta.title == "Plain"
    assert "/CreationDate" not in meta and "/ModDate" not in meta
    dated = PdfReader(io.BytesIO(render_pdf(html, title="D", stamp="2015-03-16"))).metadata
    assert dated.creation_date.date().isoformat() == "2015-03-16"


def test_render_pdf_leaves_the_environment_alone() -> None:
    before = os.environ.get("SOURCE_DATE_EPOCH")
    render_pdf("<p>x</p>", title="t")
    assert os.environ.get("SOURCE_DATE_EPOCH") == before


def test_fetcher_reads_only_inline_data_and_template_files() -> None:
    assert render.AssetFetcher is AssetFetcher  # one class, re-exported by the report renderer
    html = (
        "<p>x</p><img src='http://example.com/x.png'><img src='file:///etc/passwd'>"
        "<img src='fonts/../../pyproject.toml'>"
    )
    fetcher = AssetFetcher()
    assert render_pdf(html, title="t", url_fetcher=fetcher).startswith(b"%PDF-")
    assert "http://example.com/x.png" in fetcher.refused
    assert "file:///etc/passwd" in fetcher.refused
    assert (asset_dir("templates").parent / "pyproject.toml").as_uri() in fetcher.refused
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"
    with pytest.raises(ValueError):
        fetcher.fetch("https://example.com/")


def test_write_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    with pytest.raises(OSError):
        write_atomic(tmp_path / "missing" / "x.txt", b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_html_documents_do_not_import_weasyprint() -> None:
    code = (
        "import sys, toolkit.documents, toolkit.validation_report;"
        "print('weasyprint' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert documents.__getattr__("AssetFetcher") is AssetFetcher


def test_cli_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from toolkit.cli import main; main(['--help']);"
        "heavy = {'polars', 'pandera', 'jinja2', 'weasyprint', 'fontTools'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "dictionary" in done.stdout and "validate" in done.stdout


# --- one base for every document ----------------------------------------------------------------


def _rules(name: str) -> dict[str, str]:
    """A stylesheet's plain rules (selector → declarations), comments and at-rules aside."""
    import re

    text = re.sub(
        r"/\*.*?\*/", "", (asset_dir("templates") / name).read_text(encoding="utf-8"), flags=re.S
    )
    return {
        " ".join(m.group(1).split()): " ".join(m.group(2).split())
        for m in re.finditer(r"([^{}@]+)\{([^{}]*)\}", text)
    }


def test_every_document_extends_the_base_page_and_stylesheet() -> None:
    from toolkit import dictionary, validation_report

    templates = asset_dir("templates")
    sheets = [render._STYLESHEETS, validation_report._STYLESHEETS, dictionary._STYLESHEETS]
    assert [s[0] for s in sheets] == ["document.css"] * 3
    own = [s[1] for s in sheets]
    assert sorted(own) == sorted(
        p.name for p in templates.glob("*.css") if p.name != "document.css"
    )
    for page in ("report.html.j2", "validation.html.j2", "dictionary.html.j2"):
        text = (templates / page).read_text(encoding="utf-8")
        assert '{% extends "base.html.j2" %}' in text
        assert "{% block main_class %}document " in text


def test_a_document_stylesheet_repeats_no_rule_of_the_base() -> None:
    base = _rules("document.css")
    for name in ("report.css", "validation.css", "dictionary.css"):
        repeated = [s for s, body in _rules(name).items() if base.get(s) == body]
        assert repeated == [], f"{name} repeats document.css: {repeated}"


def test_a_group_size_reads_n_less_than_k_when_suppressed() -> None:
    from toolkit.documents import size_text

    assert size_text("1,236") == "n = 1,236"
    assert size_text("<11") == "n < 11"
    assert size_text("*") == "n = *"
    assert size_text("<11", spaced=False) == "n<11"
