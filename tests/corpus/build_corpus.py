"""(Re)create the committed corpus of malformed submissions, byte for byte.

Run from the repository root::

    .venv/bin/python tests/corpus/build_corpus.py

Every case is a folder ``tests/corpus/<NN-short-name>/`` holding the files as a site would send
them and ``expected.json``: the outcome (accepted or rejected), the exact set of rule ids the
validator must report and, for most cases, the exact findings (file, row as the site sees it,
column, rule; optionally a text the message must contain). ``stored`` lists, for accepted
cases, values the analysis tables must hold exactly (``"table.column"``: values by source
row). Each case starts from the valid base submission ``_base/`` and changes as little as
possible, so the findings listed are the only ones.

Cases marked as built at test time (a zip bomb, zips, a line of tens of MB) hold only
``expected.json`` here; ``tests/test_corpus.py`` builds their files from ``_base/``.

The script is deterministic: running it twice writes the same bytes, and ``test_corpus.py``
fails when the committed files differ from what it writes.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
BASE = "_base"
MANIFEST = "manifest.json"
PAT, TRT, AE, ASM = "patients.csv", "treatments.csv", "adverse_events.csv", "assessments.csv"
CSV_FILES = (PAT, TRT, AE, ASM)
BOM = b"\xef\xbb\xbf"

BASE_MANIFEST = {"site_id": "S07", "contract_version": "1", "extracted_on": "2015-03-14"}
BASE_TEXT: dict[str, str] = {
    PAT: """\
patient_id,site_id,sex,birth_year,diagnosis_date,primary_site,m_stage,ecog,ldh_elevated,\
brain_metastases,braf_status,vital_status,last_contact_date,death_date,cause_of_death
PA01,S07,F,1950,2012-05-01,cutaneous,M1c,1,yes,no,mutant,dead,2014-02-01,2014-02-01,melanoma
PA02,S07,M,1961,2013-01-15,,M1a,0,no,unknown,wildtype,alive,2015-03-01,,
PA03,S07,U,1972,2014-06-10,acral,M1b,,unknown,no,unknown,lost_to_follow_up,2014-12-20,,
""",
    TRT: """\
treatment_id,patient_id,agent,start_date,end_date,doses,line,best_response
T1,PA01,aldesleukin,2012-06-01,2012-06-20,12,1,PD
T2,PA01,pembrolizumab,2013-01-10,2013-12-01,,2,PR
T3,PA02,ipilimumab,2013-02-01,2013-04-15,4,1,SD
T4,PA03,dabrafenib,2014-07-01,,,1,PR
""",
    AE: """\
ae_id,patient_id,onset_date,term,autoimmune,grade,relatedness,treatment_id,outcome
A1,PA01,2012-06-05,hypotension,no,3,related,T1,resolved
A2,PA01,2013-03-01,colitis,yes,2,possibly_related,T2,resolved
A3,PA02,2013-03-10,hypophysitis,yes,2,related,T3,ongoing
A4,PA03,2014-08-01,pyrexia,no,1,related,T4,resolved
""",
    ASM: """\
patient_id,assessment_date,response,method
PA01,2012-08-01,PD,RECIST
PA01,2013-04-01,PR,irRC
PA02,2013-05-01,SD,RECIST
PA03,2014-09-01,PR,clinical
""",
}
"""The valid base submission: three patients, every rule satisfied, no warning."""

BASE_TABLES: dict[str, list[list[str]]] = {
    file: list(csv.reader(io.StringIO(text))) for file, text in BASE_TEXT.items()
}


# --- a submission being altered ----------------------------------------------------------------


@dataclass
class Draft:
    """The base submission, to be altered by one case, then written as bytes.

    ``tables`` hold the header and the rows as lists of text (row ``r`` as the site sees it is
    ``tables[file][r - 1]``). ``encoding`` and ``newline`` apply when a file is written;
    ``patches`` are byte replacements applied after that; ``raw`` replaces a file's bytes
    outright (``None`` leaves the file out).
    """

    manifest: dict[str, str] = field(default_factory=lambda: dict(BASE_MANIFEST))
    tables: dict[str, list[list[str]]] = field(default_factory=lambda: copy.deepcopy(BASE_TABLES))
    encoding: dict[str, str] = field(default_factory=dict)
    newline: dict[str, str] = field(default_factory=dict)
    patches: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    raw: dict[str, bytes | None] = field(default_factory=dict)

    def set(self, file: str, row: int, column: str, value: str) -> None:
        """Set one cell; ``row`` as the site sees it (header = 1)."""
        table = self.tables[file]
        table[row - 1][table[0].index(column)] = value

    def add(self, file: str, **values: str) -> None:
        """Append a row; columns not given are empty."""
        header = self.tables[file][0]
        self.tables[file].append([values.get(name, "") for name in header])

    def drop_row(self, file: str, row: int) -> None:
        del self.tables[file][row - 1]

    def drop_column(self, file: str, column: str) -> None:
        index = self.tables[file][0].index(column)
        for row in self.tables[file]:
            del row[index]

    def patch(self, file: str, old: bytes, new: bytes) -> None:
        """Replace ``old`` (which must occur) by ``new`` in the file's written bytes."""
        self.patches.append((file, old, new))

    def files(self) -> dict[str, bytes]:
        """Every file of the submission, as bytes."""
        out = {MANIFEST: (json.dumps(self.manifest, indent=2) + "\n").encode("utf-8")}
        for file in CSV_FILES:
            out[file] = _csv(self.tables[file], self.newline.get(file, "\n")).encode(
                self.encoding.get(file, "utf-8")
            )
        for file, old, new in self.patches:
            if old not in out[file]:
                raise ValueError(f"{file}: {old!r} not found")
            out[file] = out[file].replace(old, new, 1)
        out.update(self.raw)
        return {name: data for name, data in out.items() if data is not None}


def _csv(rows: list[list[str]], newline: str) -> str:
    text = io.StringIO()
    csv.writer(text, lineterminator=newline).writerows(rows)
    return text.getvalue()


