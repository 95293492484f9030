"""The report context: the hand-written registry's context worked out by hand, and Table 1,
the safety counts and the provenance on frames made up here."""

from __future__ import annotations

import pytest
from exact_fisher import exact_fisher

from toolkit.report_context import _ticks

# --- the context of the hand-written registry (tests/hand_registry.py), worked out by hand ------

MONTH = 30.4375


def _study(**endpoint):
    """The built-in study with other endpoint settings."""
    from toolkit.study import builtin_study_path, load_study

    study = load_study(builtin_study_path())
    return study.model_copy(update={"endpoint": study.endpoint.model_copy(update=endpoint)})


@pytest.fixture
def hand_context() -> dict:
    """Built afresh for each test (not once per module), so that mutation testing, which runs
    only the tests that call a function, finds every test that reads what it builds.

    The study sets no minimum risk set here: the hand registry's strata have 1 to 7 patients,
    and the hand-worked estimates (RMST to 12 months …) are what these tests check."""
    from hand_registry import CUTOFF, hand_registry

    from toolkit.cohort import build_cohort
    from toolkit.report_context import build_context

    con = hand_registry()
    try:
        study = _study(min_at_risk_shown=0)
        return build_context(build_cohort(con, study, CUTOFF), study)  # the default edition
    finally:
        con.close()


def test_the_flow_counts_each_exclusion_once(hand_context: dict) -> None:
    # 13 patients: P09 has no IL-2, P07 only a 0-dose course, P06 ipilimumab before IL-2.
    cohort = hand_context["cohort"]
    assert cohort["n_analysed"] == 10
    # in plain words, the prior therapy's exclusion as the study describes it; the last step
    # is the analysed box
    assert [(s["label"], s["n"], s["excluded"], s["reason"]) for s in cohort["flow"]] == [
        ("patients in the registry (submissions in force)", 13, 0, None),
        (
            "with the index therapy started by the cutoff",
            12,
            1,
            "no index therapy started by the cutoff",
        ),
        (
            "with at least one dose of the index therapy",
            11,
            1,
            "index therapy course without a dose",
        ),
        (
            "analysed",
            10,
            1,
            "any CTLA-4, PD-1 or PD-L1 checkpoint inhibitor course starting before the index date",
        ),
    ]
    assert cohort["excluded"] == [{"reason": s["reason"], "n": 1} for s in cohort["flow"][1:]]


def test_groups_count_patients_events_and_medians_by_hand(hand_context: dict) -> None:
    # Deaths by the cutoff: P01 on day 0 and P14 on day 439 (IL-2 only), P05 on day 457
    # (anti-PD-1). Day 0: 10 at risk, 1 death, S = 9/10; day 439: P02, P03, P14, P05, P12 at
    # risk, 1 death, S = 0.72; day 457: P05 and P12, 1 death, S = 0.36: the median is day 457.
    # IL-2 only: 6/7, then 3 at risk at day 439 and 1 death: S = 4/7, no median. Anti-PD-1:
    # P02 censored at 439, P05 dies at 457: S falls to 0.
    groups = [hand_context["overall"], *hand_context["strata"]]
    assert [(g["key"], g["n"], g["events"], g["censored"]) for g in groups] == [
        ("overall", 10, 3, 7),
        ("il2_only", 7, 2, 5),
        ("il2_ipi", 1, 0, 1),
        ("il2_pd1", 2, 1, 1),
    ]
    medians = [g["median"] for g in groups]
    assert medians[0] == pytest.approx(457 / MONTH) and medians[3] == pytest.approx(457 / MONTH)
    assert medians[1:3] == [None, None]
    assert [g["later_therapy"] for g in groups[1:]] == [False, True, True]
    # the longest follow-up is P12's 739 days = 24.3 months: ticks every 6 months to 24
    assert hand_context["at_risk_times"] == [0.0, 6.0, 12.0, 18.0, 24.0]
    assert hand_context["landmarks"] == [12.0, 24.0]
    for table in (
        hand_context["overall"]["at_risk"],
        *hand_context["aware_figures"]["simon_makuch"],
    ):
        times = [row["time"] for row in (table if isinstance(table, list) else table["at_risk"])]
        assert times == [0.0, 6.0, 12.0, 18.0, 24.0]
    at_12 = hand_context["overall"]["survival_at"][0]
    # at 12 months (365.25 days) P01 has died and P11 was censored at day 365: 8 at risk,
    # S still 9/10
    assert (at_12["time"], at_12["at_risk"]) == (12.0, 8)
    assert at_12["estimate"] == pytest.approx(9 / 10)


