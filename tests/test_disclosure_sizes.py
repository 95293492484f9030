"""The sponsor edition over registries of 30 to 1,000 patients (several seeds): it renders,
every count it shows is zero or at least K, nothing hidden can be recovered by subtraction, and
no estimate rests on fewer than K at risk."""

from __future__ import annotations

import copy

import pytest
from test_disclosure import K, recovered_by_subtraction
from test_results import _count_paths, _shown, _values

from toolkit.disclosure import _collect, sponsor_edition
from toolkit.pipeline import analysis_cohort, ingest_submission
from toolkit.render import render_html, render_pdf
from toolkit.report_context import build_context
from toolkit.results import declared
from toolkit.study import builtin_study_path, load_study
from toolkit.synth import synthesise

REGISTRIES = [(30, 1), (30, 2), (60, 1), (60, 2), (120, 1), (120, 2), (300, 1), (1000, 1)]


@pytest.fixture(scope="module", params=REGISTRIES, ids=[f"{n}-seed{s}" for n, s in REGISTRIES])
def editions(request, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """The internal context of a synthetic registry and its sponsor edition."""
    patients, seed = request.param
    root = tmp_path_factory.mktemp(f"registry-{patients}-{seed}")
    synthesise(root / "submissions", patients=patients, seed=seed)
    db = root / "registry.duckdb"
    for folder in sorted(p for p in (root / "submissions").iterdir() if p.is_dir()):
        ingest_submission(folder, db)
    study = load_study(builtin_study_path())
    internal = declared(build_context(analysis_cohort(db, study, None), study))
    return internal, declared(sponsor_edition(internal, K))


def test_no_count_below_k_is_shown(editions: tuple[dict, dict]) -> None:
    _, sponsor = editions
    shown = {p for p in _count_paths() if any(_shown(v, K) for v in _values(sponsor, p))}
    assert shown == set()


def test_no_hidden_count_is_recoverable(editions: tuple[dict, dict]) -> None:
    internal, sponsor = editions
    cells = _collect(copy.deepcopy(internal))
    still_shown = _collect(copy.deepcopy(sponsor)).values  # hidden cells hold strings
    hidden = {key for key in cells.values if key not in still_shown}
    assert {key for key, value in cells.values.items() if 1 <= value < K} <= hidden
    assert recovered_by_subtraction(cells.values, cells.sets, hidden) == set()


def test_no_estimate_rests_on_fewer_than_k_at_risk(editions: tuple[dict, dict]) -> None:
    _, sponsor = editions
    for group in [sponsor["overall"], *sponsor["strata"]]:
        stop = group["shown_until"]
        assert "at_risk" not in group["curve"] and group["censor_marks"]["time"] == []
        if stop is None or group["n"] == 0:
            continue
        assert all(t <= stop for t in group["curve"]["time"])
        for entry in group["survival_at"]:
            assert entry["time"] <= stop or entry["estimate"] == f"NE (<{K} at risk)"
        for q in group["quantiles"]:
            assert isinstance(q["time"], str) or q["time"] <= stop


def test_no_rate_gives_back_a_small_number_of_events(editions: tuple[dict, dict]) -> None:
    internal, sponsor = editions
    for truth, shown in zip(
        [internal["overall"], *internal["strata"]],
        [sponsor["overall"], *sponsor["strata"]],
        strict=True,
    ):
        curve = truth["curve"]
        for entry in shown["survival_at"]:
            died = sum(
                e for t, e in zip(curve["time"], curve["events"], strict=True) if t <= entry["time"]
            )
            assert (
                not (1 <= died < K)
                or isinstance(entry["estimate"], str)
                or entry["estimate"] is None
            )


def test_no_percentage_gives_back_a_hidden_total(editions: tuple[dict, dict]) -> None:
    _, sponsor = editions
    table = sponsor["table1"]
    for covariate in table["covariates"]:
        for level in covariate["levels"]:
            for cell, column in zip(level["cells"], table["groups"], strict=True):
                assert cell["pct"] is None or not isinstance(column["n"], str)
    for row in sponsor["safety"]["rows"]:
        for cell in [*row["cells"], row["total"]]:
            assert cell["pct"] is None or not isinstance(cell["N"], str)


def test_the_sponsor_report_renders(editions: tuple[dict, dict]) -> None:
    _, sponsor = editions
    html = render_html(sponsor)
    assert "Sponsor edition: counts below 11 suppressed." in html
    assert "@bottom-left" in html  # the edition and threshold on every printed page
    pdf = render_pdf(html, cutoff=sponsor["cutoff"], title=sponsor["title"])
    assert pdf.startswith(b"%PDF")