# --- cases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    accepted: bool
    rules: tuple[str, ...]
    findings: tuple[dict, ...]
    stored: dict[str, list] | None
    alter: Callable[[Draft], None] | None  # None: built at test time


CASES: list[Case] = []


def case(
    name: str,
    description: str,
    *,
    accepted: bool,
    rules: tuple[str, ...] = (),
    findings: tuple[tuple, ...] = (),
    stored: dict[str, list] | None = None,
    generated: bool = False,
) -> Callable[[Callable[[Draft], None]], Callable[[Draft], None]]:
    """Register a case; ``findings`` are ``(file, row, column, rule[, message part])``."""

    def register(alter: Callable[[Draft], None]) -> Callable[[Draft], None]:
        entries = tuple(_finding(*entry) for entry in findings)
        CASES.append(
            Case(name, description, accepted, rules, entries, stored, None if generated else alter)
        )
        return alter

    return register


def _finding(file: str, row: int | None, column: str | None, rule: str, part: str = "") -> dict:
    entry = {"file": file, "row": row, "column": column, "rule": rule}
    if part:
        entry["message_contains"] = part
    return entry


def _built_at_test_time(draft: Draft) -> None:
    """Placeholder: the files of this case are built by tests/test_corpus.py."""


# --- encoding and CSV structure ----------------------------------------------------------------


@case(
    "01-latin1-encoding",
    "adverse_events.csv saved as Latin-1 (Windows 'CSV' export): the term 'colite aiguë' on "
    "row 3 holds the byte 0xEB, which is not UTF-8. The whole file is refused, with the row of "
    "the first bad byte.",
    accepted=False,
    rules=("FILE-ENCODING",),
    findings=((AE, 3, None, "FILE-ENCODING", "0xEB"),),
)
def _(d: Draft) -> None:
    d.set(AE, 3, "term", "colite aiguë")
    d.encoding[AE] = "latin-1"


@case(
    "02-utf16-with-bom",
    "patients.csv saved as UTF-16 (Excel 'Unicode text') with its byte-order mark FF FE: not "
    "UTF-8, refused on row 1; the message says it is UTF-16. The other files cannot be "
    "checked against patients they cannot see, so they raise nothing more.",
    accepted=False,
    rules=("FILE-ENCODING",),
    findings=((PAT, 1, None, "FILE-ENCODING", "UTF-16"),),
)
def _(d: Draft) -> None:
    d.encoding[PAT] = "utf-16-le"
    d.patch(PAT, b"p\x00", b"\xff\xfep\x00")


@case(
    "03-utf16-without-bom",
    "patients.csv in UTF-16 little-endian without a byte-order mark. Every other byte is NUL, "
    "which is valid UTF-8 but never CSV text: refused as an encoding problem (not as 15 unknown "
    "columns), and the message says it looks like UTF-16.",
    accepted=False,
    rules=("FILE-ENCODING",),
    findings=((PAT, 1, None, "FILE-ENCODING", "UTF-16"),),
)
def _(d: Draft) -> None:
    d.encoding[PAT] = "utf-16-le"


@case(
    "04-utf8-bom",
    "Every CSV file and manifest.json start with a UTF-8 byte-order mark (Excel 'CSV UTF-8'). "
    "The contract tolerates it: it is removed, accepted without findings, and the first column "
    "keeps its name.",
    accepted=True,
    stored={"patients.patient_id": ["PA01", "PA02", "PA03"]},
)
def _(d: Draft) -> None:
    for file in CSV_FILES:
        d.patch(file, b"", BOM)
    d.raw[MANIFEST] = BOM + json.dumps(BASE_MANIFEST).encode("utf-8")


@case(
    "05-crlf-line-endings",
    "Every CSV file ends its lines with CRLF (Windows). RFC 4180 defines CRLF as the line break, "
    "so it is accepted, and no value keeps a trailing carriage return (the last column of each "
    "row is checked in the stored tables).",
    accepted=True,
    stored={
        "patients.cause_of_death": ["melanoma", None, None],
        "assessments.method": ["RECIST", "irRC", "RECIST", "clinical"],
        "adverse_events.outcome": ["resolved", "resolved", "ongoing", "resolved"],
    },
)
def _(d: Draft) -> None:
    for file in CSV_FILES:
        d.newline[file] = "\r\n"


@case(
    "06-cr-only-line-endings",
    "assessments.csv ends its lines with a bare CR (old Mac 'CSV (Macintosh)' export). That is "
    "not an RFC 4180 line break: the file reads as one line, refused as malformed CSV with a "
    "message naming the CR line endings, and no traceback.",
    accepted=False,
    rules=("FILE-CSV-MALFORMED",),
    findings=((ASM, 1, None, "FILE-CSV-MALFORMED", "CR"),),
)
def _(d: Draft) -> None:
    d.newline[ASM] = "\r"


@case(
    "07-unbalanced-quote",
    'treatments.csv row 3 opens a quote that is never closed ("PR): refused as malformed CSV '
    "on the row where the quote opens.",
    accepted=False,
    rules=("FILE-CSV-MALFORMED",),
    findings=((TRT, 3, None, "FILE-CSV-MALFORMED", "never closed"),),
)
def _(d: Draft) -> None:
    d.patch(TRT, b",2,PR\n", b',2,"PR\n')


@case(
    "08-ragged-row-too-many-fields",
    "patients.csv row 3 has 16 fields: an unquoted comma inside primary_site ('cutaneous, "
    "trunk'). Refused as malformed CSV on that row; the message counts the fields.",
    accepted=False,
    rules=("FILE-CSV-MALFORMED",),
    findings=((PAT, 3, None, "FILE-CSV-MALFORMED", "16 fields but the header has 15"),),
)
def _(d: Draft) -> None:
    d.patch(PAT, b"PA02,S07,M,1961,2013-01-15,,", b"PA02,S07,M,1961,2013-01-15,cutaneous, trunk,")