def test_table1_ages_by_hand(hand_context: dict) -> None:
    from scipy import stats

    # born 1960: index in 2014 → 54 (P01 P02 P03 P04 P08 P11 P14), 2013 → 53 (P05 P10 P12)
    ages = {"il2_only": [54, 54, 54, 53, 54, 53, 54], "il2_ipi": [54], "il2_pd1": [53, 54]}
    age = hand_context["table1"]["age"]
    # quartiles by linear interpolation (R's type 7): [53 53 54 54 54 54 54] → q1 at 1.5 =
    # 53.5; all ten: three 53s, q1 at 2.25 → 53.25
    assert [(c["median"], c["q1"], c["q3"], c["minimum"], c["maximum"]) for c in age["cells"]] == [
        (54.0, 53.5, 54.0, 53.0, 54.0),
        (54.0, 54.0, 54.0, 54.0, 54.0),
        (53.5, 53.25, 53.75, 53.0, 54.0),
        (54.0, 53.25, 54.0, 53.0, 54.0),
    ]
    assert [c["n_missing"] for c in age["cells"]] == [0, 0, 0, 0]
    h, p = stats.kruskal(*ages.values())
    assert (age["test"]["name"], age["test"]["df"]) == ("Kruskal–Wallis", 2)
    assert age["test"]["statistic"] == pytest.approx(h, rel=1e-12)
    assert age["test"]["p_value"] == pytest.approx(p, rel=1e-12)
    assert age["label"] == "Age at index, years"


def test_table1_levels_by_hand(hand_context: dict) -> None:
    table1 = hand_context["table1"]
    assert [(g["key"], g["label"], g["n"]) for g in table1["groups"]] == [
        ("il2_only", "HD IL-2 only", 7),
        ("il2_ipi", "IL-2 → ipilimumab", 1),
        ("il2_pd1", "IL-2 → anti-PD-1", 2),
        ("overall", "All patients", 10),
    ]
    by_key = {c["key"]: c for c in table1["covariates"]}
    assert list(by_key) == [
        "sex",
        "m_stage",
        "ecog",
        "ldh_elevated",
        "brain_metastases",
        "braf_status",
    ]
    assert [c["label"] for c in by_key.values()] == [
        "Sex",
        "M stage",
        "ECOG performance status",
        "LDH elevated",
        "Brain metastases",
        "BRAF status",
    ]
    sex = by_key["sex"]
    assert [(lv["key"], lv["label"], [c["n"] for c in lv["cells"]]) for lv in sex["levels"]] == [
        ("F", "Female", [7, 1, 2, 10]),
        ("missing", "Missing", [0, 0, 0, 0]),
    ]
    assert [c["pct"] for c in sex["levels"][0]["cells"]] == [100.0] * 4
    assert sex["test"] is None  # one level: nothing to test
    braf = by_key["braf_status"]
    # BRAF: P01 P05 P12 mutant; P02 P03 P08 P11 P14 wild type; P10 unknown; P04 not given
    assert [(lv["key"], lv["label"], [c["n"] for c in lv["cells"]]) for lv in braf["levels"]] == [
        ("mutant", "Mutant", [2, 0, 1, 3]),
        ("wildtype", "Wild type", [4, 0, 1, 5]),
        ("unknown", "Unknown", [1, 0, 0, 1]),
        ("missing", "Missing", [0, 1, 0, 1]),
    ]
    assert [c["pct"] for c in braf["levels"][0]["cells"]] == [28.6, 0.0, 50.0, 30.0]
    # tested without the missing level and the empty ipilimumab row: [[2, 4, 1], [1, 1, 0]]
    assert braf["test"]["name"] == "Fisher's exact (Monte Carlo)"
    assert braf["test"]["p_value"] == pytest.approx(exact_fisher([[2, 4, 1], [1, 1, 0]]), abs=0.02)
    assert table1["missing_excluded_from_tests"] is True


