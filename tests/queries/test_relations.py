"""Each SQL relation on small hand-written rows, with the exact rows expected.

The awkward days are here on purpose: death on the index date, therapy on the cutoff date,
last contact and therapy after the cutoff, a checkpoint on the same day as IL-2, a patient with
both ipilimumab and anti-PD-1, a death after the cutoff.
"""

from __future__ import annotations

from datetime import date

import pytest
from hand_registry import CUTOFF, D, hand_registry

from toolkit.cohort import freeze_cutoff, run_queries
from toolkit.study import builtin_study_path, load_study


@pytest.fixture()
def con():
    connection = hand_registry()
    yield connection
    connection.close()


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _sql(name: str) -> str:
    """The text of one relation's file, as it reads the relations already built."""
    from toolkit.resources import sql_files

    (path,) = [p for p in sql_files() if p.stem == name]
    return path.read_text(encoding="utf-8")


@pytest.fixture()
def proclaim(con):
    run_queries(con, load_study(builtin_study_path()), CUTOFF)
    return con


def test_eligibility_and_reasons(proclaim) -> None:
    rows = dict(
        _rows(
            proclaim,
            "select split_part(patient_key, ':', 2), exclusion_reason "
            "from cohort_eligibility where not is_eligible",
        )
    )
    assert rows == {
        "P06": "excluding therapy before the index date",
        "P07": "index therapy course with no dose given",
        "P09": "no index therapy course on or before the cutoff",
    }
    index = dict(
        _rows(
            proclaim,
            "select split_part(patient_key, ':', 2), index_date "
            "from cohort_eligibility where is_eligible",
        )
    )
    assert index["P12"] == D("2013-03-01")  # the 0-dose course does not start the clock
    assert index["P04"] == D("2014-02-01")


def test_flow_counts(proclaim) -> None:
    assert _rows(proclaim, "select step, n_remaining, n_excluded from cohort_flow") == [
        (0, 13, 0),  # the patients of the other submissions are not in the registry's count
        (1, 12, 1),
        (2, 11, 1),
        (3, 10, 1),
    ]


def test_strata(proclaim) -> None:
    rows = _rows(
        proclaim,
        "select split_part(patient_key, ':', 2), stratum_key, stratum_start_date "
        "from strata order by 1",
    )
    assert rows == [
        ("P01", "il2_only", None),
        ("P02", "il2_pd1", D("2015-03-16")),  # on the cutoff date: counts
        ("P03", "il2_only", None),  # after the cutoff: does not move the patient
        ("P04", "il2_ipi", D("2014-02-01")),  # same day as IL-2: later therapy, not prior
        ("P05", "il2_pd1", D("2014-01-01")),  # both: anti-PD-1 comes first in rule order
        ("P08", "il2_only", None),
        ("P10", "il2_only", None),
        ("P11", "il2_only", None),
        ("P12", "il2_only", None),
        ("P14", "il2_only", None),
    ]


def test_adtte(proclaim) -> None:
    rows = _rows(
        proclaim,
        "select split_part(patient_key, ':', 2), startdt, adt, aval_days, cnsr, evntdesc, "
        "cnsdtdsc from adtte order by 1",
    )
    assert rows == [
        ("P01", D("2014-01-01"), D("2014-01-01"), 0, 0, "DEATH", None),
        ("P02", D("2014-01-01"), CUTOFF, 439, 1, None, "ALIVE AT DATA CUTOFF"),
        ("P03", D("2014-01-01"), CUTOFF, 439, 1, None, "ALIVE AT DATA CUTOFF"),
        ("P04", D("2014-02-01"), D("2015-03-01"), 393, 2, None, "LAST KNOWN ALIVE DATE"),
        ("P05", D("2013-06-01"), D("2014-09-01"), 457, 0, "DEATH", None),
        ("P08", D("2014-03-01"), CUTOFF, 380, 4, None, "DEATH AFTER DATA CUTOFF"),
        ("P10", D("2013-05-01"), D("2014-06-01"), 396, 3, None, "LOST TO FOLLOW-UP"),
        ("P11", D("2014-01-01"), D("2015-01-01"), 365, 2, None, "LAST KNOWN ALIVE DATE"),
        ("P12", D("2013-03-01"), D("2015-03-10"), 739, 2, None, "LAST KNOWN ALIVE DATE"),
        ("P14", D("2014-01-01"), CUTOFF, 439, 0, "DEATH", None),  # a death on the cutoff counts
    ]
    (aval,) = _rows(proclaim, "select aval from adtte where patient_key = 'S01:P05'")[0]
    assert aval == pytest.approx(457 / 30.4375)