@case(
    "09-ragged-row-too-few-fields",
    "assessments.csv row 4 lacks its last field (no method and no comma before it): refused as "
    "malformed CSV on that row.",
    accepted=False,
    rules=("FILE-CSV-MALFORMED",),
    findings=((ASM, 4, None, "FILE-CSV-MALFORMED", "3 fields but the header has 4"),),
)
def _(d: Draft) -> None:
    d.patch(ASM, b"PA02,2013-05-01,SD,RECIST\n", b"PA02,2013-05-01,SD\n")


@case(
    "10-blank-line-in-middle",
    "treatments.csv has a blank line between rows 3 and 4 (row 4 as a spreadsheet shows it): "
    "refused as malformed CSV on the blank row.",
    accepted=False,
    rules=("FILE-CSV-MALFORMED",),
    findings=((TRT, 4, None, "FILE-CSV-MALFORMED", "blank"),),
)
def _(d: Draft) -> None:
    d.patch(TRT, b"\nT3,", b"\n\nT3,")


@case(
    "11-trailing-blank-line",
    "adverse_events.csv ends with an extra empty line after the last row. Decision: refused like "
    "any blank row (the contract's CSV has no blank lines, and an empty record has the wrong "
    "number of fields under RFC 4180); the message says which row to delete. A single final "
    "line break is normal and fine.",
    accepted=False,
    rules=("FILE-CSV-MALFORMED",),
    findings=((AE, 6, None, "FILE-CSV-MALFORMED", "blank"),),
)
def _(d: Draft) -> None:
    d.patch(AE, b"T4,resolved\n", b"T4,resolved\n\n")


@case(
    "12-multiline-quoted-term",
    "adverse_events.csv row 3 holds a quoted term spanning two lines (valid RFC 4180). It is "
    "one row as the site sees it, so the out-of-range grade on the next row is reported on row "
    "4, not 5.",
    accepted=False,
    rules=("AE-GRADE-RANGE",),
    findings=((AE, 4, "grade", "AE-GRADE-RANGE"),),
)
def _(d: Draft) -> None:
    d.set(AE, 3, "term", "colitis\nwith bloody diarrhoea")
    d.set(AE, 4, "grade", "7")


@case(
    "13-missing-column",
    "patients.csv has no sex column: reported once on the header row, not on every patient.",
    accepted=False,
    rules=("FILE-COLUMN-MISSING",),
    findings=((PAT, 1, "sex", "FILE-COLUMN-MISSING"),),
)
def _(d: Draft) -> None:
    d.drop_column(PAT, "sex")


@case(
    "14-unknown-column",
    "treatments.csv has an extra column 'comment'. The contract asks for exactly its columns, "
    "so it is an error on the header row (the site is asked to remove it).",
    accepted=False,
    rules=("FILE-COLUMN-UNKNOWN",),
    findings=((TRT, 1, "comment", "FILE-COLUMN-UNKNOWN"),),
)
def _(d: Draft) -> None:
    for row, note in zip(d.tables[TRT], ["comment", "", "check", "", ""], strict=True):
        row.append(note)


@case(
    "15-duplicate-column",
    "assessments.csv repeats the response column: reported once on the header row.",
    accepted=False,
    rules=("FILE-COLUMN-DUPLICATE",),
    findings=((ASM, 1, "response", "FILE-COLUMN-DUPLICATE"),),
)
def _(d: Draft) -> None:
    for row in d.tables[ASM]:
        row.append(row[2])


@case(
    "16-columns-in-another-order",
    "Every CSV file has its columns in another order (reversed). The contract allows any order: "
    "accepted, each value stored under its own column.",
    accepted=True,
    stored={
        "patients.sex": ["F", "M", "U"],
        "treatments.agent": ["aldesleukin", "pembrolizumab", "ipilimumab", "dabrafenib"],
    },
)
def _(d: Draft) -> None:
    for file in CSV_FILES:
        d.tables[file] = [list(reversed(row)) for row in d.tables[file]]


@case(
    "17-header-only-patients",
    "patients.csv holds only its header while the other files list courses, events and "
    "assessments. Unlike adverse_events.csv and assessments.csv, the contract does not let "
    "patients.csv be header-only: an extract with no patients would supersede the site's data "
    "with nothing. Reported once (FILE-NO-ROWS); the rows of the other files cannot be checked "
    "against patients that are not there, so they raise no reference errors.",
    accepted=False,
    rules=("FILE-NO-ROWS",),
    findings=((PAT, None, None, "FILE-NO-ROWS"),),
)
def _(d: Draft) -> None:
    del d.tables[PAT][1:]


@case(
    "18-empty-file",
    "adverse_events.csv is a 0-byte file. It may hold only a header, but it must hold that: "
    "refused as malformed CSV, the message says the file is empty.",
    accepted=False,
    rules=("FILE-CSV-MALFORMED",),
    findings=((AE, None, None, "FILE-CSV-MALFORMED", "empty"),),
)
def _(d: Draft) -> None:
    d.raw[AE] = b""


@case(
    "19-missing-required-file",
    "assessments.csv is not in the folder: FILE-MISSING.",
    accepted=False,
    rules=("FILE-MISSING",),
    findings=((ASM, None, None, "FILE-MISSING"),),
)
def _(d: Draft) -> None:
    d.raw[ASM] = None


@case(
    "20-missing-manifest",
    "manifest.json is not in the folder: FILE-MISSING. Without it the site and extract date are "
    "unknown, so the rules that need them (site match, dates after the extract) are not run.",
    accepted=False,
    rules=("FILE-MISSING",),
    findings=((MANIFEST, None, None, "FILE-MISSING"),),
)
def _(d: Draft) -> None:
    d.raw[MANIFEST] = None


@case(
    "21-manifest-not-json",
    "manifest.json is written as 'key: value' lines, not JSON: MANIFEST-INVALID, the message "
    "shows the expected form.",
    accepted=False,
    rules=("MANIFEST-INVALID",),
    findings=((MANIFEST, None, None, "MANIFEST-INVALID", "not valid JSON"),),
)
def _(d: Draft) -> None:
    d.raw[MANIFEST] = b"site_id: S07\ncontract_version: 1\nextracted_on: 2015-03-14\n"