def test_safety_counts_by_hand(hand_context: dict) -> None:
    safety = hand_context["safety"]
    assert [(c["key"], c["n"]) for c in safety["columns"]] == [
        ("il2_only", 7),
        ("il2_ipi", 1),
        ("il2_pd1", 2),
    ]
    rows = {r["key"]: r for r in safety["rows"]}
    assert list(rows) == [
        "related_autoimmune_post_therapy",
        "progressed_before_later_therapy",
        "treatment_related_deaths",
    ]
    # P02 (PD on IL-2) and P05 (PD on ipilimumab) progressed before anti-PD-1; the row applies
    # to the later-therapy groups only, so its total is 2 of 1 + 2 patients
    progressed = rows["progressed_before_later_therapy"]
    assert progressed["later_only"] is True
    assert progressed["cells"] == [
        {"n": None, "N": 7, "pct": None},
        {"n": 0, "N": 1, "pct": 0.0},
        {"n": 2, "N": 2, "pct": 100.0},
    ]
    assert progressed["total"] == {"n": 2, "N": 3, "pct": 66.7}
    # treatment-related deaths: P01 and P14 (IL-2 only), P05 (anti-PD-1); autoimmune related
    # events on or after the start: P01 (IL-2 only, from the index date), P05 (anti-PD-1)
    deaths = rows["treatment_related_deaths"]
    assert deaths["later_only"] is False
    assert [c["n"] for c in deaths["cells"]] == [2, 0, 1]
    assert deaths["total"] == {"n": 3, "N": 10, "pct": 30.0}
    autoimmune = rows["related_autoimmune_post_therapy"]
    assert [(c["n"], c["pct"]) for c in autoimmune["cells"]] == [(1, 14.3), (0, 0.0), (1, 50.0)]
    # P01's event counts from the index date, the others' from the later therapy: the total
    # adds the later-therapy strata only, 0 of 1 and 1 of 2
    assert autoimmune["total_over"] == ["il2_ipi", "il2_pd1"]
    assert autoimmune["total"] == {"n": 1, "N": 3, "pct": 33.3}
    assert deaths["total_over"] == ["il2_only", "il2_ipi", "il2_pd1"]
    assert progressed["total_over"] == ["il2_ipi", "il2_pd1"]
    assert safety["total_note"] == (
        "Each total adds the strata its row applies to. Where the window differs between strata "
        "(it starts at the later therapy in IL-2 → ipilimumab and IL-2 → anti-PD-1, at the "
        "index date elsewhere), the total adds IL-2 → ipilimumab and IL-2 → anti-PD-1 only."
    )
    assert [g["counts"] for g in hand_context["strata"]][2] == {
        "progressed_before_later_therapy": 2,
        "related_autoimmune_post_therapy": 1,
        "treatment_related_deaths": 1,
    }


def test_provenance_of_the_one_submission(hand_context: dict) -> None:
    import hashlib

    from hand_registry import PATIENTS

    provenance = hand_context["provenance"]
    assert provenance == {
        "n_submissions": 1,
        "n_sites": 1,
        "set_sha256": hashlib.sha256(b"sub1").hexdigest(),
        "set_sha256_method": "SHA-256 of the sorted submission SHA-256s, one per line",
        "extracted_from": "2015-05-15",
        "extracted_to": "2015-05-15",
        "rows_total": {},
        "n_warnings_total": 0,
        "submissions": [
            {
                "site_id": "S01",
                "extracted_on": "2015-05-15",
                "sha256": "sub1",
                "rows": {},
                "n_warnings": 0,
            }
        ],
        # the hand registry froze 2014-12-31 with sub_old, whose one patient (P98) is not in
        # sub1; sub1's patients are all new to the extract, none of them a death added
        "since_previous": {
            "previous_cutoff": "2014-12-31",
            "new_patients": len(PATIENTS),
            "patients_dropped": 1,
            "deaths_added": 0,
            "dates_changed": 0,
            "treatment_dates_changed": 0,
        },
    }


def test_methods_and_cautions_say_the_study_in_words(hand_context: dict) -> None:
    methods = hand_context["methods"]
    index = "first course of high-dose interleukin-2 (aldesleukin) with at least one dose"
    assert methods["eligibility"] == f"Patients whose {index} started on or before the cutoff."
    assert methods["index_date"] == f"Time zero is the start of the {index}."
    assert methods["strata"] == [
        "IL-2 → anti-PD-1: anti-PD-1 or anti-PD-L1 course started on or after the index date",
        "IL-2 → ipilimumab: otherwise, anti-CTLA-4 course started on or after the index date",
        "HD IL-2 only: all other patients",
    ]
    assert methods["endpoint"] == "Overall survival: death from any cause."
    assert methods["time_unit"] == "months (days / 30.4375)"
    assert methods["exclusions"].startswith("Excluded: any CTLA-4, PD-1 or PD-L1")
    (caution,) = hand_context["texts"]["cautions"]
    assert caution.startswith("The groups are defined by therapy received after the index date")
    assert hand_context["edition"] == "internal" and hand_context["cutoff"] == "2015-03-16"
    assert hand_context["min_at_risk_shown"] == 0  # as the fixture's study sets it
    assert hand_context["disclosure"] == {"suppressed": False, "threshold": None, "rules": []}
    assert set(hand_context["software"]) == {
        "toolkit",
        "python",
        "duckdb",
        "lifelines",
        "numpy",
        "pandera",
        "polars",
        "scipy",
        "weasyprint",
    }