def test_survival_risk_sets_count_the_patients_of_each_time_and_event(proclaim) -> None:
    rows = _rows(
        proclaim,
        "select stratum_key, round(aval * 30.4375)::int, is_event, n_patients "
        "from survival_risk_sets order by 1, 2, 3",
    )
    assert rows == [
        ("il2_ipi", 393, False, 1),
        ("il2_only", 0, True, 1),  # P01
        ("il2_only", 365, False, 1),
        ("il2_only", 380, False, 1),
        ("il2_only", 396, False, 1),
        ("il2_only", 439, False, 1),  # P03, censored at the cutoff, and P14, who died on it:
        ("il2_only", 439, True, 1),  # one time, two rows
        ("il2_only", 739, False, 1),
        ("il2_pd1", 439, False, 1),
        ("il2_pd1", 457, True, 1),
    ]
    proclaim.execute("insert into adtte select * from adtte where stratum_key = 'il2_only'")
    rebuilt = "create or replace temp table survival_risk_sets as " + _sql("survival_risk_sets")
    proclaim.execute(rebuilt)
    doubled = _rows(proclaim, "select sum(n_patients), max(n_patients) from survival_risk_sets")
    assert doubled == [(17, 2)]


def test_treatment_episodes(proclaim) -> None:
    rows = _rows(
        proclaim,
        "select split_part(patient_key, ':', 2), episode_stratum_key, tstart_days, tstop_days, "
        "is_event from treatment_episodes where patient_key in ('S01:P01', 'S01:P02', "
        "'S01:P03', 'S01:P04', 'S01:P05') order by 1, 3",
    )
    assert rows == [
        # P01 died on day 0: no episode of positive length
        ("P02", "il2_only", 0, 439, False),  # anti-PD-1 on the last day: no episode after it
        ("P03", "il2_only", 0, 439, False),  # anti-PD-1 after the cutoff: one constant episode
        ("P04", "il2_ipi", 0, 393, False),  # ipilimumab from day 0
        ("P05", "il2_only", 0, 92, False),
        ("P05", "il2_ipi", 92, 214, False),
        ("P05", "il2_pd1", 214, 457, True),
    ]


def test_progression_before_later_therapy(proclaim) -> None:
    rows = _rows(
        proclaim,
        "select split_part(patient_key, ':', 2) from patient_flags "
        "where is_progressed_before_later_therapy order by 1",
    )
    # P02: PD on IL-2 before anti-PD-1; P05: PD on ipilimumab before anti-PD-1
    assert rows == [("P02",), ("P05",)]


def test_second_study_strata_by_baseline(con) -> None:
    run_queries(con, load_study(builtin_study_path("braf")), CUTOFF)
    rows = dict(_rows(con, "select split_part(patient_key, ':', 2), stratum_key from strata"))
    assert rows["P01"] == "braf_mutant" and rows["P02"] == "braf_wildtype"
    assert rows["P04"] == "braf_unknown" and rows["P10"] == "braf_unknown"  # missing, unknown
    episodes = _rows(con, "select count(*), count(distinct patient_key) from treatment_episodes")
    assert episodes == [(9, 9)]  # one constant episode each (P01 has none: day 0)