@case(
    "22-manifest-other-site",
    "manifest.json says site S08 but patients.csv says S07 on every row: one PAT-SITE-MANIFEST "
    "per patient row.",
    accepted=False,
    rules=("PAT-SITE-MANIFEST",),
    findings=(
        (PAT, 2, "site_id", "PAT-SITE-MANIFEST"),
        (PAT, 3, "site_id", "PAT-SITE-MANIFEST"),
        (PAT, 4, "site_id", "PAT-SITE-MANIFEST"),
    ),
)
def _(d: Draft) -> None:
    d.manifest["site_id"] = "S08"


@case(
    "23-manifest-contract-version-2",
    'manifest.json declares contract_version "2": this toolkit reads version 1 only.',
    accepted=False,
    rules=("MANIFEST-VERSION",),
    findings=((MANIFEST, None, "contract_version", "MANIFEST-VERSION"),),
)
def _(d: Draft) -> None:
    d.manifest["contract_version"] = "2"


# --- dates -------------------------------------------------------------------------------------


@case(
    "24-non-iso-dates",
    "Three date forms that are not ISO 8601: US 05/01/2012 (patients diagnosis_date), German "
    "16.03.2013 (adverse_events onset_date), and the Excel serial 41365 (assessment_date). "
    "Each is a DATE error whose message names the form expected; no date-order rule fires on "
    "top of it.",
    accepted=False,
    rules=("PAT-DIAGNOSIS-DATE-DATE", "AE-ONSET-DATE-DATE", "ASM-ASSESSMENT-DATE-DATE"),
    findings=(
        (PAT, 2, "diagnosis_date", "PAT-DIAGNOSIS-DATE-DATE", "YYYY-MM-DD"),
        (AE, 4, "onset_date", "AE-ONSET-DATE-DATE", "YYYY-MM-DD"),
        (ASM, 4, "assessment_date", "ASM-ASSESSMENT-DATE-DATE", "YYYY-MM-DD"),
    ),
)
def _(d: Draft) -> None:
    d.set(PAT, 2, "diagnosis_date", "05/01/2012")
    d.set(AE, 4, "onset_date", "16.03.2013")
    d.set(ASM, 4, "assessment_date", "41365")


@case(
    "25-impossible-date",
    "last_contact_date 2015-02-30 is written YYYY-MM-DD but is no real day: a DATE error, and "
    "nothing else (the rules comparing other dates with it treat it as unknown).",
    accepted=False,
    rules=("PAT-LAST-CONTACT-DATE-DATE",),
    findings=((PAT, 3, "last_contact_date", "PAT-LAST-CONTACT-DATE-DATE"),),
)
def _(d: Draft) -> None:
    d.set(PAT, 3, "last_contact_date", "2015-02-30")


@case(
    "26-date-after-extract",
    "An assessment dated 2015-04-01 and a treatment end 2015-03-20, both after extracted_on "
    "(2015-03-14) and after the patient's last contact: reported once each, by the "
    "AFTER-EXTRACT rule, not again as after last contact.",
    accepted=False,
    rules=("ASM-ASSESSMENT-DATE-AFTER-EXTRACT", "TRT-END-DATE-AFTER-EXTRACT"),
    findings=(
        (ASM, 4, "assessment_date", "ASM-ASSESSMENT-DATE-AFTER-EXTRACT"),
        (TRT, 4, "end_date", "TRT-END-DATE-AFTER-EXTRACT"),
    ),
)
def _(d: Draft) -> None:
    d.set(ASM, 4, "assessment_date", "2015-04-01")
    d.set(TRT, 4, "end_date", "2015-03-20")


# --- missing-value tokens ----------------------------------------------------------------------


@case(
    "27-na-tokens-in-coded-columns",
    "NA, N/A, null and . in coded columns, and -99 in an integer column. Only an empty cell "
    "means missing: each token is a CODE error (-99 is a whole number, so a RANGE error for "
    "ecog).",
    accepted=False,
    rules=(
        "PAT-SEX-CODE",
        "PAT-M-STAGE-CODE",
        "PAT-BRAF-STATUS-CODE",
        "PAT-ECOG-RANGE",
        "AE-OUTCOME-CODE",
        "ASM-METHOD-CODE",
    ),
    findings=(
        (PAT, 2, "sex", "PAT-SEX-CODE"),
        (PAT, 3, "m_stage", "PAT-M-STAGE-CODE"),
        (PAT, 4, "braf_status", "PAT-BRAF-STATUS-CODE"),
        (PAT, 4, "ecog", "PAT-ECOG-RANGE"),
        (AE, 3, "outcome", "AE-OUTCOME-CODE"),
        (ASM, 5, "method", "ASM-METHOD-CODE"),
    ),
)
def _(d: Draft) -> None:
    d.set(PAT, 2, "sex", "NA")
    d.set(PAT, 3, "m_stage", "N/A")
    d.set(PAT, 4, "braf_status", "null")
    d.set(PAT, 4, "ecog", "-99")
    d.set(AE, 3, "outcome", "NA")
    d.set(ASM, 5, "method", ".")


@case(
    "28-na-tokens-in-date-columns",
    "NA, N/A, null, -99 and . in date columns: each a DATE error. The '.' death_date of a living "
    "patient is reported as a bad date only, not also as a death date on a living patient.",
    accepted=False,
    rules=(
        "PAT-DEATH-DATE-DATE",
        "TRT-END-DATE-DATE",
        "AE-ONSET-DATE-DATE",
        "ASM-ASSESSMENT-DATE-DATE",
    ),
    findings=(
        (PAT, 3, "death_date", "PAT-DEATH-DATE-DATE"),
        (TRT, 2, "end_date", "TRT-END-DATE-DATE"),
        (TRT, 3, "end_date", "TRT-END-DATE-DATE"),
        (AE, 2, "onset_date", "AE-ONSET-DATE-DATE"),
        (ASM, 3, "assessment_date", "ASM-ASSESSMENT-DATE-DATE"),
    ),
)
def _(d: Draft) -> None:
    d.set(PAT, 3, "death_date", ".")
    d.set(TRT, 2, "end_date", "-99")
    d.set(TRT, 3, "end_date", "N/A")
    d.set(AE, 2, "onset_date", "null")
    d.set(ASM, 3, "assessment_date", "NA")