def test_context_keys_are_the_ones_the_templates_read(hand_context: dict) -> None:
    assert list(hand_context) == [
        "title",
        "short_title",
        "registry",
        "cutoff",
        "edition",
        "study_sha256",
        "texts",
        "methods",
        "cohort",
        "overall",
        "strata",
        "followup",
        "landmarks",
        "at_risk_times",
        "software",
        "table1",
        "safety",
        "provenance",
        "min_at_risk_shown",
        "disclosure",
        "rmst",
        "comparisons",
        "comparison_rows",
        "comparison_notes",
        "strata_tests",
        "adjusted_model",
        "aware_figures",
    ]
    assert list(hand_context["texts"]) == ["background", "conclusions", "cautions"]
    assert list(hand_context["cohort"]) == ["n_analysed", "flow", "excluded"]
    assert [list(step) for step in hand_context["cohort"]["flow"]] == [
        ["label", "n", "excluded", "reason"]
    ] * 4
    assert list(hand_context["table1"]["age"]) == ["key", "label", "cells", "test"]
    assert hand_context["table1"]["age"]["key"] == "age"
    safety = hand_context["safety"]
    assert list(safety) == ["columns", "rows", "description", "total_note", "incidence"]
    assert [list(c) for c in safety["columns"]] == [["key", "label", "n"]] * 3
    assert [list(r) for r in safety["rows"]] == [
        ["key", "label", "later_only", "cells", "total_over", "total"]
    ] * 3
    assert hand_context["comparisons"]["rmst_tau"] == hand_context["rmst"]["tau"]
    assert hand_context["aware_figures"]["landmark"]["landmark"] == 12.0
    assert [row["label"] for row in hand_context["comparison_rows"]] == [
        "IL-2 → ipilimumab",
        "IL-2 → anti-PD-1",
    ]
    # every patient is female: the adjusted model leaves sex out, named by its Table 1 label
    notes = hand_context["comparison_notes"]
    assert "Adjusted Cox model: Sex left out (one value among the patients used)." in notes


def test_the_study_and_its_texts_are_carried_over(hand_context: dict) -> None:
    import tomllib

    from toolkit.study import builtin_study_path

    path = builtin_study_path()
    declared = tomllib.loads(path.read_text(encoding="utf-8"))
    assert hand_context["title"] == declared["study"]["title"]
    assert hand_context["short_title"] == declared["study"]["short_title"]
    assert hand_context["registry"] == declared["study"]["registry"]
    assert hand_context["texts"]["background"] == declared["texts"]["background"]
    assert hand_context["texts"]["conclusions"] == declared["texts"]["conclusions"]
    assert len(hand_context["study_sha256"]) == 64
    assert hand_context["overall"]["label"] == "All patients"
    assert [s["label"] for s in hand_context["cohort"]["flow"]][0]


def test_rmst_at_twelve_months_by_hand(hand_context: dict) -> None:
    # tau 12 months; the only death before it is P01's on day 0: S = 9/10 (overall) and 6/7
    # (IL-2 only) on (0, 12], so RMST = 12 S; Greenwood's variance A² d / (n (n - d)) at day 0
    # with A = the area to tau. Nobody in the later-therapy groups dies before 12 months.
    rmst = hand_context["rmst"]
    z = 1.959963984540054
    assert rmst["tau"] == 12.0

    def cell(area: float, n: int) -> dict:
        se = (area**2 / (n * (n - 1))) ** 0.5
        return {"estimate": area, "ci": [area - z * se, area + z * se], "se": se}

    for got, want in [
        (rmst["overall"], cell(10.8, 10)),
        (rmst["strata"]["il2_only"], cell(72 / 7, 7)),
    ]:
        assert list(got) == ["estimate", "ci", "se"]
        assert got["estimate"] == pytest.approx(want["estimate"], rel=1e-12)
        assert got["se"] == pytest.approx(want["se"], rel=1e-12)
        assert got["ci"] == pytest.approx(want["ci"], rel=1e-9)
    for key in ("il2_ipi", "il2_pd1"):
        assert rmst["strata"][key] == {"estimate": 12.0, "ci": [12.0, 12.0], "se": 0.0}