def test_frozen_cutoff_keeps_its_submissions(con) -> None:
    study = load_study(builtin_study_path())
    assert freeze_cutoff(con, study, CUTOFF) is True
    assert freeze_cutoff(con, study, CUTOFF) is False
    con.execute(
        "insert into submissions values ('sub2', 2, 'S01', '2015-06-01', '1', 'S01b', "
        "'accepted', 0, 0, '', '{}', null)"
    )
    run_queries(con, study, CUTOFF)
    assert _rows(con, "select submission_id from stg_submissions_in_force") == [("sub1",)]
    run_queries(con, study, date(2015, 6, 30))  # an unfrozen cutoff takes the newest
    assert _rows(con, "select submission_id from stg_submissions_in_force") == [("sub2",)]
    freeze_cutoff(con, study, CUTOFF, refreeze=True)
    run_queries(con, study, CUTOFF)
    assert _rows(con, "select submission_id from stg_submissions_in_force") == [("sub2",)]


def test_later_therapy_of_a_later_rule_does_not_change_the_episode(con) -> None:
    """Anti-PD-1, then ipilimumab: the second therapy's rule comes later, so no new episode."""
    con.execute(
        "insert into patients values ('sub1', 90, 'P13', 'S01', 'F', 1960, '2012-06-01', null, "
        "'M1c', 0, 'no', 'no', 'mutant', 'alive', '2015-01-01', null, null)"
    )
    for row, (agent, klass, start, doses) in enumerate(
        [
            ("aldesleukin", "il2", "2014-01-01", 12),
            ("pembrolizumab", "pd1", "2014-03-01", None),
            ("ipilimumab", "ctla4", "2014-06-01", 4),
        ],
        start=91,
    ):
        con.execute(
            "insert into treatments values ('sub1', ?, ?, 'P13', ?, ?, ?, ?, null, ?, null, null)",
            [row, f"T{row}", agent, agent, klass, start, doses],
        )
    run_queries(con, load_study(builtin_study_path()), CUTOFF)
    assert _rows(
        con, "select stratum_key, stratum_start_date from strata where patient_key = 'S01:P13'"
    ) == [("il2_pd1", D("2014-03-01"))]
    rows = _rows(
        con,
        "select episode_stratum_key, tstart_days, tstop_days, is_event from treatment_episodes "
        "where patient_key = 'S01:P13' order by tstart_days",
    )
    assert rows == [("il2_only", 0, 59, False), ("il2_pd1", 59, 365, False)]


def test_the_poster_counts_on_their_boundary_days(proclaim) -> None:
    rows = _rows(
        proclaim,
        "select split_part(patient_key, ':', 2), is_progressed_before_later_therapy, "
        "has_related_autoimmune_post_therapy, is_treatment_related_death "
        "from patient_flags order by 1",
    )
    assert rows == [
        # autoimmune related on the index date (IL-2 only: from the index); grade 5 related
        ("P01", False, True, True),
        ("P02", True, False, False),  # PD as IL-2's best response, on the index date
        ("P03", False, False, False),  # autoimmune not related; related not autoimmune
        # PD on the ipilimumab start day is not before it; events the day before the start
        # and the day after the cutoff do not count
        ("P04", False, False, False),
        ("P05", True, True, True),  # on the anti-PD-1 start day; grade 5 possibly related
        ("P08", False, False, False),  # a fatal event after the cutoff
        ("P10", False, False, False),
        ("P11", False, False, False),
        ("P12", False, False, False),
        ("P14", False, False, True),  # cause of death treatment-related, on the cutoff
    ]
    counts = _rows(
        proclaim,
        "select stratum_key, n_patients, n_progressed_before_later_therapy, "
        "n_related_autoimmune_post_therapy, n_treatment_related_deaths "
        "from stratum_counts order by 1",
    )
    assert counts == [("il2_ipi", 1, 0, 0, 0), ("il2_only", 7, 0, 1, 2), ("il2_pd1", 2, 2, 1, 1)]


