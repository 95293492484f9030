"""What the demo report shows beyond the survival numbers: Table 1, the safety table, the flow
figure, the overall curve, the appendix, and the PDF's print quality."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from toolkit.render import fmt_n_pct, fmt_p, fmt_share


@pytest.fixture(scope="module")
def results(demo_dir: Path) -> dict:
    return json.loads((demo_dir / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pdf_pages(demo_dir: Path) -> list[str]:
    """Text of each PDF page, whitespace collapsed."""
    text = subprocess.run(
        ["pdftotext", str(demo_dir / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [" ".join(page.split()) for page in text.split("\f") if page.strip()]


@pytest.fixture(scope="module")
def pdf_flat(pdf_pages: list[str]) -> str:
    return " ".join(pdf_pages)


def test_table1_has_labels_counts_and_tests(results: dict, pdf_flat: str) -> None:
    table = results["table1"]
    assert [g["key"] for g in table["groups"]][-1] == "overall"
    labels = {c["key"]: c["label"] for c in table["covariates"]}
    assert labels["m_stage"] == "M stage" and labels["ldh_elevated"] == "LDH elevated"
    assert "Baseline characteristics by stratum and overall" in pdf_flat
    for covariate in table["covariates"]:
        assert covariate["label"] in pdf_flat
        assert covariate["test"]["name"] in pdf_flat
        assert fmt_p(covariate["test"]["p_value"]) in pdf_flat
        for level in covariate["levels"]:
            assert level["label"] in pdf_flat
            for cell, group in zip(level["cells"], table["groups"], strict=True):
                assert cell["n"] == 0 or cell["pct"] == round(100 * cell["n"] / group["n"], 1)
                assert fmt_n_pct(cell) in pdf_flat
        assert any(level["key"] == "missing" for level in covariate["levels"])
    assert table["age"]["test"]["name"] == "Kruskal–Wallis"
    assert "Kruskal–Wallis" in pdf_flat


def test_table1_levels_add_up_to_the_column(results: dict) -> None:
    table = results["table1"]
    for covariate in table["covariates"]:
        for i, group in enumerate(table["groups"]):
            assert sum(level["cells"][i]["n"] for level in covariate["levels"]) == group["n"]


def test_kruskal_wallis_matches_scipy(demo_dir: Path, results: dict) -> None:
    from datetime import date

    from scipy import stats

    from toolkit.pipeline import analysis_cohort
    from toolkit.study import builtin_study_path, load_study

    study = load_study(builtin_study_path("proclaim"))
    cohort = analysis_cohort(demo_dir / "registry.duckdb", study, date.fromisoformat("2015-03-16"))
    ages = [
        cohort.adtte.filter(cohort.adtte["stratum_key"] == g["key"])["age_years"].to_numpy()
        for g in results["strata"]
    ]
    assert results["table1"]["age"]["test"]["p_value"] == pytest.approx(stats.kruskal(*ages).pvalue)


def test_safety_table_has_the_poster_counts(results: dict, pdf_flat: str) -> None:
    rows = {row["key"]: row for row in results["safety"]["rows"]}
    autoimmune = rows["related_autoimmune_post_therapy"]
    for cell in autoimmune["cells"]:
        assert fmt_share(cell["n"], cell["N"]) in pdf_flat
    assert "10/78 (13%)" in pdf_flat and "2/35 (5.7%)" in pdf_flat
    assert "22/35" in pdf_flat  # progressed before anti-PD-1
    assert rows["treatment_related_deaths"]["total"]["n"] == 0


def test_flow_figure_is_text_with_every_count(results: dict, pdf_flat: str) -> None:
    flow = results["cohort"]["flow"]

    def shown(n) -> bool:  # pdftotext may drop the spaces around "=" in short lines
        return re.search(rf"n ?= ?{n}\b", pdf_flat) is not None

    for step in flow:
        assert shown(step["n"]), step
        if step["excluded"]:
            assert shown(step["excluded"]), step
            assert step["reason"].split()[0] in pdf_flat
    for group in results["strata"]:
        assert shown(group["n"]), group["label"]


def test_flow_boxes_do_not_overlap() -> None:
    from toolkit.figures import flow_figure_svg

    long = "a very long label that keeps going " * 6
    svg = flow_figure_svg(
        [
            {"label": long, "n": 1000},
            {"label": long, "n": 900, "excluded": 100, "reason": long},
            {"label": "short", "n": 800, "excluded": 100, "reason": "why"},
        ],
        [{"label": long, "n": 400}, {"label": "b", "n": 400}],
    )
    boxes = [
        tuple(float(v) for v in m)
        for m in re.findall(
            r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', svg
        )
    ]
    assert len(boxes) == 7
    for (x1, y1, w1, h1), (x2, y2, w2, h2) in (
        (a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :]
    ):
        assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
    width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
    assert all(x + w <= width for x, _, w, _ in boxes)


def test_overall_and_stratified_figures(demo_dir: Path, results: dict) -> None:
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    for figure in ("figure-flow", "figure-km-overall", "figure-km"):
        assert f'id="{figure}"' in html
    # the study's minimum risk set: no estimate and no curve on fewer at risk
    assert results["min_at_risk_shown"] == 10
    assert "Curves stop where fewer than 10 patients remain at risk." in html


def test_the_overall_caption_names_a_median_line_only_where_one_is_drawn(results: dict) -> None:
    from toolkit.render import render_html

    said = "the dashed line marks the median"
    assert results["overall"]["median"] is not None and said in render_html(results)
    unreached = {**results, "overall": {**results["overall"], "median": None}}
    assert said not in render_html(unreached)


def test_appendix_names_every_submission(results: dict, demo_dir: Path, pdf_flat: str) -> None:
    provenance = results["provenance"]
    assert provenance["n_submissions"] == 6
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    for sub in provenance["submissions"]:
        assert re.fullmatch(r"[0-9a-f]{64}", sub["sha256"])
        assert sub["sha256"] in html
        assert sub["site_id"] in pdf_flat
        assert sub["rows"]["patients"] > 0
    assert "frozen with 6 submissions" in pdf_flat
    assert results["study_sha256"] in html
    assert provenance["set_sha256"] in html


def test_running_header_and_page_numbers(results: dict, pdf_pages: list[str]) -> None:
    total = len(pdf_pages)
    for number, page in enumerate(pdf_pages, start=1):
        assert f"Page {number} of {total}" in page
        if number > 1:
            assert results["short_title"] in page
            assert "Data cutoff 16 March 2015" in page


def test_pdf_metadata(demo_dir: Path, results: dict) -> None:
    meta = PdfReader(demo_dir / "report.pdf").metadata
    assert meta.title == results["title"]
    assert meta.author == results["registry"]
    assert results["registry"] in meta.subject


def test_pdf_fonts_are_embedded(demo_dir: Path) -> None:
    out = subprocess.run(
        ["pdffonts", str(demo_dir / "report.pdf")], capture_output=True, text=True, check=True
    ).stdout
    rows = out.splitlines()[2:]
    assert rows
    for row in rows:
        columns = row.split()
        assert columns[-5] == "yes", row  # emb


def test_pdf_has_no_raster_images(demo_dir: Path) -> None:
    out = subprocess.run(
        ["pdfimages", "-list", str(demo_dir / "report.pdf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert len(out.splitlines()) == 2, out  # the header lines only


def test_tables_and_figures_avoid_page_breaks() -> None:
    from toolkit.resources import asset_dir

    css = (asset_dir("templates") / "report.css").read_text(encoding="utf-8")
    block = re.search(r"\.figure,\s*\.table-block\s*\{([^}]*)\}", css).group(1)
    assert "break-inside: avoid" in block


def test_each_table_sits_on_one_page(pdf_pages: list[str]) -> None:
    """A table's caption and its note (the last thing in the block) are on the same page."""
    ends = {
        "Table 1.": "missing values are not tested",
        "Table 2.": "NE: not estimable",
        "Table 3.": "not applicable",
    }
    for caption, end in ends.items():
        pages = [i for i, page in enumerate(pdf_pages) if caption in page]
        assert pages, caption
        assert end in pdf_pages[pages[0]], caption