def test_software_versions_are_the_installed_ones(hand_context: dict) -> None:
    import platform

    import duckdb
    import polars

    software = hand_context["software"]
    assert software["duckdb"] == duckdb.__version__
    assert software["polars"] == polars.__version__
    assert software["python"] == platform.python_version()
    assert all(isinstance(v, str) and v[0].isdigit() for v in software.values())


def test_methods_and_cautions_in_full(hand_context: dict) -> None:
    methods = hand_context["methods"]
    assert methods["censoring"] == (
        "Patients alive are censored at the earlier of their last contact and the data cutoff; "
        "deaths after the cutoff are censored at the cutoff."
    )
    assert methods["km_method"] == "Kaplan–Meier (product-limit)"
    assert methods["ci_method"].startswith("95% pointwise CI, Greenwood variance, log(-log)")
    assert methods["median_ci_method"] == "times at which the 95% CI bounds of S(t) cross 0.5"
    assert methods["followup_method"].startswith("reverse Kaplan–Meier")
    assert list(methods) == [
        "eligibility",
        "exclusions",
        "index_date",
        "strata",
        "endpoint",
        "censoring",
        "km_method",
        "ci_method",
        "median_ci_method",
        "followup_method",
        "time_unit",
    ]
    assert hand_context["texts"]["cautions"] == [
        "The groups are defined by therapy received after the index date, which a patient had "
        "to live long enough to receive. This immortal time favours the later-therapy groups in "
        "the naive comparisons (curves by stratum, log-rank tests, naive and adjusted Cox); the "
        "landmark, time-varying Cox and Simon–Makuch analyses remove it."
    ]


def test_strata_rules_in_words() -> None:
    from toolkit.report_context import _cautions, _stratum_rule
    from toolkit.study import builtin_study_path, load_study

    braf = load_study(builtin_study_path("braf"))
    rules = [_stratum_rule(s, i == 0) for i, s in enumerate(braf.strata)]
    assert rules == [
        "BRAF status at baseline: Mutant",
        "otherwise, BRAF status at baseline: Wild type",
        "all other patients",
    ]
    assert _cautions(braf) == []
    two = braf.strata[0].model_copy(
        update={"baseline": braf.strata[0].baseline.model_copy(update={"values": ("a", "b")})}
    )
    assert _stratum_rule(two, True) == "BRAF status at baseline: a or b"
    alone = braf.strata[-1]
    assert _stratum_rule(alone, True) == "all patients"
    classes = braf.strata[-1].model_copy(update={"later_agent_classes": ("braf_mek", "chemo")})
    assert _stratum_rule(classes, False) == (
        "otherwise, BRAF/MEK inhibitor or chemotherapy course started on or after the index date"
    )


# --- Table 1's statistics and labels on tables made up here ------------------------------------


class _Frames:
    """A stand-in for a cohort: just the frames the function under test reads."""

    def __init__(self, **frames) -> None:
        self.__dict__.update(frames)


def test_ages_of_two_strata_are_tested_and_one_is_not() -> None:
    import polars as pl
    from scipy import stats

    from toolkit.report_context import _kruskal_test

    adtte = pl.DataFrame(
        {"stratum_key": ["a", "a", "a", "b", "b", "c"], "age_years": [50, 61, 70, 40, 45, None]}
    )
    groups = [{"key": k} for k in ("a", "b", "c", "overall")]
    test = _kruskal_test(_Frames(adtte=adtte), groups)
    h, p = stats.kruskal([50, 61, 70], [40, 45])
    assert test == {
        "name": "Kruskal–Wallis",
        "statistic": pytest.approx(h),
        "df": 1,
        "p_value": pytest.approx(p),
    }
    assert _kruskal_test(_Frames(adtte=adtte.filter(pl.col("stratum_key") != "b")), groups) is None