@case(
    "29-na-tokens-in-free-text",
    "NA, N/A, null and -99 as the adverse event term (free text): kept as text, accepted, and "
    "stored exactly as sent (never turned into missing).",
    accepted=True,
    stored={"adverse_events.term": ["NA", "N/A", "null", "-99"]},
)
def _(d: Draft) -> None:
    for row, token in zip(range(2, 6), ["NA", "N/A", "null", "-99"], strict=True):
        d.set(AE, row, "term", token)


# --- identifiers -------------------------------------------------------------------------------


@case(
    "30-leading-zero-ids",
    "Patient ids 00123, 00124, 007 and treatment ids 0001... in every file: identifiers are text, "
    "accepted, and the stored tables keep the leading zeros.",
    accepted=True,
    stored={
        "patients.patient_id": ["00123", "00124", "007"],
        "treatments.treatment_id": ["0001", "0002", "0003", "0004"],
        "treatments.patient_id": ["00123", "00123", "00124", "007"],
        "adverse_events.treatment_id": ["0001", "0002", "0003", "0004"],
        "assessments.patient_id": ["00123", "00123", "00124", "007"],
    },
)
def _(d: Draft) -> None:
    ids = {"PA01": "00123", "PA02": "00124", "PA03": "007"}
    courses = {f"T{n}": f"000{n}" for n in range(1, 5)}
    for file in CSV_FILES:
        header = d.tables[file][0]
        for row in d.tables[file][1:]:
            for column, mapping in (("patient_id", ids), ("treatment_id", courses)):
                if column in header:
                    index = header.index(column)
                    row[index] = mapping.get(row[index], row[index])


@case(
    "31-cyrillic-patient-id",
    "patients.csv row 3 spells PA02 with a Cyrillic 'А' (U+0410), which looks like the Latin A. "
    "A FORMAT error whose message names the character. The other files use the Latin PA02, "
    "which is then a patient missing from patients.csv; the references are reported too "
    "(each file's own rows), but the patient with the broken id raises no further finding.",
    accepted=False,
    rules=("PAT-PATIENT-ID-FORMAT", "TRT-PATIENT-REF", "AE-PATIENT-REF", "ASM-PATIENT-REF"),
    findings=(
        (PAT, 3, "patient_id", "PAT-PATIENT-ID-FORMAT", "U+0410"),
        (TRT, 4, "patient_id", "TRT-PATIENT-REF"),
        (AE, 4, "patient_id", "AE-PATIENT-REF"),
        (ASM, 4, "patient_id", "ASM-PATIENT-REF"),
    ),
)
def _(d: Draft) -> None:
    d.set(PAT, 3, "patient_id", "P\u0410" + "02")


@case(
    "32-cyrillic-treatment-reference",
    "treatments.csv row 4 refers to patient PA02 spelt with a Cyrillic 'А' (U+0410): no such "
    "patient, a reference error whose message names the look-alike character. Two findings "
    "follow from it, as the files stand: PA02 (Latin) has no treatment (a warning on the "
    "patient), and PA02's adverse event names T3, a course not recorded for PA02 "
    "(AE-TREATMENT-REF, as tests/test_validate.py::test_references requires).",
    accepted=False,
    rules=("TRT-PATIENT-REF", "PAT-NO-TREATMENT", "AE-TREATMENT-REF"),
    findings=(
        (TRT, 4, "patient_id", "TRT-PATIENT-REF", "U+0410"),
        (PAT, 3, "patient_id", "PAT-NO-TREATMENT"),
        (AE, 4, "treatment_id", "AE-TREATMENT-REF"),
    ),
)
def _(d: Draft) -> None:
    d.set(TRT, 4, "patient_id", "P\u0410" + "02")


# --- spreadsheet formulas and markup -----------------------------------------------------------


FORMULAS = ['=HYPERLINK("http://example.com/x","click")', "+1", "@SUM(A1:A9)", "-2+3"]


@case(
    "33-formula-in-free-text",
    "Adverse event terms that a spreadsheet would run as formulas (=HYPERLINK(...), +1, "
    "@SUM(...), -2+3). In free text they are kept as text, accepted, stored verbatim; "
    "neutralising them is the job of any later CSV export, not of validation.",
    accepted=True,
    stored={"adverse_events.term": FORMULAS},
)
def _(d: Draft) -> None:
    for row, text in zip(range(2, 6), FORMULAS, strict=True):
        d.set(AE, row, "term", text)


@case(
    "34-formula-in-coded-column",
    "Formula-like text in coded columns (=HYPERLINK(...) as sex, +PR as best_response, "
    "@yes as autoimmune): each a CODE error.",
    accepted=False,
    rules=("PAT-SEX-CODE", "TRT-BEST-RESPONSE-CODE", "AE-AUTOIMMUNE-CODE"),
    findings=(
        (PAT, 2, "sex", "PAT-SEX-CODE"),
        (TRT, 3, "best_response", "TRT-BEST-RESPONSE-CODE"),
        (AE, 3, "autoimmune", "AE-AUTOIMMUNE-CODE"),
    ),
)
def _(d: Draft) -> None:
    d.set(PAT, 2, "sex", '=HYPERLINK("http://example.com/x","F")')
    d.set(TRT, 3, "best_response", "+PR")
    d.set(AE, 3, "autoimmune", "@yes")


SCRIPTS = ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">']


@case(
    "35-html-in-free-text",
    "HTML and script in the adverse event term: free text, accepted and stored verbatim; "
    "escaping is the job of whatever displays it.",
    accepted=True,
    stored={"adverse_events.term": [*SCRIPTS, "hypophysitis", "pyrexia"]},
)
def _(d: Draft) -> None:
    d.set(AE, 2, "term", SCRIPTS[0])
    d.set(AE, 3, "term", SCRIPTS[1])


# --- agents ------------------------------------------------------------------------------------


