"""Each SQL relation on small hand-written rows, with the exact rows expected.

The awkward days are here on purpose: death on the index date, therapy on the cutoff date,
last contact and therapy after the cutoff, a checkpoint on the same day as IL-2, a patient with
both ipilimumab and anti-PD-1, a death after the cutoff.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from toolkit.cohort import freeze_cutoff, run_queries
from toolkit.ingest import DDL
from toolkit.study import builtin_study_path, load_study

CUTOFF = date(2015, 3, 16)
D = date.fromisoformat

# patient_id: (vital_status, last_contact, death_date, braf)
PATIENTS = {
    "P01": ("dead", "2014-01-01", "2014-01-01", "mutant"),  # dies on the index date
    "P02": ("alive", "2015-04-01", None, "wildtype"),  # anti-PD-1 on the cutoff date
    "P03": ("alive", "2015-05-01", None, "wildtype"),  # anti-PD-1 after the cutoff
    "P04": ("alive", "2015-03-01", None, None),  # ipilimumab the same day as IL-2
    "P05": ("dead", "2014-09-01", "2014-09-01", "mutant"),  # IL-2, then ipi, then anti-PD-1
    "P06": ("alive", "2015-03-10", None, "mutant"),  # ipilimumab before IL-2: excluded
    "P07": ("alive", "2015-03-10", None, "mutant"),  # IL-2 course with 0 doses: excluded
    "P08": ("dead", "2015-04-01", "2015-04-01", "wildtype"),  # dies after the cutoff
    "P09": ("alive", "2015-03-10", None, "mutant"),  # no IL-2 at all: excluded
    "P10": ("lost_to_follow_up", "2014-06-01", None, "unknown"),
    "P11": ("alive", "2015-01-01", None, "wildtype"),  # last contact before the cutoff
    "P12": ("alive", "2015-03-10", None, "mutant"),  # 0-dose IL-2, then a dosed course
}

# patient_id, agent, agent_class, start, doses, best_response
TREATMENTS = [
    ("P01", "aldesleukin", "il2", "2014-01-01", 3, None),
    ("P02", "aldesleukin", "il2", "2014-01-01", 12, "PD"),
    ("P02", "pembrolizumab", "pd1", "2015-03-16", None, None),
    ("P03", "aldesleukin", "il2", "2014-01-01", 12, "SD"),
    ("P03", "nivolumab", "pd1", "2015-04-01", None, None),
    ("P04", "aldesleukin", "il2", "2014-02-01", 12, "SD"),
    ("P04", "ipilimumab", "ctla4", "2014-02-01", 4, None),
    ("P05", "aldesleukin", "il2", "2013-06-01", 12, "SD"),
    ("P05", "ipilimumab", "ctla4", "2013-09-01", 4, "PD"),
    ("P05", "pembrolizumab", "pd1", "2014-01-01", None, None),
    ("P06", "ipilimumab", "ctla4", "2013-01-01", 4, "PD"),
    ("P06", "aldesleukin", "il2", "2013-05-01", 12, None),
    ("P07", "aldesleukin", "il2", "2013-05-01", 0, None),
    ("P08", "aldesleukin", "il2", "2014-03-01", 10, None),
    ("P09", "dacarbazine", "chemo", "2013-05-01", None, None),
    ("P10", "aldesleukin", "il2", "2013-05-01", 10, None),
    ("P11", "aldesleukin", "il2", "2014-01-01", 10, None),
    ("P12", "aldesleukin", "il2", "2013-01-01", 0, None),
    ("P12", "aldesleukin", "il2", "2013-03-01", 10, None),
]


@pytest.fixture()
def con():
    connection = duckdb.connect()
    connection.execute(DDL)
    connection.execute(
        "insert into submissions values ('sub1', 1, 'S01', '2015-05-15', '1', 'S01', "
        "'accepted', 0, 0, '', '{}')"
    )
    for row, (pid, (vital, last, death, braf)) in enumerate(PATIENTS.items(), start=2):
        connection.execute(
            "insert into patients values ('sub1', ?, ?, 'S01', 'F', 1960, '2012-06-01', null, "
            "'M1c', 0, 'no', 'no', ?, ?, ?, ?, null)",
            [row, pid, braf, vital, last, death],
        )
    for row, (pid, agent, klass, start, doses, response) in enumerate(TREATMENTS, start=2):
        connection.execute(
            "insert into treatments values ('sub1', ?, ?, ?, ?, ?, ?, ?, null, ?, null, ?)",
            [row, f"T{row}", pid, agent, agent, klass, start, doses, response],
        )
    yield connection
    connection.close()


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


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
        (0, 12, 0),
        (1, 11, 1),
        (2, 10, 1),
        (3, 9, 1),
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
    ]
    (aval,) = _rows(proclaim, "select aval from adtte where patient_key = 'S01:P05'")[0]
    assert aval == pytest.approx(457 / 30.4375)


def test_treatment_episodes(proclaim) -> None:
    rows = _rows(
        proclaim,
        "select split_part(patient_key, ':', 2), episode_stratum_key, tstart_days, tstop_days, "
        "is_event from treatment_episodes where patient_key in ('S01:P01', 'S01:P02', "
        "'S01:P04', 'S01:P05') order by 1, 3",
    )
    assert rows == [
        # P01 died on day 0: no episode of positive length
        ("P02", "il2_only", 0, 439, False),  # anti-PD-1 on the last day: no episode after it
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
    assert episodes == [(8, 8)]  # one constant episode each (P01 has none: day 0)


def test_frozen_cutoff_keeps_its_submissions(con) -> None:
    study = load_study(builtin_study_path())
    assert freeze_cutoff(con, study, CUTOFF) is True
    assert freeze_cutoff(con, study, CUTOFF) is False
    con.execute(
        "insert into submissions values ('sub2', 2, 'S01', '2015-06-01', '1', 'S01b', "
        "'accepted', 0, 0, '', '{}')"
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