def test_a_stratum_without_patients_has_empty_age_cells() -> None:
    import polars as pl

    from toolkit.report_context import _age_summary

    adtte = pl.DataFrame({"stratum_key": ["a", "a"], "age_years": [50, 70]})
    stats = {"median": 60, "q1": 55, "q3": 65, "minimum": 50, "maximum": 70, "n_missing": 2}
    continuous = pl.DataFrame([{"stratum_key": "a", **stats}, {"stratum_key": None, **stats}])
    groups = [{"key": "a"}, {"key": "b"}, {"key": "overall"}]
    age = _age_summary(_Frames(adtte=adtte, baseline_continuous=continuous), groups)
    assert age["cells"][1] == dict.fromkeys(("median", "q1", "q3", "minimum", "maximum")) | {
        "n_missing": 0
    }
    assert age["cells"][0] == {
        "median": 60.0,
        "q1": 55.0,
        "q3": 65.0,
        "minimum": 50.0,
        "maximum": 70.0,
        "n_missing": 2,
    }
    assert isinstance(age["cells"][0]["median"], float) and age["test"] is None


def test_levels_in_vocabulary_order_and_an_unnamed_covariate_in_words() -> None:
    import polars as pl

    from toolkit.report_context import _categorical_rows

    rows = [
        ("a", "uveal", 3),
        ("a", "cutaneous", 4),
        ("b", "acral", 2),
        ("b", "cutaneous", 6),
        ("b", "unknown", 1),
    ]
    frame = pl.DataFrame(
        [
            {"covariate": c, "stratum_key": s, "level": lv, "n_patients": n}
            for c in ("primary_site", "prior_lines")
            for s, lv, n in rows
        ]
    )
    groups = [{"key": "a", "n": 7}, {"key": "b", "n": 9}, {"key": "overall", "n": 16}]
    site = _categorical_rows(_Frames(baseline_categorical=frame), "primary_site", groups)
    assert [lv["key"] for lv in site["levels"]] == [
        "cutaneous",
        "acral",
        "uveal",
        "unknown",
        "missing",
    ]
    assert [lv["label"] for lv in site["levels"]] == [
        "Cutaneous",
        "Acral",
        "Uveal",
        "Unknown",
        "Missing",
    ]
    # a level a stratum does not have is 0 in the test: [[4, 0, 3, 0], [6, 2, 0, 1]]
    assert site["test"]["p_value"] == pytest.approx(
        exact_fisher([[4, 0, 3, 0], [6, 2, 0, 1]]), abs=0.02
    )
    other = _categorical_rows(_Frames(baseline_categorical=frame), "prior_lines", groups)
    assert other["label"] == "Prior lines"
    assert [lv["key"] for lv in other["levels"]] == [
        "acral",
        "cutaneous",
        "uveal",
        "unknown",
        "missing",
    ]


def test_level_order_puts_numbers_first_and_unknown_then_missing_last() -> None:
    from toolkit.report_context import _level_order, level_label

    levels = {"missing", "unknown", "2", "10", "b", "a", "1", "(other)"}
    assert _level_order("ecog", levels) == [
        "1",
        "10",
        "2",
        "(other)",
        "a",
        "b",
        "unknown",
        "missing",
    ]
    assert _level_order("sex", {"U", "M", "F"}) == ["F", "M", "U"]
    assert _level_order("sex", {"unknown", "M"}) == ["M", "unknown"]
    assert [level_label("ecog", v) for v in ("3", "yes", "no", "unknown")] == [
        "3",
        "Yes",
        "No",
        "Unknown",
    ]
    assert [level_label("braf_status", v) for v in ("mutant", "wildtype", "missing")] == [
        "Mutant",
        "Wild type",
        "Missing",
    ]
    assert [level_label("primary_site", v) for v in ("mucosal", "unknown_primary")] == [
        "Mucosal",
        "Unknown primary",
    ]


def test_a_stratum_nobody_is_in_is_a_column_of_zero() -> None:
    import polars as pl

    from toolkit.report_context import _table_groups
    from toolkit.study import builtin_study_path, load_study

    study = load_study(builtin_study_path())
    adtte = pl.DataFrame({"stratum_key": ["il2_only", "il2_pd1", "il2_pd1"]})
    groups = _table_groups(_Frames(adtte=adtte), study)
    assert [(g["key"], g["n"]) for g in groups] == [
        ("il2_only", 1),
        ("il2_ipi", 0),
        ("il2_pd1", 2),
        ("overall", 3),
    ]


def test_percent_of_nobody_is_none() -> None:
    from toolkit.report_context import _pct

    assert (_pct(0, 0), _pct(1, 3), _pct(2, 3)) == (None, 33.3, 66.7)