def test_only_the_submission_in_force_is_read(proclaim) -> None:
    assert _rows(proclaim, "select submission_id from stg_submissions_in_force") == [("sub1",)]
    for relation in ("stg_patients", "stg_treatments", "stg_adverse_events", "stg_assessments"):
        assert _rows(proclaim, f"select distinct submission_id from {relation}") == [("sub1",)]
        keys = _rows(proclaim, f"select count(*) from {relation} where patient_key is null")
        assert keys == [(0,)]


def test_the_eligibility_and_outcome_rules_on_their_boundary_days(con) -> None:
    from hand_registry import add_adverse_event, add_patient, add_treatment

    patients = {
        # patient: (vital, last contact, death, courses as (agent class, start, doses))
        "P20": ("alive", "2015-03-20", None, [("il2", "2015-03-16", 12)]),  # IL-2 on the cutoff
        "P21": ("alive", "2015-03-01", None, [("il2", "2013-01-01", 8), ("il2", "2013-06-01", 8)]),
        "P22": ("alive", "2015-03-01", None, [("il2", "2014-01-01", None)]),  # doses not given
        "P23": ("alive", "2015-03-01", None, [("il2", "2014-01-01", 1)]),  # exactly one dose
        "P24": ("alive", "2015-03-01", None, [("ctla4", "2014-01-01", 4)]),  # no IL-2
        "P25": ("alive", "2015-05-01", None, [("il2", "2015-04-01", 12)]),  # after the cutoff
        "P26": ("alive", "2015-03-16", None, [("il2", "2014-01-01", 12)]),  # seen on the cutoff
        "P27": (
            "alive",
            "2015-03-01",
            None,
            [("ctla4", "2012-01-01", 4), ("pd1", "2012-06-01", None), ("il2", "2013-01-01", 12)],
        ),
        "P30": (
            "alive",
            "2015-03-20",
            None,
            [("il2", "2014-01-01", 12), ("pd1", "2014-06-01", None)],
        ),
        "P31": ("dead", "2015-03-16", "2015-03-16", [("il2", "2014-01-01", 12)]),
    }
    agents = {"il2": "aldesleukin", "ctla4": "ipilimumab", "pd1": "pembrolizumab"}
    row = 100
    for pid, (vital, last, death, courses) in patients.items():
        add_patient(con, "sub1", row, pid, vital, last, death, "mutant", None)
        for klass, start, doses in courses:
            row += 1
            add_treatment(con, "sub1", row, pid, agents[klass], klass, start, doses, None)
        row += 1
    add_adverse_event(con, "sub1", 2, "P30", "2015-03-16", "yes", 2, "related")  # on the cutoff
    add_adverse_event(con, "sub1", 3, "P31", "2015-03-16", "no", 5, "related")  # on the cutoff
    con.execute("insert into assessments values ('sub1', 50, 'P30', '2014-03-01', 'SD', null)")
    run_queries(con, load_study(builtin_study_path()), CUTOFF)
    eligibility = _rows(
        con,
        "select split_part(patient_key, ':', 2), is_eligible, exclusion_reason, index_date "
        "from cohort_eligibility where patient_key >= 'S01:P20' order by 1",
    )
    no_course = "no index therapy course on or before the cutoff"
    assert eligibility == [
        ("P20", True, None, CUTOFF),
        ("P21", True, None, D("2013-01-01")),  # the first dosed course
        ("P22", False, "index therapy course with no dose given", None),
        ("P23", True, None, D("2014-01-01")),
        ("P24", False, no_course, None),
        ("P25", False, no_course, None),
        ("P26", True, None, D("2014-01-01")),
        ("P27", False, "excluding therapy before the index date", D("2013-01-01")),
        ("P30", True, None, D("2014-01-01")),
        ("P31", True, None, D("2014-01-01")),
    ]
    first = _rows(
        con, "select first_excluding_start_date from cohort_index where patient_key = 'S01:P27'"
    )
    assert first == [(D("2012-01-01"),)]  # the first of the two
    outcomes = _rows(
        con,
        "select split_part(patient_key, ':', 2), aval_days, cnsr from adtte "
        "where patient_key in ('S01:P20', 'S01:P26', 'S01:P31') order by 1",
    )
    assert outcomes == [("P20", 0, 1), ("P26", 439, 1), ("P31", 439, 0)]
    flags = _rows(
        con,
        "select split_part(patient_key, ':', 2), is_progressed_before_later_therapy, "
        "has_related_autoimmune_post_therapy, is_treatment_related_death from patient_flags "
        "where patient_key in ('S01:P08', 'S01:P30', 'S01:P31') order by 1",
    )
    # P08: cause of death treatment-related, but dead after the cutoff; P30: stable disease
    # before anti-PD-1 is no progression, an autoimmune related event on the cutoff counts;
    # P31: a grade 5 related event on the cutoff
    assert flags == [
        ("P08", False, False, False),
        ("P30", False, True, False),
        ("P31", False, False, True),
    ]


