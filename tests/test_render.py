"""Report rendering: HTML and PDF from a report context, with real Jinja2 and WeasyPrint."""

from __future__ import annotations

import copy
import html as html_lib
import io
import os
import re
from datetime import date

import jinja2
import numpy as np
import pytest
from pypdf import PdfReader

from toolkit.errors import UsageError
from toolkit.render import (
    AssetFetcher,
    make_environment,
    render_html,
    render_pdf,
    write_report,
)
from toolkit.resources import asset_dir

TICKS = [0, 6, 12, 18, 24, 30, 36]
LANDMARKS = [12]
STRATA = [  # label, n, median, median CI, S(12), CI of S(12)
    ("il2_only", "HD IL-2 only", 123, 14.0, [12.1, 16.0], 0.57, [0.48, 0.65]),
    ("il2_ipi", "IL-2 → ipilimumab", 78, 15.8, [11.9, 20.4], 0.64, [0.52, 0.74]),
    ("il2_pd1", "IL-2 → anti-PD-1", 35, None, [20.3, None], 0.97, [0.81, 0.99]),
]


def make_group(key, label, n, median, median_ci, s12, s12_ci) -> dict:
    """One GROUP of the context: an exponential-looking step curve through the given median."""
    rate = np.log(2) / (median if median is not None else 60.0)
    time = np.round(np.linspace(0.0, 36.0, 73), 4)
    survival = np.round(np.exp(-rate * time), 4)
    at_risk, previous = [], n
    for tick in TICKS:
        remaining = int(round(n * np.exp(-rate * tick) * (1 - tick / 45)))
        lost = previous - remaining
        at_risk.append(
            {"time": tick, "at_risk": remaining, "events": (lost + 1) // 2, "censored": lost // 2}
        )
        previous = remaining
    return {
        "key": key,
        "label": label,
        "n": n,
        "events": n // 2,
        "censored": n - n // 2,
        "median": median,
        "median_ci": median_ci,
        "survival_at": [
            {"time": 12, "estimate": s12, "ci": s12_ci, "at_risk": at_risk[2]["at_risk"]}
        ],
        "at_risk": at_risk,
        "curve": {
            "time": time.tolist(),
            "survival": survival.tolist(),
            "ci_lower": np.round(survival * 0.9, 4).tolist(),
            "ci_upper": np.round(np.minimum(survival * 1.1, 1.0), 4).tolist(),
        },
        "censor_marks": {"time": time[3::9].tolist(), "survival": survival[3::9].tolist()},
        "later_therapy": key != "il2_only",
        "counts": {
            "progressed_before_later_therapy": n // 3,
            "related_autoimmune_post_therapy": n // 8,
            "treatment_related_deaths": 0,
        },
        "events_pct": round(100 * (n // 2) / n, 1),
        "censored_pct": round(100 * (n - n // 2) / n, 1),
        "quantiles": [
            {"p": 0.25, "time": 6.5, "ci": [5.0, 8.25]},
            {"p": 0.5, "time": median, "ci": median_ci},
            {"p": 0.75, "time": None, "ci": [30.0, None]},
        ],
    }


def fake_context() -> dict:
    """A complete report context in the pipeline's shape, from simple generated numbers."""
    followup = {"n": 0, "median": 20.0, "ci": [15.0, 25.0], "potential_median": None,
                "conf_type": "log-log", "conf_level": 0.95, "method": "reverse Kaplan–Meier",
                "potential_method": "median time to the cutoff"}  # fmt: skip
    strata = [make_group(*row) | {"followup": followup | {"n": row[2]}} for row in STRATA]
    overall = make_group("overall", "All patients", 236, 18.4, [16.0, 21.0], 0.66, [0.6, 0.72])
    return {
        "title": "Overall survival after HD IL-2 and checkpoint blockade",
        "short_title": "PROCLAIM: OS after HD IL-2",
        "study_sha256": "12" * 32,
        "registry": "PROCLAIM",
        "cutoff": "2015-03-16",
        "edition": "internal",
        "texts": {
            "background": "HD IL-2 was FDA approved for advanced melanoma.\n\nA second paragraph.",
            "conclusions": "Anti-PD-1 after HD IL-2 appears safe and active.",
            "cautions": ["Groups defined by later therapy carry immortal-time bias."],
        },
        "methods": {
            "eligibility": "At least one dose of HD IL-2.",
            "exclusions": "Checkpoint therapy before HD IL-2.",
            "index_date": "First dose of HD IL-2.",
            "strata": ["HD IL-2 only", "IL-2 then ipilimumab", "IL-2 then anti-PD-1"],
            "endpoint": "Overall survival: death from any cause.",
            "censoring": "Alive patients are censored at last contact or the cutoff.",
            "km_method": "Kaplan–Meier (product-limit)",
            "ci_method": "95% CI, log-log transform (Kalbfleisch–Prentice), Greenwood variance",
            "median_ci_method": "Brookmeyer–Crowley",
            "followup_method": "reverse Kaplan–Meier",
            "time_unit": "months (days / 30.4375)",
        },
        "cohort": {
            "n_analysed": 236,
            "flow": [{"label": "Registered", "n": 250}, {"label": "Analysed", "n": 236}],
            "excluded": [{"reason": "Checkpoint therapy before HD IL-2", "n": 14}],
        },
        "overall": overall,
        "strata": strata,
        "followup": {"median": 21.7, "ci": [19.0, 24.4], "method": "reverse Kaplan–Meier"},
        "landmarks": LANDMARKS,
        "at_risk_times": TICKS,
        "software": {
            "toolkit": "0.1.0",
            "lifelines": "0.30.0",
            "duckdb": "1.1.3",
            "weasyprint": "70.0",
            "python": "3.11.7",
        },
        "comparisons": {"immortal_time": {"depends_on_post_index": True}},
        "comparison_rows": [
            {
                "key": "il2_pd1",
                "label": "IL-2 → anti-PD-1",
                "reference_label": "HD IL-2 only",
                "later_therapy": True,
                "logrank_p_holm": 0.0004,
                "naive": {
                    "hr": 0.30,
                    "ci": [0.18, 0.52],
                    "p": 0.00001,
                    "infinite": False,
                    "aliased": False,
                },
                "adjusted": {
                    "hr": 0.25,
                    "ci": [0.13, 0.46],
                    "p": 0.00002,
                    "infinite": False,
                    "aliased": False,
                },
                "time_varying": {
                    "hr": 0.71,
                    "ci": [0.40, 1.26],
                    "p": 0.241,
                    "infinite": False,
                    "aliased": False,
                },
                "landmarks": [
                    {
                        "landmark": 12.0,
                        "n_at_risk": 111,
                        "hr": 1.14,
                        "ci": [0.6, 2.18],
                        "p": 0.681,
                        "infinite": False,
                        "aliased": False,
                    }
                ],
            }
        ],
        "comparison_notes": [],
        "strata_tests": {
            "logrank": [
                {
                    "label": "All 3 strata",
                    "keys": ["il2_only", "il2_ipi", "il2_pd1"],
                    "statistic": 21.15,
                    "df": 2,
                    "p": 0.00003,
                    "p_holm": None,
                },
                {
                    "label": "IL-2 → ipilimumab vs IL-2 → anti-PD-1",
                    "keys": ["il2_ipi", "il2_pd1"],
                    "statistic": 15.11,
                    "df": 1,
                    "p": 0.0001,
                    "p_holm": 0.0002,
                },
            ],
            "logrank_method": "log-rank test (Mantel–Haenszel)",
            "adjustment": "Holm",
            "ph": [{"model": "naive Cox model", "chisq": 9.62, "df": 2, "p": 0.008, "fails": True}],
            "ph_method": "cox.zph score test",
            "ph_alpha": 0.05,
        },
        "adjusted_model": None,
        "aware_figures": {"simon_makuch": [], "landmark": None},
        "rmst": {
            "tau": None,
            "overall": None,
            "strata": {},
            "reference": None,
            "differences": {},
        },
    } | report_tables(strata, overall)


def report_tables(strata: list[dict], overall: dict) -> dict:
    """The context keys of Table 1, the safety table and the appendix, from simple numbers."""
    groups = [{"key": g["key"], "label": g["label"], "n": g["n"]} for g in strata]
    groups.append({"key": "overall", "label": "All patients", "n": overall["n"]})

    def level(key, label, shares):
        pairs = zip(groups, shares, strict=True)
        cells = [{"n": round(g["n"] * s), "pct": round(100 * s, 1)} for g, s in pairs]
        return {"key": key, "label": label, "cells": cells}

    chi2 = {"name": "chi-square", "statistic": 1.2, "df": 2, "p_value": 0.55}
    age = [{"median": 52.0, "q1": 45.0, "q3": 58.0, "minimum": 25.0, "maximum": 84.0,
            "n_missing": 0} for _ in groups]  # fmt: skip
    safety_rows = []
    for key, label in (
        ("related_autoimmune_post_therapy", "Treatment-related autoimmune events"),
        ("treatment_related_deaths", "Treatment-related deaths"),
    ):
        cells = [{"n": g["counts"][key], "N": g["n"], "pct": None} for g in strata]
        total = {"n": sum(c["n"] for c in cells), "N": overall["n"], "pct": None}
        safety_rows.append(
            {
                "key": key,
                "label": label,
                "later_only": False,
                "cells": cells,
                "total_over": [g["key"] for g in strata],
                "total": total,
            }
        )
    return {
        "table1": {
            "groups": groups,
            "age": {"key": "age", "label": "Age at index, years", "cells": age, "test": None},
            "covariates": [
                {
                    "key": "sex",
                    "label": "Sex",
                    "levels": [
                        level("F", "Female", [0.4] * 4),
                        level("M", "Male", [0.6] * 4),
                    ],
                    "test": chi2,
                }
            ],
        },
        "safety": {
            "columns": [{"key": g["key"], "label": g["label"], "n": g["n"]} for g in strata],
            "rows": safety_rows,
            "description": "related autoimmune events after the later therapy",
            "total_note": "Each total adds the strata its row applies to.",
            "incidence": {
                "times": [6.0, 12.0],
                "groups": [
                    {
                        "key": g["key"],
                        "label": g["label"],
                        "window": "later-therapy start",
                        "n": g["n"],
                        "events": 4,
                        "deaths_before": 9,
                        "person_years": 40.0,
                        "rate": 10.0,
                        "rate_ci": [2.72, 25.6],
                        "at": [
                            {
                                "time": 6.0,
                                "estimate": 0.05,
                                "ci": [0.01, 0.15],
                                "at_risk": 30,
                                "events": 2,
                            },
                            {
                                "time": 12.0,
                                "estimate": 0.1,
                                "ci": [0.03, 0.22],
                                "at_risk": 20,
                                "events": 4,
                            },
                        ],
                    }
                    for g in strata
                ],
                "gray": {
                    "groups": ["IL-2 → ipilimumab", "IL-2 → anti-PD-1"],
                    "keys": ["il2_ipi", "il2_pd1"],
                    "window": "later-therapy start",
                    "statistic": 1.4651,
                    "df": 1,
                    "p": 0.2261,
                },
                "methods": {
                    "estimator": "Aalen–Johansen",
                    "variance": "infinitesimal jackknife",
                    "ci": "log-log",
                    "rate": "exact Poisson",
                    "test": "Gray",
                },
            },  # fmt: skip
        },
        "provenance": {
            "n_submissions": 2,
            "n_sites": 2,
            "set_sha256": "ab" * 32,
            "set_sha256_method": "SHA-256 of the sorted submission SHA-256s",
            "extracted_from": "2015-03-16",
            "extracted_to": "2015-03-20",
            "rows_total": {"patients": 250},
            "n_warnings_total": 1,
            "submissions": [
                {
                    "site_id": "S01",
                    "extracted_on": "2015-03-16",
                    "sha256": "cd" * 32,
                    "rows": {"patients": 120},
                    "n_warnings": 1,
                },
                {
                    "site_id": "S02",
                    "extracted_on": "2015-03-20",
                    "sha256": "ef" * 32,
                    "rows": {"patients": 130},
                    "n_warnings": 0,
                },
            ],  # fmt: skip
        },
        "min_at_risk_shown": 0,
        "disclosure": {"suppressed": False, "threshold": None, "rules": []},
    }


def visible_text(html: str) -> str:
    """The text a reader sees (no style, no SVG, tags dropped, whitespace collapsed)."""
    body = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def context() -> dict:
    return fake_context()


@pytest.fixture(scope="module")
def report(context, tmp_path_factory) -> dict:
    """report.html and report.pdf written once for the module."""
    out = tmp_path_factory.mktemp("report")
    return write_report(context, out)


def test_writes_html_and_pdf(report):
    assert set(report) == {"html", "pdf"}
    assert report["html"].name == "report.html" and report["pdf"].name == "report.pdf"
    assert report["pdf"].read_bytes().startswith(b"%PDF-")


def test_pdf_text_has_labels_and_medians(report):
    text = pdf_text(report["pdf"].read_bytes())
    for _, label, *_ in STRATA:
        assert label in text
    for median in ("14.0", "15.8", "18.4", "not reached"):
        assert median in text
    assert "Page 1 of" in text


def test_pdf_metadata_comes_from_the_context(report, context):
    meta = PdfReader(report["pdf"]).metadata
    assert meta.title == context["title"]
    assert meta.author == context["registry"]
    assert context["registry"] in meta.subject
    assert meta.creation_date.date() == date(2015, 3, 16)
    assert meta.modification_date.date() == date(2015, 3, 16)
    assert "Kaplan–Meier" in meta["/Keywords"]


def test_the_pdf_is_tagged_for_assistive_technology(report):
    import subprocess

    info = subprocess.run(
        ["pdfinfo", str(report["pdf"])], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE), info
    reader = PdfReader(report["pdf"])
    assert bool(reader.trailer["/Root"]["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in reader.trailer["/Root"]


def test_two_renders_are_byte_identical(context, report, tmp_path):
    again = write_report(context, tmp_path)
    assert again["html"].read_bytes() == report["html"].read_bytes()
    assert again["pdf"].read_bytes() == report["pdf"].read_bytes()


def test_html_is_self_contained(report):
    html = report["html"].read_text(encoding="utf-8")
    assert re.search(r"<svg\b", html)
    assert "<style>" in html and "@page" in html
    assert "data:font/woff;base64," in html
    assert 'url("fonts/' not in html  # the font travels inside the file
    assert not re.search(r'(src|href)="(https?:|file:|/)', html)


def test_results_sentences_are_built_from_the_numbers(report):
    text = visible_text(report["html"].read_text(encoding="utf-8"))
    assert (
        "The median overall survival for the 236 patients was 18.4 months (95% CI 16.0–21.0) "
        "with a median follow-up of 21.7 months (95% CI 19.0–24.4)."
    ) in text
    assert (
        "Patients in the HD IL-2 only, IL-2 → ipilimumab and IL-2 → anti-PD-1 groups had a "
        "median OS of 14.0 months, 15.8 months and not reached; estimated 12-month survival "
        "57%, 64% and 97.0%, respectively."
    ) in text


def test_results_with_every_median_reached(context):
    ctx = copy.deepcopy(context)
    ctx["strata"][2]["median"] = 28.7
    text = visible_text(render_html(ctx))
    assert "median OS of 14.0, 15.8 and 28.7 months;" in text


def test_one_stratum_reads_in_the_singular(context):
    ctx = copy.deepcopy(context)
    ctx["strata"] = ctx["strata"][:1]
    text = visible_text(render_html(ctx))
    assert "Patients in the HD IL-2 only group had a median OS of 14.0 months;" in text
    assert "respectively" not in text


def test_survival_table_rows(report):
    text = visible_text(report["html"].read_text(encoding="utf-8"))
    table = text[text.index("Table 2.") : text.index("Table 3.")]
    # statistics by row, the strata and all patients by column, as a CSR table shell
    assert (
        "Table 2. Overall survival by stratum. Analysis set: the 236 patients analysed "
        "(Figure 1); time from the index date, in months."
    ) in table
    assert "HD IL-2 only n = 123 IL-2 → ipilimumab n = 78 IL-2 → anti-PD-1 n = 35" in table
    assert "Deaths, n (%) 61 (49.6%) 39 (50.0%) 17 (48.6%) 118 (50.0%)" in table
    assert "Censored, n (%) 62 (50.4%) 39 (50.0%) 18 (51.4%) 118 (50.0%)" in table
    assert "25th percentile 6.5 (5.0–8.2) 6.5 (5.0–8.2)" in table
    assert "Median 14.0 (12.1–16.0) 15.8 (11.9–20.4) not reached (20.3–not reached)" in table
    # 97% of 35 and its CI near 100% are written with one decimal
    assert "At 12 months 57% (48–65%) 64% (52–74%) 97.0% (81–99.0%) 66% (60–72%)" in table
    assert "Median follow-up (95% CI) 20.0 (15.0–25.0) 20.0 (15.0–25.0)" in table


def test_missing_key_raises(context):
    ctx = copy.deepcopy(context)
    del ctx["texts"]["conclusions"]
    with pytest.raises(jinja2.UndefinedError):
        render_html(ctx)


def test_markup_in_a_label_is_escaped(context):
    ctx = copy.deepcopy(context)
    ctx["strata"][0]["label"] = "<script>alert(1)</script>"
    html = render_html(ctx)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markup_in_texts_fetches_nothing(context):
    ctx = copy.deepcopy(context)
    ctx["texts"]["background"] = (
        'See <img src="http://example.com/x.png"> and <img src="file:///etc/passwd">.'
    )
    html = render_html(ctx)
    assert "<img" not in html and "&lt;img src=" in html
    fetcher = AssetFetcher()
    render_pdf(html, cutoff=ctx["cutoff"], title=ctx["title"], url_fetcher=fetcher)
    assert not [url for url in fetcher.requested if "example.com" in url or "passwd" in url]
    assert not fetcher.refused


def test_fetcher_refuses_anything_outside_the_templates(context):
    html = render_html(context, embed_fonts=False).replace(
        "</main>",
        '<img src="http://example.com/x.png"><img src="file:///etc/passwd">'
        '<img src="fonts/../../pyproject.toml"></main>',
    )
    fetcher = AssetFetcher()
    pdf = render_pdf(html, cutoff=context["cutoff"], title=context["title"], url_fetcher=fetcher)
    assert pdf.startswith(b"%PDF-")
    assert "http://example.com/x.png" in fetcher.refused
    assert "file:///etc/passwd" in fetcher.refused
    assert (asset_dir("templates").parent / "pyproject.toml").as_uri() in fetcher.refused
    assert len(fetcher.refused) == 3
    served = set(fetcher.requested) - set(fetcher.refused)
    fonts = asset_dir("templates") / "fonts"
    assert served == {(fonts / "DejaVuSans.ttf").as_uri(), (fonts / "DejaVuSans-Bold.ttf").as_uri()}
    with pytest.raises(ValueError):
        fetcher.fetch("https://example.com/")


def test_fetcher_does_not_follow_symlinks_out(tmp_path):
    root = tmp_path / "templates"
    root.mkdir()
    (root / "inside.css").write_text("p {}")
    (root / "escape.css").symlink_to("/etc/passwd")
    fetcher = AssetFetcher(root)
    assert fetcher.fetch((root / "inside.css").as_uri()).read() == b"p {}"
    for name in ("escape.css", "missing.css"):
        with pytest.raises(ValueError):
            fetcher.fetch((root / name).as_uri())
    assert fetcher.fetch("data:text/css,p%7B%7D").read() == b"p{}"


def test_pdf_render_leaves_the_environment_alone(context):
    before = os.environ.get("SOURCE_DATE_EPOCH")
    render_pdf("<p>x</p>", cutoff=context["cutoff"], title="t")
    assert os.environ.get("SOURCE_DATE_EPOCH") == before


def test_only_requested_formats_are_written(context, tmp_path):
    written = write_report(context, tmp_path / "only-html", formats=("html",))
    assert set(written) == {"html"}
    assert sorted(p.name for p in (tmp_path / "only-html").iterdir()) == ["report.html"]
    with pytest.raises(UsageError):
        write_report(context, tmp_path, formats=("docx",))


@pytest.mark.parametrize(
    ("name", "value", "args", "expected"),
    [
        ("months", 18.44, (), "18.4"),
        ("months_list", [14.3, 15.25], (), "14.3 and 15.2 months"),
        (
            "months_list",
            [14.3, "NE (<10 at risk)"],
            (),
            "14.3 months and NE (<10 at risk)",
        ),
        ("statistic", 21.147, (), "21.15"),
        ("statistic", None, (), "–"),
        ("ratio", 0.7965, (), "0.80"),
        ("pvalue", "NE (<10 at risk)", (), "NE (<10 at risk)"),
        ("months", None, (), "not reached"),
        ("months_unit", 14, (), "14.0 months"),
        ("pct", 0.57, (), "57%"),
        ("pct", None, (), "not estimable"),
        ("ci", [12.1, 16.0], (), "(95% CI 12.1–16.0)"),
        ("ci", [20.3, None], (), "(95% CI 20.3–not reached)"),
        ("ci", [None, None], (), "(95% CI not reached)"),
        ("ci", [0.48, 0.652], ("pct",), "(95% CI 48–65%)"),
        ("join_and", ["a"], (), "a"),
        ("join_and", ["a", "b"], (), "a and b"),
        ("join_and", ["a", "b", "c"], (), "a, b and c"),
        ("long_date", "2015-03-16", (), "16 March 2015"),
        ("num", 12.0, (), "12"),
    ],
)
def test_filters(name, value, args, expected):
    assert make_environment().filters[name](value, *args) == expected


def test_results_count_progression_and_safety_per_later_therapy_group() -> None:
    ctx = fake_context()
    text = " ".join(re.sub(r"<[^>]+>", " ", render_html(ctx, embed_fonts=False)).split())
    ipi = ctx["strata"][1]
    assert f"{ipi['counts']['progressed_before_later_therapy']} of {ipi['n']} patients" in text
    assert "9/78 (12%) patients of the IL-2 → ipilimumab group" in text
    assert "4/35 (11%) patients of the IL-2 → anti-PD-1 group" in text
    assert "No treatment-related deaths were reported." in text
    assert "immortal-time bias" in text
    ctx["strata"][2]["counts"]["treatment_related_deaths"] = 1
    assert "1 treatment-related death was reported." in " ".join(render_html(ctx).split())


def test_comparisons_table_shows_naive_and_aware_estimates_side_by_side() -> None:
    text = " ".join(re.sub(r"<[^>]+>", " ", render_html(fake_context(), embed_fonts=False)).split())
    assert "Table 5. Comparisons between strata" in text
    assert "0.30 (0.18–0.52)" in text and "0.71 (0.40–1.26)" in text
    assert "1.14 (0.60–2.18)" in text and "Landmark 12 months" in text


def test_analyses_not_estimable_are_listed_under_the_comparisons() -> None:
    context = fake_context()
    context["comparison_notes"] = [
        "Landmark 24 months, Cox model: not estimable (fewer than two groups at the landmark).",
        "Adjusted Cox model: LDH <elevated> left out (one value among the patients used).",
    ]
    html = render_html(context, embed_fonts=False)
    notes = html[html.index('id="comparison-notes"') :]
    notes = notes[: notes.index("</ul>")]
    assert notes.count("<li>") == 2
    assert "Landmark 24 months, Cox model: not estimable (fewer than two groups" in notes
    assert "LDH &lt;elevated&gt; left out" in notes
    assert 'id="comparison-notes"' not in render_html(fake_context(), embed_fonts=False)


def test_hr_without_a_finite_estimate_and_interval_reads_not_estimable() -> None:
    context = fake_context()
    row = context["comparison_rows"][0]
    row["naive"] = {"hr": None, "ci": [None, None], "p": None, "infinite": False, "aliased": True}
    row["adjusted"] = {
        "hr": 1e-262,
        "ci": [0.0, None],
        "p": 0.6,
        "infinite": False,
        "aliased": False,
    }
    text = " ".join(re.sub(r"<[^>]+>", " ", render_html(context, embed_fonts=False)).split())
    table = text[text.index("Table 5. Comparisons") : text.index("Table 6. Tests")]
    assert table.count("not estimable") == 2
    assert "0.71 (0.40–1.26)" in table


def test_every_document_extends_the_one_base_template() -> None:
    from toolkit.resources import asset_dir

    templates = asset_dir("templates")
    documents = sorted(p.name for p in templates.glob("*.html.j2") if not p.name.startswith("_"))
    assert documents == [
        "base.html.j2",
        "compare.html.j2",
        "dictionary.html.j2",
        "queries.html.j2",
        "report.html.j2",
        "validation.html.j2",
    ]
    for name in documents:
        text = (templates / name).read_text(encoding="utf-8")
        assert ("<!DOCTYPE html>" in text) == (name == "base.html.j2"), name
        if name != "base.html.j2":
            assert '{% extends "base.html.j2" %}' in text, name


def _plain(html: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_every_test_of_the_strata_is_shown_with_its_method() -> None:
    context = fake_context()
    text = _plain(render_html(context, embed_fonts=False))
    assert "Table 6. Tests between strata" in text
    assert "Log-rank: All 3 strata 21.15 2 <0.001 –" in text
    assert "Log-rank: IL-2 → ipilimumab vs IL-2 → anti-PD-1 15.11 1 <0.001 <0.001" in text
    assert "Proportional hazards: naive Cox model (a) 9.62 2 0.008 –" in text
    assert "adjusted by Holm's method over all pairs" in text
    assert "Proportional hazards: cox.zph score test." in text
    assert "a: p below 0.05: the hazards are not proportional" in text
    context["strata_tests"]["ph"][0] |= {"p": 0.2, "fails": False}
    text = _plain(render_html(context, embed_fonts=False))
    assert "(a)" not in text and "a: p below" not in text


def test_the_adjusted_model_has_its_own_table_and_tables_number_in_order() -> None:
    context = fake_context()
    ne = {"hr": 1e-11, "ci": [None, None], "p": 0.99, "infinite": True, "aliased": False}
    context["adjusted_model"] = {
        "n": 213,
        "n_input": 236,
        "n_dropped_missing": 23,
        "events": 118,
        "terms": [
            {"covariate": "Stratum", "level": "IL-2 → anti-PD-1", "reference": "HD IL-2 only",
             "hr": 0.25, "ci": [0.13, 0.46], "p": 0.00002, "infinite": False, "aliased": False},
            {"covariate": "ECOG performance status", "level": "1", "reference": "0", "hr": 1.16,
             "ci": [0.76, 1.78], "p": 0.496, "infinite": False, "aliased": False},
            {"covariate": "ECOG performance status", "level": "2", "reference": "0", **ne},
        ],
        "ph_p": 0.013,
        "method": "complete cases",
    }  # fmt: skip
    text = _plain(render_html(context, embed_fonts=False))
    assert "Table 7. Adjusted Cox model: 213 of 236 patients, 118 deaths." in text
    assert "Stratum IL-2 → anti-PD-1 vs HD IL-2 only 0.25 (0.13–0.46) p <0.001" in text
    # the covariate is named once for its levels
    assert "ECOG performance status 1 vs 0 1.16 (0.76–1.78) p 0.496 2 vs 0 not estimable" in text
    assert "23 patients with a missing value of a covariate are left out" in text
    assert "(Grambsch–Therneau, global): p 0.013" in text
    numbers = [int(n) for n in re.findall(r"Table (\d+)\. ", text)]
    assert numbers == list(range(1, 9))
    # without it (the sponsor edition) the appendix's table takes the next number
    context["adjusted_model"] = None
    text = _plain(render_html(context, embed_fonts=False))
    assert [int(n) for n in re.findall(r"Table (\d+)\. ", text)] == list(range(1, 8))
    assert "Table 7. Submissions used" in text


def test_the_monte_carlo_test_states_its_resamples_and_seed() -> None:
    context = fake_context()
    context["table1"]["covariates"][0]["test"] = {
        "name": "Fisher's exact (Monte Carlo)",
        "statistic": None,
        "df": None,
        "resamples": 10_000,
        "seed": 20150316,
        "p_value": 0.27,
    }
    text = _plain(render_html(context, embed_fonts=False))
    assert (
        "larger than 2 × 2, from 10,000 random tables with the table's margins, seed 20150316)"
        in text
    )
    assert "seed" not in _plain(render_html(fake_context(), embed_fonts=False))


def test_table1_marks_each_test_by_a_letter_its_note_names() -> None:
    context = fake_context()
    first, *_ = context["table1"]["covariates"]
    first["test"] = {
        "name": "Fisher's exact (Monte Carlo)",
        "statistic": None,
        "df": None,
        "resamples": 10_000,
        "seed": 1,
        "p_value": 0.27,
    }
    context["table1"]["age"]["test"] = {
        "name": "Kruskal–Wallis",
        "statistic": 0.64,
        "df": 2,
        "p_value": 0.725,
    }
    page = render_html(context, embed_fonts=False)
    text = _plain(page)
    assert "p: a Kruskal–Wallis; b Fisher's exact (Monte Carlo)." in text
    assert '0.725</span><sup class="test-mark">a</sup>' in page
    assert '0.270</span><sup class="test-mark">b</sup>' in page
    assert 'class="test-name"' not in page  # the names no longer crowd the column


def test_safety_shows_the_cumulative_incidence_and_rates_with_their_windows() -> None:
    text = _plain(render_html(fake_context(), embed_fonts=False))
    assert (
        "Table 4. Cumulative incidence of treatment-related autoimmune events, death competing"
        in text
    )
    # near 0% a percentage has one decimal
    assert (
        "HD IL-2 only later-therapy start 123 4 9 5.0% (1.0–15%) 10% (3.0–22%) 10.0 (2.7–25.6)"
        in text
    )
    assert "Gray among IL-2 → ipilimumab and IL-2 → anti-PD-1, whose windows start" in text
    assert "chi-square 1.47, 1 df, p 0.226." in text


def test_the_appendix_and_colophon_name_things_once_and_in_plain_words() -> None:
    context = fake_context()
    context["provenance"]["rows_total"] = {"patients": 250, "treatments": 486}
    text = _plain(render_html(context, embed_fonts=False))
    assert (
        "these rows were accepted: 250 patients and 486 treatments, with 1 validation warning."
        in text
    )
    # the versions once, in the appendix; the colophon points to them
    assert text.count("duckdb 1.1.3") == 1
    assert "the software versions are in the appendix." in text


def test_age_median_and_quartiles_read_alike() -> None:
    context = fake_context()
    context["table1"]["age"]["cells"][0] |= {"median": 53.0, "q1": 49.0, "q3": 59.5}
    text = _plain(render_html(context, embed_fonts=False))
    assert "53.0 (49.0–59.5)" in text
    assert "25–84" in text  # the range in whole years


def test_an_interval_with_a_negative_limit_reads_with_to() -> None:
    ci = make_environment().filters["ci"]
    assert ci([-0.34, 1.6], label=False) == "(−0.3 to 1.6)"
    assert ci([0.3, 1.6], label=False) == "(0.3–1.6)"


def test_the_conclusions_follow_from_the_immortal_time_aware_analysis() -> None:
    text = _plain(render_html(fake_context(), embed_fonts=False))
    conclusions = text[text.index("Conclusions") :]
    assert (
        "Once immortal time is removed (Cox model with later therapy as a time-varying "
        "covariate, against follow-up before any later therapy): IL-2 → anti-PD-1, no clear "
        "difference, HR 0.71 (0.40–1.26)."
    ) in conclusions
    # the fake counts: n // 3 progressed, 11 of 35
    assert "11/35 (31%) of the IL-2 → anti-PD-1 group had progressed before it" in conclusions
    assert "so these are associations in a registry, not effects of the therapies" in conclusions


def test_a_curve_stopped_at_its_start_is_named_as_not_drawn() -> None:
    context = fake_context()
    context["strata"][2]["shown_until"] = 0.0
    context["strata"][0]["shown_until"] = 6.0
    text = _plain(render_html(context, embed_fonts=False))
    assert "Not drawn: IL-2 → anti-PD-1, whose first interval already has fewer than" in text
    assert "Not drawn: HD IL-2 only" not in text
    assert "Not drawn" not in _plain(render_html(fake_context(), embed_fonts=False))