def test_page_one_says_what_the_immortal_time_aware_analyses_say(
    results: dict, pdf_pages: list[str]
) -> None:
    page_one = " ".join(pdf_pages[0].split())
    assert "Immortal time removed." in page_one
    evidence = results["comparisons"]["immortal_time"]["evidence"]["overall"]
    assert f"{evidence['immortal_person_months']:,.0f} immortal person-months" in page_one
    assert f"{100 * evidence['share_of_follow_up']:.0f}% of their groups' follow-up" in page_one
    for row in results["comparison_rows"]:
        if not row["later_therapy"]:
            continue
        naive, varying = row["naive"], row["time_varying"]
        landmark = row["landmarks"][0]
        expected = " → ".join(
            f"{c['hr']:.2f} ({c['ci'][0]:.2f}–{c['ci'][1]:.2f})" for c in (naive, varying, landmark)
        )
        assert f"{row['label']} {expected}" in page_one
        # the words follow the intervals: below 1 better, above 1 worse, else no difference
        words = (
            "better survival"
            if varying["ci"][1] < 1
            else ("worse survival" if varying["ci"][0] > 1 else "no clear difference")
        )
        assert f"{words} once immortal time is removed" in page_one


def test_no_text_runs_past_the_right_margin(demo_dir: Path) -> None:
    # every word of the PDF, read back with its box, ends inside the 18-mm right margin
    # (report.css's @page) of the A4 page
    done = subprocess.run(
        ["pdftotext", "-bbox-layout", str(demo_dir / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    right = re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"', done.stdout)
    assert right
    limit = 595.276 - 18 / 25.4 * 72
    assert max(float(x) for x in right) <= limit + 0.5


def test_a_simon_makuch_curve_that_starts_late_says_from_when(results: dict, pdf_flat: str) -> None:
    late = [g for g in results["aware_figures"]["simon_makuch"] if g["starts_at"]]
    assert late, "in the demo, ipilimumab's first deaths fall on a handful of patients"
    for group in late:
        assert f"{group['label']} from month {group['starts_at']:.1f}" in pdf_flat
    assert "survival conditional on reaching it" in pdf_flat