def test_an_empty_stratum_is_counted_as_zero(con) -> None:
    con.execute("delete from treatments where agent_class = 'ctla4'")  # P04's and P06's
    run_queries(con, load_study(builtin_study_path()), CUTOFF)
    counts = _rows(con, "select stratum_key, n_patients from stratum_counts order by 1")
    # P04 moves to IL-2 only; P06 has no excluding therapy left and joins it too
    assert counts == [("il2_ipi", 0), ("il2_only", 9), ("il2_pd1", 2)]


def test_two_courses_of_the_later_therapy_start_the_stratum_at_the_first(con) -> None:
    from hand_registry import add_patient, add_treatment

    add_patient(con, "sub1", 200, "P32", "alive", "2015-03-01", None, "mutant", None)
    for row, (agent, klass, start, doses) in enumerate(
        [
            ("aldesleukin", "il2", "2014-01-01", 12),
            ("nivolumab", "pd1", "2014-03-01", None),
            ("nivolumab", "pd1", "2014-08-01", None),
        ],
        start=201,
    ):
        add_treatment(con, "sub1", row, "P32", agent, klass, start, doses, None)
    run_queries(con, load_study(builtin_study_path()), CUTOFF)
    assert _rows(
        con, "select stratum_key, stratum_start_date from strata where patient_key = 'S01:P32'"
    ) == [("il2_pd1", D("2014-03-01"))]


def test_the_safety_window_from_the_later_therapy_or_the_index_date(proclaim) -> None:
    rows = _rows(
        proclaim,
        "select split_part(patient_key, ':', 2), is_window_later_therapy, window_start_date, "
        "window_end_date, time_days, status from safety_time_to_event order by 1",
    )
    assert rows == [
        # related autoimmune event and death on the index date: the event, at day 0
        ("P01", False, D("2014-01-01"), D("2014-01-01"), 0, 1),
        ("P02", True, CUTOFF, CUTOFF, 0, 0),  # anti-PD-1 on the cutoff: a window of no days
        ("P03", False, D("2014-01-01"), CUTOFF, 439, 0),  # its events are not both
        # ipilimumab on the IL-2 day; the events the day before and after the cutoff are out
        ("P04", True, D("2014-02-01"), D("2015-03-01"), 393, 0),
        ("P05", True, D("2014-01-01"), D("2014-01-01"), 0, 1),  # on the anti-PD-1 start day
        ("P08", False, D("2014-03-01"), CUTOFF, 380, 0),  # death after the cutoff: censored
        ("P10", False, D("2013-05-01"), D("2014-06-01"), 396, 0),
        ("P11", False, D("2014-01-01"), D("2015-01-01"), 365, 0),
        ("P12", False, D("2013-03-01"), D("2015-03-10"), 739, 0),
        ("P14", False, D("2014-01-01"), CUTOFF, 439, 2),  # death without the event: competing
    ]
    # the events are the patients the poster counts
    counted = _rows(
        proclaim,
        "select count(*) filter (where status = 1) from safety_time_to_event "
        "union all select count(*) filter (where has_related_autoimmune_post_therapy) "
        "from patient_flags",
    )
    assert counted == [(2,), (2,)]