@case(
    "36-agent-near-miss",
    "agent 'pembrolizumabb' (typo): TRT-AGENT-UNKNOWN, the message suggests pembrolizumab.",
    accepted=False,
    rules=("TRT-AGENT-UNKNOWN",),
    findings=((TRT, 3, "agent", "TRT-AGENT-UNKNOWN", "nearest known names: pembrolizumab"),),
)
def _(d: Draft) -> None:
    d.set(TRT, 3, "agent", "pembrolizumabb")


@case(
    "37-agent-brand-names",
    "Brand and common names (Proleukin, Keytruda, IL-2, ' YERVOY ' with spaces and capitals): "
    "accepted and normalised to the generic name, the name as sent kept beside it.",
    accepted=True,
    stored={
        "treatments.agent": ["aldesleukin", "pembrolizumab", "aldesleukin", "ipilimumab"],
        "treatments.agent_as_sent": ["Proleukin", "Keytruda", "IL-2", " YERVOY "],
        "treatments.agent_class": ["il2", "pd1", "il2", "ctla4"],
    },
)
def _(d: Draft) -> None:
    for row, name in zip(range(2, 6), ["Proleukin", "Keytruda", "IL-2", " YERVOY "], strict=True):
        d.set(TRT, row, "agent", name)
    d.set(TRT, 4, "doses", "10")
    d.set(TRT, 5, "doses", "4")


# --- cross-field and cross-file errors ---------------------------------------------------------


@case(
    "38-dead-without-death-date",
    "PA01 is dead but death_date is empty: PAT-DEATH-DATE-REQUIRED on that cell.",
    accepted=False,
    rules=("PAT-DEATH-DATE-REQUIRED",),
    findings=((PAT, 2, "death_date", "PAT-DEATH-DATE-REQUIRED"),),
)
def _(d: Draft) -> None:
    d.set(PAT, 2, "death_date", "")


@case(
    "39-death-date-when-alive",
    "PA02 is alive with a death_date, and PA03 (lost to follow-up) has a cause_of_death.",
    accepted=False,
    rules=("PAT-DEATH-DATE-NOT-DEAD", "PAT-CAUSE-NOT-DEAD"),
    findings=(
        (PAT, 3, "death_date", "PAT-DEATH-DATE-NOT-DEAD"),
        (PAT, 4, "cause_of_death", "PAT-CAUSE-NOT-DEAD"),
    ),
)
def _(d: Draft) -> None:
    d.set(PAT, 3, "death_date", "2015-03-01")
    d.set(PAT, 4, "cause_of_death", "melanoma")


@case(
    "40-grade5-not-fatal",
    "A grade 5 event whose outcome is 'resolved' (PA01 is dead, so no grade-5 warning).",
    accepted=False,
    rules=("AE-OUTCOME-FATAL",),
    findings=((AE, 3, "outcome", "AE-OUTCOME-FATAL"),),
)
def _(d: Draft) -> None:
    d.set(AE, 3, "grade", "5")


@case(
    "41-fatal-not-grade5",
    "A grade 3 event whose outcome is 'fatal'.",
    accepted=False,
    rules=("AE-OUTCOME-FATAL",),
    findings=((AE, 2, "outcome", "AE-OUTCOME-FATAL"),),
)
def _(d: Draft) -> None:
    d.set(AE, 2, "outcome", "fatal")


@case(
    "42-treatment-of-unknown-patient",
    "A course and an assessment of PA04, a patient of the other files who is not in "
    "patients.csv, and a course of PA99, known nowhere: a reference error on each row.",
    accepted=False,
    rules=("TRT-PATIENT-REF", "ASM-PATIENT-REF"),
    findings=(
        (TRT, 6, "patient_id", "TRT-PATIENT-REF"),
        (TRT, 7, "patient_id", "TRT-PATIENT-REF"),
        (ASM, 6, "patient_id", "ASM-PATIENT-REF"),
    ),
)
def _(d: Draft) -> None:
    d.add(TRT, treatment_id="T5", patient_id="PA04", agent="nivolumab", start_date="2014-01-10")
    d.add(TRT, treatment_id="T6", patient_id="PA99", agent="nivolumab", start_date="2014-02-10")
    d.add(ASM, patient_id="PA04", assessment_date="2014-04-01", response="SD")


@case(
    "43-ae-course-of-other-patient",
    "PA02's adverse event is attributed to T4, which is PA03's course: AE-TREATMENT-REF.",
    accepted=False,
    rules=("AE-TREATMENT-REF",),
    findings=((AE, 4, "treatment_id", "AE-TREATMENT-REF"),),
)
def _(d: Draft) -> None:
    d.set(AE, 4, "treatment_id", "T4")


@case(
    "44-duplicate-treatment-id",
    "A second course of PA02 reuses the id T2: TRT-TREATMENT-ID-UNIQUE on the later row.",
    accepted=False,
    rules=("TRT-TREATMENT-ID-UNIQUE",),
    findings=((TRT, 6, "treatment_id", "TRT-TREATMENT-ID-UNIQUE"),),
)
def _(d: Draft) -> None:
    d.add(
        TRT,
        treatment_id="T2",
        patient_id="PA02",
        agent="nivolumab",
        start_date="2014-01-10",
        end_date="2014-06-01",
        line="2",
        best_response="SD",
    )


# --- warnings: accepted ------------------------------------------------------------------------


@case(
    "45-warn-start-early",
    "PA03's course starts 141 days before the metastatic diagnosis (more than 90, less than "
    "365): accepted with the TRT-START-EARLY warning.",
    accepted=True,
    rules=("TRT-START-EARLY",),
    findings=((TRT, 5, "start_date", "TRT-START-EARLY"),),
)
def _(d: Draft) -> None:
    d.set(TRT, 5, "start_date", "2014-01-20")


@case(
    "46-warn-grade5-not-dead",
    "A fatal grade 5 event on PA02, who is recorded alive: accepted with AE-GRADE5-NOT-DEAD.",
    accepted=True,
    rules=("AE-GRADE5-NOT-DEAD",),
    findings=((AE, 4, "grade", "AE-GRADE5-NOT-DEAD"),),
)
def _(d: Draft) -> None:
    d.set(AE, 4, "grade", "5")
    d.set(AE, 4, "outcome", "fatal")