def test_provenance_of_several_submissions_adds_rows_per_file() -> None:
    import hashlib
    from datetime import date

    import polars as pl

    from toolkit.report_context import _provenance

    submissions = pl.DataFrame(
        {
            "submission_id": ["bbb", "aaa", "ccc"],
            "site_id": ["S02", "S01", "S01"],
            "extracted_on": [date(2015, 2, 1), date(2015, 1, 5), None],
            "n_warnings": [2, None, 1],
            "row_counts": ['{"patients": 4, "treatments": 9}', '{"patients": 3}', None],
        }
    )
    provenance = _provenance(_Frames(submissions=submissions, changes=None))
    assert provenance["n_submissions"] == 3 and provenance["n_sites"] == 2
    assert provenance["set_sha256"] == hashlib.sha256(b"aaa\nbbb\nccc").hexdigest()
    assert (provenance["extracted_from"], provenance["extracted_to"]) == (
        "2015-01-05",
        "2015-02-01",
    )
    assert provenance["rows_total"] == {"patients": 7, "treatments": 9}
    assert provenance["n_warnings_total"] == 3
    assert [
        (s["sha256"], s["extracted_on"], s["rows"], s["n_warnings"])
        for s in provenance["submissions"]
    ] == [
        ("bbb", "2015-02-01", {"patients": 4, "treatments": 9}, 2),
        ("aaa", "2015-01-05", {"patients": 3}, 0),
        ("ccc", None, {}, 1),
    ]


def test_a_stratum_nobody_is_in_gets_an_empty_summary() -> None:
    import polars as pl

    from toolkit.report_context import _group_summaries
    from toolkit.study import builtin_study_path, load_study

    study = load_study(builtin_study_path())
    risk_sets = pl.DataFrame(
        {
            "aval": [3.0, 5.0, 8.0],
            "is_event": [True, False, True],
            "stratum_key": ["il2_only"] * 3,
            "n_patients": [1, 1, 1],
        }
    )
    zero = {
        "n_progressed_before_later_therapy": 0,
        "n_related_autoimmune_post_therapy": 0,
        "n_treatment_related_deaths": 0,
    }
    counts = pl.DataFrame([{"stratum_key": s.key, **zero} for s in study.strata])
    groups = _group_summaries(
        _Frames(risk_sets=risk_sets, stratum_counts=counts), study, [0.0, 6.0]
    )
    assert [(g["key"], g["n"], g["events"]) for g in groups] == [
        ("il2_only", 3, 2),
        ("il2_ipi", 0, 0),
        ("il2_pd1", 0, 0),
    ]
    assert groups[1]["median"] is None and groups[1]["curve"]["time"] == []


def test_table1_without_age_has_no_age_row() -> None:
    import polars as pl

    from toolkit.report_context import _table1
    from toolkit.study import builtin_study_path, load_study

    study = load_study(builtin_study_path())
    study = study.model_copy(
        update={"baseline": study.baseline.model_copy(update={"covariates": ("sex",)})}
    )
    adtte = pl.DataFrame({"stratum_key": ["il2_only", "il2_pd1"]})
    categorical = pl.DataFrame(
        {
            "covariate": ["sex"] * 3,
            "stratum_key": ["il2_only", "il2_pd1", None],
            "level": ["F", "M", "F"],
            "n_patients": [1, 1, 1],
        }
    )
    table1 = _table1(_Frames(adtte=adtte, baseline_categorical=categorical), study)
    assert table1["age"] is None
    assert [c["key"] for c in table1["covariates"]] == ["sex"]


def test_provenance_without_extract_dates() -> None:
    import polars as pl

    from toolkit.report_context import _provenance

    submissions = pl.DataFrame(
        {
            "submission_id": ["aaa"],
            "site_id": ["S01"],
            "extracted_on": pl.Series([None], dtype=pl.Date),
            "n_warnings": [0],
            "row_counts": ["{}"],
        }
    )
    provenance = _provenance(_Frames(submissions=submissions, changes=None))
    assert (provenance["extracted_from"], provenance["extracted_to"]) == (None, None)


def test_every_agent_class_has_a_name_in_words() -> None:
    from toolkit.report_context import CLASS_NAMES
    from toolkit.study import AGENT_CLASS

    assert set(CLASS_NAMES) == set(AGENT_CLASS.values())


