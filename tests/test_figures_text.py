"""Kaplan–Meier figures need no plotting library, are quick at registry scale, and their text
stays text in the PDF: the numbers at risk, axis labels and legend can be searched and copied."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from toolkit.figures import DEFAULT_XLABEL, km_figure_svg
from toolkit.survival.kaplan_meier import kaplan_meier

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
TICKS = [float(t) for t in range(0, 61, 6)]


def registry_groups(patients: int, seed: int = 3) -> list[dict]:
    """Three strata of a synthetic registry of ``patients``, fitted as the report fits them."""
    rng = np.random.default_rng(seed)
    groups = []
    for index, (share, median) in enumerate([(0.5, 13.0), (0.33, 16.0), (0.17, 29.0)]):
        n = int(patients * share)
        death = rng.weibull(1.6, n) * median / np.log(2) ** (1 / 1.6)
        censor = rng.uniform(0, 70, n)
        summary = kaplan_meier(
            np.minimum(death, censor),
            death <= censor,
            key=f"s{index}",
            label=f"Stratum {index + 1}",
            ticks=TICKS,
        )
        groups.append(summary.to_dict())
    return groups


def test_drawing_needs_no_matplotlib() -> None:
    code = (
        "import sys\n"
        "from toolkit.figures import km_figure_svg\n"
        "group = {'label': 'All', 'n': 3, 'median': 2.0, 'at_risk': "
        "[{'time': 0, 'at_risk': 3, 'events': 0, 'censored': 0}], "
        "'curve': {'time': [0, 1, 2], 'survival': [1.0, 0.6, 0.3]}, "
        "'censor_marks': {'time': [1.5], 'survival': [0.6]}}\n"
        "assert km_figure_svg([group], [0, 1, 2]).startswith('<svg')\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_figures_at_ten_thousand_patients_take_well_under_half_a_second() -> None:
    groups = registry_groups(10_000)
    start = time.process_time()
    for prefix in ("strata", "overall", "simon-makuch", "landmark"):  # the report's four
        km_figure_svg(groups, TICKS, id_prefix=prefix)
    assert time.process_time() - start < 0.5


def test_figure_text_can_be_found_in_the_pdf() -> None:
    from pypdf import PdfReader

    from toolkit.documents import import_weasyprint

    weasyprint = import_weasyprint()
    groups = registry_groups(2_000)
    svg = km_figure_svg(groups, TICKS, id_prefix="fig")
    faces = "".join(
        f'@font-face {{ font-family: "Document Sans"; font-weight: {weight}; '
        f'src: url("{(TEMPLATES / "fonts" / name).as_uri()}"); }}'
        for weight, name in ((400, "DejaVuSans.ttf"), (700, "DejaVuSans-Bold.ttf"))
    )
    html = (
        f'<html><head><meta charset="utf-8"><style>{faces} @page {{ size: A4; margin: 15mm }}'
        f"svg {{ width: 100%; height: auto }}</style></head><body>{svg}</body></html>"
    )
    pdf = weasyprint.HTML(string=html).write_pdf()
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    words = page.extract_text().split()
    text = "".join(words)  # pypdf may drop the spaces between words
    for phrase in (DEFAULT_XLABEL, "Survival probability", "Number at risk", "Stratum 3 (n="):
        assert phrase.replace(" ", "") in text, phrase
    for cell in groups[0]["at_risk"][1:4]:
        assert str(cell["at_risk"]) in words
        assert f"{cell['events']}/{cell['censored']}" in words
    fonts = {str(font["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}
    assert fonts and all("Document-Sans" in font for font in fonts), fonts  # the @font-face


@pytest.mark.parametrize("patients", [200, 10_000])
def test_registry_figures_are_small(patients: int) -> None:
    svg = km_figure_svg(registry_groups(patients), TICKS)
    assert len(svg.encode()) < 60_000