def test_analysis_changes_between_two_cutoffs(con) -> None:
    from toolkit.compare import keep_as_previous

    study = load_study(builtin_study_path())
    earlier = date(2013, 6, 1)
    run_queries(con, study, earlier)
    assert _rows(con, "select count(*) from analysis_changes") == [(0,)]  # none kept yet
    analysed_then = {
        k for (k,) in _rows(con, "select patient_key from cohort_eligibility where is_eligible")
    }
    strata_then = dict(_rows(con, "select patient_key, stratum_label from strata"))
    assert len(_rows(con, "select * from patient_analysis")) == 13
    keep_as_previous(con)
    run_queries(con, study, CUTOFF, previous=earlier)
    analysed_now = {
        k for (k,) in _rows(con, "select patient_key from cohort_eligibility where is_eligible")
    }
    strata_now = dict(_rows(con, "select patient_key, stratum_label from strata"))
    changes = _rows(
        con,
        "select change_kind, site_id || ':' || patient_id, old_value, new_value "
        "from analysis_changes order by 1, 2",
    )
    entered = {key for kind, key, _, _ in changes if kind == "entered_analysis"}
    assert entered == analysed_now - analysed_then
    assert {key.split(":")[1] for key in entered} == {
        "P01",
        "P02",
        "P03",
        "P04",
        "P08",
        "P11",
        "P14",
    }
    assert not [c for c in changes if c[0] == "left_analysis"]
    moved = {(key, old, new) for kind, key, old, new in changes if kind == "stratum_changed"}
    assert moved == {
        (key, strata_then[key], strata_now[key])
        for key in analysed_then & analysed_now
        if strata_then[key] != strata_now[key]
    }
    assert [(key.split(":")[1], old, new) for key, old, new in moved] == [
        ("P05", "HD IL-2 only", "IL-2 → anti-PD-1")  # anti-PD-1 started after 2013-06-01
    ]
    assert all(
        old.startswith("not analysed: ")
        for kind, _, old, _ in changes
        if kind == "entered_analysis"
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_age_quartiles_are_rs_type_7_quantiles(seed: int) -> None:
    import duckdb
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = {"a": 1, "b": 2, "c": int(rng.integers(3, 400))}
    con = duckdb.connect()
    con.execute("set variable baseline_covariates = ['age']::varchar[]")
    con.execute("create temp table adtte (stratum_key varchar, age_years bigint)")
    ages = {key: rng.integers(18, 90, size=n).tolist() for key, n in sizes.items()}
    rows = [(key, age) for key, values in ages.items() for age in values]
    rows += [("c", None), ("d", None)]  # a missing age, and a stratum with no age at all
    con.executemany("insert into adtte values (?, ?)", rows)
    got = {
        row[0]: row[1:]
        for row in _rows(
            con,
            f"select stratum_key, n_patients, n_missing, q1, median, q3, minimum, maximum "
            f"from ({_sql('baseline_continuous')})",
        )
    }
    everyone = [age for values in ages.values() for age in values]
    for key, values in [*ages.items(), (None, everyone)]:
        q1, median, q3 = np.percentile(values, [25, 50, 75], method="linear")  # R's type 7
        missing = {"c": 1, None: 2}.get(key, 0)
        expected = (len(values), missing, q1, median, q3, min(values), max(values))
        assert got[key] == pytest.approx(expected, rel=1e-15), key
    assert got["d"] == (0, 1, None, None, None, None, None)
    # and to the last bit what DuckDB's own quantile_cont gives (the SQL before it was portable)
    builtin = _rows(
        con,
        "select stratum_key, quantile_cont(age_years, 0.25), quantile_cont(age_years, 0.5), "
        "quantile_cont(age_years, 0.75) from adtte group by grouping sets ((stratum_key), ())",
    )
    for key, *quartiles in builtin:
        assert tuple(got[key][2:5]) == tuple(quartiles), key