@pytest.mark.parametrize(
    ("longest", "every", "ticks"),
    [
        (24.0, 6.0, [0.0, 6.0, 12.0, 18.0, 24.0]),  # a tick on the longest follow-up
        (23.9, 6.0, [0.0, 6.0, 12.0, 18.0]),
        (1.0, 0.1, [0.1 * i for i in range(11)]),  # 1.0 // 0.1 == 9.0 would lose the last
        (0.0, 6.0, [0.0]),
    ],
)
def test_ticks_run_from_zero_to_the_longest_follow_up(
    longest: float, every: float, ticks: list[float]
) -> None:
    from types import SimpleNamespace

    import polars as pl

    cohort = SimpleNamespace(risk_sets=pl.DataFrame({"aval": [longest / 2, longest]}))
    assert _ticks(cohort, every) == ticks


def test_no_rmst_when_a_stratum_is_followed_for_less_than_the_first_landmark() -> None:
    # 60 days before the cutoff the one ipilimumab patient is followed 11.4 months (12.9
    # at the cutoff): no landmark (12, 24) is reached by every stratum, so no RMST horizon
    from datetime import timedelta

    from hand_registry import CUTOFF, hand_registry

    from toolkit.cohort import build_cohort
    from toolkit.report_context import build_context

    con = hand_registry()
    try:
        study = _study(min_at_risk_shown=0)
        context = build_context(build_cohort(con, study, CUTOFF - timedelta(days=60)), study)
    finally:
        con.close()
    assert context["rmst"] == {
        "tau": None,
        "overall": None,
        "strata": {},
        "reference": None,
        "differences": {},
    }
    assert context["comparisons"]["rmst"] is None


def test_the_adjusted_model_table_names_every_coefficient_by_hand() -> None:
    from toolkit.report_context import _adjusted_model
    from toolkit.study import builtin_study_path, load_study

    study = load_study(builtin_study_path())

    def term(covariate, level, reference, hr, infinite=False):
        return {
            "covariate": covariate,
            "level": level,
            "reference": reference,
            "hr": hr,
            "hr_ci": [hr / 2, hr * 2],
            "p": 0.5,
            "infinite": infinite,
            "aliased": False,
        }

    model = {
        "n": 213,
        "n_input": 236,
        "events": 118,
        "dropped_missing": {"total": 23, "by_covariate": {}},
        "terms": [
            term("stratum_key", "il2_pd1", "il2_only", 0.25),
            term("ecog", "2", "0", 1e-11, infinite=True),
            term("ldh_elevated", "unknown", "no", 0.42),
            term("age_years", None, None, 1.01),
        ],
        "ph_test": {"global": {"chisq": 31.1, "df": 16, "p": 0.013}},
        "methods": {"missing": "complete cases"},
    }
    table = _adjusted_model(model, study)
    assert [(t["covariate"], t["level"], t["reference"]) for t in table["terms"]] == [
        ("Stratum", "IL-2 → anti-PD-1", "HD IL-2 only"),
        ("ECOG performance status", "2", "0"),
        ("LDH elevated", "Unknown", "No"),
        ("Age at index, per year", None, None),
    ]
    assert table["terms"][1] == {
        "covariate": "ECOG performance status",
        "level": "2",
        "reference": "0",
        "hr": 1e-11,
        "ci": [5e-12, 2e-11],
        "p": 0.5,
        "infinite": True,
        "aliased": False,
    }
    assert {k: v for k, v in table.items() if k != "terms"} == {
        "n": 213,
        "n_input": 236,
        "n_dropped_missing": 23,
        "events": 118,
        "ph_p": 0.013,
        "method": "complete cases",
    }
    assert _adjusted_model(None, study) is None


def test_the_rmst_horizon_needs_the_minimum_risk_set_in_every_stratum() -> None:
    import polars as pl

    from toolkit.analyses.comparisons import rmst_horizon

    # landmarks 12 and 24: stratum b has 1 patient followed past 24 months and 3 past 12;
    # its rows are risk sets, each standing for n_patients patients
    risk_sets = pl.DataFrame(
        {
            "stratum_key": ["a", "b", "b", "b"],
            "aval": [30.0, 13.0, 25.0, 5.0],
            "n_patients": [5, 2, 1, 2],
        }
    )
    assert rmst_horizon(risk_sets, _study(min_at_risk_shown=0)) == 24  # followed by one at least
    assert rmst_horizon(risk_sets, _study(min_at_risk_shown=3)) == 12  # b has 3 at risk at 12
    assert rmst_horizon(risk_sets, _study(min_at_risk_shown=4)) is None