@case(
    "47-warn-activity-after-death",
    "PA01 died 2014-02-01 but was last seen 2014-03-01; a course started and an assessment "
    "made after the death: accepted with TRT-AFTER-DEATH and ASM-AFTER-DEATH.",
    accepted=True,
    rules=("TRT-AFTER-DEATH", "ASM-AFTER-DEATH"),
    findings=(
        (TRT, 6, "start_date", "TRT-AFTER-DEATH"),
        (ASM, 6, "assessment_date", "ASM-AFTER-DEATH"),
    ),
)
def _(d: Draft) -> None:
    d.set(PAT, 2, "last_contact_date", "2014-03-01")
    d.add(TRT, treatment_id="T5", patient_id="PA01", agent="nivolumab", start_date="2014-02-10")
    d.add(ASM, patient_id="PA01", assessment_date="2014-02-20", response="PD")


@case(
    "48-warn-no-treatment",
    "PA03 has no course in treatments.csv (its adverse event names none): accepted with "
    "PAT-NO-TREATMENT.",
    accepted=True,
    rules=("PAT-NO-TREATMENT",),
    findings=((PAT, 4, "patient_id", "PAT-NO-TREATMENT"),),
)
def _(d: Draft) -> None:
    d.drop_row(TRT, 5)
    d.set(AE, 5, "treatment_id", "")


@case(
    "49-warn-ae-before-treatment",
    "PA02's adverse event starts before the patient's first course: accepted with "
    "AE-BEFORE-TREATMENT.",
    accepted=True,
    rules=("AE-BEFORE-TREATMENT",),
    findings=((AE, 4, "onset_date", "AE-BEFORE-TREATMENT"),),
)
def _(d: Draft) -> None:
    d.set(AE, 4, "onset_date", "2013-01-20")
    d.set(AE, 4, "treatment_id", "")


@case(
    "50-warn-duplicate-course",
    "A second row of PA02's ipilimumab course, same start date, the agent sent as the brand "
    "name Yervoy: accepted with TRT-DUPLICATE-COURSE (the names are compared once normalised).",
    accepted=True,
    rules=("TRT-DUPLICATE-COURSE",),
    findings=((TRT, 6, "start_date", "TRT-DUPLICATE-COURSE"),),
)
def _(d: Draft) -> None:
    d.add(TRT, treatment_id="T5", patient_id="PA02", agent="Yervoy", start_date="2013-02-01")


@case(
    "51-warn-doses-high",
    "45 doses on one aldesleukin course (more than 30): accepted with TRT-DOSES-HIGH.",
    accepted=True,
    rules=("TRT-DOSES-HIGH",),
    findings=((TRT, 2, "doses", "TRT-DOSES-HIGH"),),
)
def _(d: Draft) -> None:
    d.set(TRT, 2, "doses", "45")


# --- built at test time ------------------------------------------------------------------------


@case(
    "52-huge-line",
    "Built at test time: patients.csv row 3 is one line of about 32 MB (a paste gone wrong, "
    "16 million fields), and the agent of treatments.csv row 3 is one cell of 8 MB. Refused in "
    "seconds: the line as malformed CSV, the cell as an unknown agent; each finding quotes at "
    "most 200 characters (then '…'), so the report stays small.",
    accepted=False,
    rules=("FILE-CSV-MALFORMED", "TRT-AGENT-UNKNOWN"),
    findings=(
        (PAT, 3, None, "FILE-CSV-MALFORMED", "but the header has 15"),
        (TRT, 3, "agent", "TRT-AGENT-UNKNOWN", "is not in the agent vocabulary"),
    ),
    generated=True,
)
def _(d: Draft) -> None:
    _built_at_test_time(d)


@case(
    "53-zip-parent-paths",
    "Built at test time: a zip holding the files plus a member '../patients.csv' that would "
    "climb out of the folder. Refused unopened (SUBMISSION-UNREADABLE), the message names the "
    "member.",
    accepted=False,
    rules=("SUBMISSION-UNREADABLE",),
    findings=(("submission.zip", None, None, "SUBMISSION-UNREADABLE", "../patients.csv"),),
    generated=True,
)
def _(d: Draft) -> None:
    _built_at_test_time(d)


@case(
    "54-zip-bomb",
    "Built at test time: a zip whose patients.csv would inflate 16 MiB from a few kB (over the "
    "ratio limit). Refused unopened, before inflating anything.",
    accepted=False,
    rules=("SUBMISSION-UNREADABLE",),
    findings=(("submission.zip", None, None, "SUBMISSION-UNREADABLE", "zip bomb"),),
    generated=True,
)
def _(d: Draft) -> None:
    _built_at_test_time(d)


@case(
    "55-zip-one-folder",
    "Built at test time: a zip of the base folder, the files inside one top-level folder S07/ "
    "(what 'Send to > Compressed folder' makes). Accepted.",
    accepted=True,
    stored={"patients.patient_id": ["PA01", "PA02", "PA03"]},
    generated=True,
)
def _(d: Draft) -> None:
    _built_at_test_time(d)


@case(
    "56-zip-two-folders",
    "Built at test time: a zip with two top-level folders (S07/ and S07-old/), each holding a "
    "submission. Which one is meant is unknown: refused, the message names both folders.",
    accepted=False,
    rules=("SUBMISSION-UNREADABLE",),
    findings=(("submission.zip", None, None, "SUBMISSION-UNREADABLE", "S07-old"),),
    generated=True,
)
def _(d: Draft) -> None:
    _built_at_test_time(d)


@case(
    "57-zip-dot-member",
    "Built at test time: a zip holding the files at its top level plus a member named '.', "
    "which names no file. Like any file outside the contract it is ignored: accepted. (It "
    "used to end in an IndexError traceback.)",
    accepted=True,
    stored={"patients.patient_id": ["PA01", "PA02", "PA03"]},
    generated=True,
)
def _(d: Draft) -> None:
    _built_at_test_time(d)


# --- a hostile or careless site: the manifest, huge values, huge headers ----------------------


