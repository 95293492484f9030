"""A registry of twelve hand-written patients, each with an awkward day on purpose.

The awkward days: death on the index date, therapy on the cutoff date, last contact and therapy
after the cutoff, a checkpoint on the same day as IL-2, a patient with both ipilimumab and
anti-PD-1, a death after the cutoff. Used by the SQL relation tests and the report context
tests, whose expected values are worked out by hand from these rows.
"""

from __future__ import annotations

from datetime import date

import duckdb

from toolkit.ingest import DDL

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
    "P14": ("dead", "2015-03-16", "2015-03-16", "wildtype"),  # dies of treatment on the cutoff
}
#: Causes of death given (the others are blank).
CAUSES = {
    "P01": "treatment_related",
    "P14": "treatment_related",
    "P05": "melanoma",
    "P08": "treatment_related",  # but after the cutoff
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
    ("P14", "aldesleukin", "il2", "2014-01-01", 10, None),
]

# patient_id, onset, autoimmune, grade, relatedness; study treatment_related = related,
# possibly_related
ADVERSE_EVENTS = [
    ("P01", "2014-01-01", "yes", 5, "related"),  # autoimmune on the index date; fatal
    ("P03", "2014-06-01", "yes", 2, "not_related"),  # autoimmune, not related
    ("P03", "2014-07-01", "no", 3, "related"),  # related, not autoimmune, not fatal
    ("P04", "2014-01-31", "yes", 2, "possibly_related"),  # the day before ipilimumab
    ("P04", "2015-03-17", "yes", 2, "related"),  # the day after the cutoff
    ("P05", "2014-01-01", "yes", 3, "related"),  # on the anti-PD-1 start day
    ("P05", "2014-09-01", "no", 5, "possibly_related"),  # fatal, possibly related
    ("P08", "2015-03-20", "no", 5, "related"),  # fatal, after the cutoff
]

# patient_id, date, response
ASSESSMENTS = [
    ("P04", "2014-02-01", "PD"),  # on the ipilimumab start day: not before it
    ("P03", "2014-05-01", "PD"),  # IL-2 only: no later therapy to be before
    ("P02", "2014-06-01", "SD"),
]

#: Other submissions of the site, none in force at the cutoff: the same extract date but
#: ingested before sub1, an older extract ingested after it, a rejected one; and a freeze of
#: another cutoff. Each holds one patient of its own, with a course, an event and an assessment.
OTHER_SUBMISSIONS = [
    ("sub0", 0, "2015-05-15", "accepted", "P97"),
    ("sub_old", 5, "2015-01-15", "accepted", "P98"),
    ("sub_rej", 6, "2015-06-01", "rejected", "P99"),
]


def hand_registry() -> duckdb.DuckDBPyConnection:
    """An in-memory registry holding the rows above, as submission ``sub1`` of site S01."""
    connection = duckdb.connect()
    connection.execute(DDL)
    connection.execute(
        "insert into submissions values ('sub1', 1, 'S01', '2015-05-15', '1', 'S01', "
        "'accepted', 0, 0, '', '{}', null)"
    )
    for row, (pid, (vital, last, death, braf)) in enumerate(PATIENTS.items(), start=2):
        add_patient(connection, "sub1", row, pid, vital, last, death, braf, CAUSES.get(pid))
    for row, (pid, agent, klass, start, doses, response) in enumerate(TREATMENTS, start=2):
        add_treatment(connection, "sub1", row, pid, agent, klass, start, doses, response)
    for row, (pid, onset, autoimmune, grade, relatedness) in enumerate(ADVERSE_EVENTS, start=2):
        add_adverse_event(connection, "sub1", row, pid, onset, autoimmune, grade, relatedness)
    for row, (pid, day, response) in enumerate(ASSESSMENTS, start=2):
        connection.execute(
            "insert into assessments values ('sub1', ?, ?, ?, ?, null)", [row, pid, day, response]
        )
    for sid, seq, extracted_on, status, pid in OTHER_SUBMISSIONS:
        connection.execute(
            "insert into submissions values (?, ?, 'S01', ?, '1', ?, ?, 0, 0, '', '{}', null)",
            [sid, seq, extracted_on, sid, status],
        )
        add_patient(connection, sid, 2, pid, "dead", "2014-06-01", "2014-06-01", "mutant", None)
        add_treatment(connection, sid, 2, pid, "aldesleukin", "il2", "2014-01-01", 12, "PD")
        add_adverse_event(connection, sid, 2, pid, "2014-02-01", "yes", 5, "related")
        connection.execute(
            "insert into assessments values (?, 2, ?, '2014-03-01', 'PD', null)", [sid, pid]
        )
    connection.execute("insert into cutoff_freezes values ('2014-12-31', 'sub_old', 'S01', 5)")
    return connection


def add_patient(con, sid, row, pid, vital, last, death, braf, cause) -> None:
    con.execute(
        "insert into patients values (?, ?, ?, 'S01', 'F', 1960, '2012-06-01', null, "
        "'M1c', 0, 'no', 'no', ?, ?, ?, ?, ?)",
        [sid, row, pid, braf, vital, last, death, cause],
    )


def add_treatment(con, sid, row, pid, agent, klass, start, doses, response) -> None:
    con.execute(
        "insert into treatments values (?, ?, ?, ?, ?, ?, ?, ?, null, ?, null, ?)",
        [sid, row, f"T{row}", pid, agent, agent, klass, start, doses, response],
    )


def add_adverse_event(con, sid, row, pid, onset, autoimmune, grade, relatedness) -> None:
    con.execute(
        "insert into adverse_events values (?, ?, ?, ?, ?, 'colitis', ?, ?, ?, null, null)",
        [sid, row, f"A{row}", pid, onset, autoimmune, grade, relatedness],
    )