@case(
    "58-manifest-extracted-in-the-future",
    "extracted_on is 9999-12-31. The submission in force is ranked by extracted_on, so this "
    "extract would shadow every later real one, and every 'not after extracted_on' rule would "
    "pass: refused, as extracted_on may not be later than the day of validation.",
    accepted=False,
    rules=("MANIFEST-EXTRACTED-FUTURE",),
    findings=((MANIFEST, None, "extracted_on", "MANIFEST-EXTRACTED-FUTURE", "in the future"),),
)
def _(d: Draft) -> None:
    d.manifest["extracted_on"] = "9999-12-31"


@case(
    "59-manifest-site-id-with-a-path",
    "site_id is '../x': outside the contract's pattern [A-Za-z0-9_-]{1,16}. One finding on "
    "manifest.json; the patients' site_id is not compared with an id that cannot be used.",
    accepted=False,
    rules=("MANIFEST-SITE-ID-FORMAT",),
    findings=((MANIFEST, None, "site_id", "MANIFEST-SITE-ID-FORMAT"),),
)
def _(d: Draft) -> None:
    d.manifest["site_id"] = "../x"


@case(
    "60-manifest-site-id-empty",
    "site_id is the empty string: one MANIFEST-INVALID finding on manifest.json, not a "
    "mismatch on every row of patients.csv.",
    accepted=False,
    rules=("MANIFEST-INVALID",),
    findings=((MANIFEST, None, "site_id", "MANIFEST-INVALID"),),
)
def _(d: Draft) -> None:
    d.manifest["site_id"] = ""


@case(
    "61-manifest-nested-deeply",
    "manifest.json is a list nested 10,000 levels deep: not valid JSON (too deeply nested), "
    "reported as a finding, not a RecursionError.",
    accepted=False,
    rules=("MANIFEST-INVALID",),
    findings=((MANIFEST, None, None, "MANIFEST-INVALID", "too deeply nested"),),
)
def _(d: Draft) -> None:
    d.raw[MANIFEST] = b"[" * 10_000 + b"]" * 10_000 + b"\n"


@case(
    "62-manifest-key-twice",
    "manifest.json gives site_id twice, S07 then S08: which one the site meant is unknown, so "
    "the manifest is refused and the finding names the key.",
    accepted=False,
    rules=("MANIFEST-INVALID",),
    findings=((MANIFEST, None, "site_id", "MANIFEST-INVALID", "site_id appears twice"),),
)
def _(d: Draft) -> None:
    d.raw[MANIFEST] = (
        b'{"site_id": "S07", "site_id": "S08", "contract_version": "1", '
        b'"extracted_on": "2015-03-14"}\n'
    )


@case(
    "63-doses-too-long-to-hold",
    "doses = 99999999999999999999 (20 digits) on row 2 of treatments.csv. It does not fit a "
    "64-bit integer and used to wrap into 'must be at least 0'; it is an INTEGER finding: a "
    "whole number has at most 18 digits.",
    accepted=False,
    rules=("TRT-DOSES-INTEGER",),
    findings=((TRT, 2, "doses", "TRT-DOSES-INTEGER", "at most 18"),),
)
def _(d: Draft) -> None:
    d.set(TRT, 2, "doses", "99999999999999999999")


@case(
    "64-header-far-too-wide",
    "assessments.csv has 300 columns besides the contract's 4 (an export of a whole form): "
    "refused with one finding on the header, in about a second whatever the width, instead "
    "of one finding per stray column.",
    accepted=False,
    rules=("FILE-COLUMN-UNKNOWN",),
    findings=((ASM, 1, None, "FILE-COLUMN-UNKNOWN", "the header has 304 columns"),),
)
def _(d: Draft) -> None:
    extra = [f"field_{i}" for i in range(300)]
    table = d.tables[ASM]
    table[0].extend(extra)
    for row in table[1:]:
        row.extend([""] * len(extra))


@case(
    "65-symlink-to-outside",
    "Built at test time: assessments.csv in the folder is a symbolic link to /etc/passwd. "
    "Following it would copy a file from outside the submission into the registry archive: "
    "refused unread (SUBMISSION-UNREADABLE), the message names the link.",
    accepted=False,
    rules=("SUBMISSION-UNREADABLE",),
    findings=(("S07", None, None, "SUBMISSION-UNREADABLE", "assessments.csv is a symbolic link"),),
    generated=True,
)
def _(d: Draft) -> None:
    _built_at_test_time(d)


@case(
    "66-zip-symlink-member",
    "Built at test time: a zip whose assessments.csv member is stored as a symbolic link "
    "(Unix mode 0120777) to /etc/passwd. A zip cannot hold a link to anything the site may "
    "send: refused unread, the message names the member.",
    accepted=False,
    rules=("SUBMISSION-UNREADABLE",),
    findings=(("submission.zip", None, None, "SUBMISSION-UNREADABLE", "assessments.csv"),),
    generated=True,
)
def _(d: Draft) -> None:
    _built_at_test_time(d)


# --- writing -----------------------------------------------------------------------------------


def expected_document(entry: Case) -> dict:
    """The content of a case's expected.json."""
    document: dict = {
        "description": entry.description,
        "accepted": entry.accepted,
        "rules": sorted(entry.rules),
    }
    if entry.findings:
        document["findings"] = list(entry.findings)
    if entry.stored:
        document["stored"] = entry.stored
    if entry.alter is None:
        document["built_at_test_time"] = True
    return document


def build(root: Path = CORPUS) -> list[Path]:
    """Write ``_base/`` and every case folder under ``root``; return the folders written."""
    written = [_write(root / BASE, Draft().files())]
    for entry in CASES:
        files = {}
        if entry.alter is not None:
            draft = Draft()
            entry.alter(draft)
            files = draft.files()
        text = json.dumps(expected_document(entry), indent=2, ensure_ascii=False) + "\n"
        files["expected.json"] = text.encode("utf-8")
        written.append(_write(root / entry.name, files))
    return written


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in sorted(files.items()):
        (folder / name).write_bytes(data)
    return folder


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    for folder in build(root):
        print(folder)
