"""The rule catalog of submission contract v1: every finding the validator can raise.

Each rule has a stable identifier (the synthetic-data generator injects violations by these
ids, the steward's report groups queries by them), a severity, the file and column it is reported
on, and a message in plain words. The message is what a site reads; it never changes meaning.

Identifiers
-----------
File level (``error``; ``FILE-*`` rules apply to every file, ``MANIFEST-*`` to manifest.json):
    SUBMISSION-UNREADABLE FILE-MISSING FILE-ENCODING FILE-CSV-MALFORMED FILE-COLUMN-MISSING
    FILE-COLUMN-UNKNOWN FILE-COLUMN-DUPLICATE FILE-NO-ROWS MANIFEST-INVALID MANIFEST-VERSION
    MANIFEST-SITE-ID-FORMAT MANIFEST-EXTRACTED-FUTURE

Per column (``error``), ``<P>-<COLUMN>-<KIND>`` with P = PAT (patients.csv), TRT (treatments.csv),
AE (adverse_events.csv), ASM (assessments.csv); KIND is REQUIRED (empty cell), CODE (not in the
code list), DATE (not ISO YYYY-MM-DD or not a real day), INTEGER (not a whole number), RANGE (a
whole number out of bounds), FORMAT (identifier pattern), UNIQUE (repeated in the file), or
AFTER-EXTRACT (a date later than the manifest's ``extracted_on``):
    PAT-PATIENT-ID-REQUIRED PAT-PATIENT-ID-FORMAT PAT-PATIENT-ID-UNIQUE PAT-SITE-ID-REQUIRED
    PAT-SEX-REQUIRED PAT-SEX-CODE PAT-BIRTH-YEAR-REQUIRED PAT-BIRTH-YEAR-INTEGER
    PAT-BIRTH-YEAR-RANGE PAT-DIAGNOSIS-DATE-REQUIRED PAT-DIAGNOSIS-DATE-DATE
    PAT-DIAGNOSIS-DATE-AFTER-EXTRACT PAT-PRIMARY-SITE-CODE PAT-M-STAGE-CODE PAT-ECOG-INTEGER
    PAT-ECOG-RANGE PAT-LDH-ELEVATED-CODE PAT-BRAIN-METASTASES-CODE PAT-BRAF-STATUS-CODE
    PAT-VITAL-STATUS-REQUIRED PAT-VITAL-STATUS-CODE PAT-LAST-CONTACT-DATE-REQUIRED
    PAT-LAST-CONTACT-DATE-DATE PAT-DEATH-DATE-DATE PAT-CAUSE-OF-DEATH-CODE
    TRT-TREATMENT-ID-REQUIRED TRT-TREATMENT-ID-UNIQUE TRT-PATIENT-ID-REQUIRED TRT-AGENT-REQUIRED
    TRT-START-DATE-REQUIRED TRT-START-DATE-DATE TRT-START-DATE-AFTER-EXTRACT TRT-END-DATE-DATE
    TRT-END-DATE-AFTER-EXTRACT TRT-DOSES-INTEGER TRT-DOSES-RANGE TRT-LINE-INTEGER TRT-LINE-RANGE
    TRT-BEST-RESPONSE-CODE
    AE-AE-ID-REQUIRED AE-AE-ID-UNIQUE AE-PATIENT-ID-REQUIRED AE-ONSET-DATE-REQUIRED
    AE-ONSET-DATE-DATE AE-ONSET-DATE-AFTER-EXTRACT AE-TERM-REQUIRED AE-AUTOIMMUNE-REQUIRED
    AE-AUTOIMMUNE-CODE AE-GRADE-REQUIRED AE-GRADE-INTEGER AE-GRADE-RANGE AE-RELATEDNESS-REQUIRED
    AE-RELATEDNESS-CODE AE-OUTCOME-CODE
    ASM-PATIENT-ID-REQUIRED ASM-ASSESSMENT-DATE-REQUIRED ASM-ASSESSMENT-DATE-DATE
    ASM-ASSESSMENT-DATE-AFTER-EXTRACT ASM-RESPONSE-REQUIRED ASM-RESPONSE-CODE ASM-METHOD-CODE

Cross-field and cross-file (``error``):
    PAT-SITE-MANIFEST PAT-DIAGNOSIS-BEFORE-BIRTH PAT-LAST-CONTACT-BEFORE-DIAGNOSIS
    PAT-LAST-CONTACT-AFTER-EXTRACT PAT-DEATH-DATE-REQUIRED PAT-DEATH-DATE-NOT-DEAD
    PAT-DEATH-BEFORE-DIAGNOSIS PAT-DEATH-AFTER-EXTRACT PAT-CAUSE-NOT-DEAD
    TRT-PATIENT-REF TRT-AGENT-UNKNOWN TRT-START-BEFORE-DIAGNOSIS TRT-START-AFTER-LAST-CONTACT
    TRT-END-BEFORE-START TRT-END-AFTER-LAST-CONTACT TRT-DOSES-REQUIRED
    AE-PATIENT-REF AE-ONSET-AFTER-LAST-CONTACT AE-TREATMENT-REF AE-OUTCOME-FATAL
    ASM-PATIENT-REF ASM-DATE-BEFORE-DIAGNOSIS ASM-DATE-AFTER-LAST-CONTACT

Warnings (never block; each becomes a query to the site):
    PAT-NO-TREATMENT TRT-START-EARLY TRT-AFTER-DEATH TRT-DUPLICATE-COURSE TRT-DOSES-HIGH
    AE-GRADE5-NOT-DEAD AE-BEFORE-TREATMENT ASM-AFTER-DEATH

Notes
-----
* ``TRT-AGENT-UNKNOWN`` is checked per column (in the treatments model) but keeps its historical
  id; its message is completed per value with the nearest known names.
* Activity after death is reported on the row that carries it: ``TRT-AFTER-DEATH`` on the
  treatments row whose ``start_date`` is after the patient's ``death_date``, ``ASM-AFTER-DEATH``
  on the assessments row. There is no ``PAT-ACTIVITY-AFTER-DEATH``.
* ``PAT-DIAGNOSIS-BEFORE-BIRTH`` is reported on ``birth_year`` and ``TRT-DUPLICATE-COURSE`` on
  ``start_date``, the cells the synthetic-data generator (:mod:`toolkit.synth_errors`) alters.
* ``AE-OUTCOME-FATAL`` needs both ``grade`` and ``outcome``: an empty outcome on a grade 5 event
  is allowed (the contract lets ``outcome`` be missing).
* ``FILE-NO-ROWS`` applies to ``patients.csv`` and ``treatments.csv`` only: the contract lets
  ``adverse_events.csv`` and ``assessments.csv`` hold only a header, not the other two (an
  extract without patients would supersede the site's data with nothing).
* The last-contact dates have their own AFTER-EXTRACT ids (``PAT-LAST-CONTACT-AFTER-EXTRACT``,
  ``PAT-DEATH-AFTER-EXTRACT``); every other date column uses ``<P>-<COLUMN>-AFTER-EXTRACT``.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas import codes as c
from schemas.findings import Severity

__all__ = ["DIMENSIONS", "Rule", "Severity", "RULES", "column_rule_id", "dimension", "rules_for"]


_PAT, _TRT, _AE, _ASM = c.CSV_FILES
_NA_NOTE = "NA, N/A, null, -99 and . are not codes"


@dataclass(frozen=True)
class Rule:
    """One rule of the contract.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``PAT-SEX-CODE``.
    severity : {"error", "warning"}
        An error rejects the whole submission; a warning becomes a query to the site.
    file : str or None
        The file the finding is reported on; ``None`` for the ``FILE-*`` rules (any file).
    column : str or None
        The column the finding is reported on; ``None`` when it concerns the whole file.
    message : str
        The rule broken, in plain words, as the site reads it.
    """

    id: str
    severity: Severity
    file: str | None
    column: str | None
    message: str


def column_rule_id(file: str, column: str, kind: str) -> str:
    """Identifier of a per-column rule, e.g. ``("patients.csv", "birth_year", "RANGE")``.

    Parameters
    ----------
    file : str
        A CSV file of the contract (``patients.csv`` ...).
    column : str
        The column name as in the contract.
    kind : str
        ``REQUIRED``, ``CODE``, ``DATE``, ``INTEGER``, ``RANGE``, ``FORMAT``, ``UNIQUE`` or
        ``AFTER-EXTRACT``.

    Returns
    -------
    str
        ``<P>-<COLUMN>-<KIND>``, the column upper-cased with ``_`` turned into ``-``.
    """
    return f"{c.FILE_PREFIX[file]}-{column.upper().replace('_', '-')}-{kind}"


def _err(file: str, column: str, kind: str, message: str) -> Rule:
    return Rule(column_rule_id(file, column, kind), "error", file, column, message)


def _required(file: str, *columns: str) -> list[Rule]:
    return [
        _err(file, col, "REQUIRED", f"{col} is required; the cell must not be empty")
        for col in columns
    ]


def _code(file: str, column: str, allowed: tuple[str, ...], *, optional: bool) -> Rule:
    listed = ", ".join(allowed)
    tail = "leave the cell empty when unknown" if optional else "they are not accepted"
    return _err(
        file,
        column,
        "CODE",
        f"{column} must be one of {listed}, written exactly so ({_NA_NOTE}; {tail})",
    )


def _date(file: str, column: str) -> Rule:
    return _err(
        file,
        column,
        "DATE",
        f"{column} must be a real calendar date written YYYY-MM-DD (e.g. {c.DATE_EXAMPLE})",
    )


def _integer(file: str, column: str) -> Rule:
    return _err(
        file,
        column,
        "INTEGER",
        f"{column} must be a whole number written in digits (at most {c.INTEGER_DIGITS_MAX})",
    )


def _range(file: str, column: str, bounds: str) -> Rule:
    return _err(file, column, "RANGE", f"{column} must be {bounds}")


def _unique(file: str, column: str) -> Rule:
    return _err(
        file, column, "UNIQUE", f"{column} must be unique in the file; an earlier row has it"
    )


def _after_extract(file: str, column: str) -> Rule:
    return _err(
        file,
        column,
        "AFTER-EXTRACT",
        f"{column} is later than the extract date (extracted_on in manifest.json)",
    )


def _cross(rule_id: str, file: str, column: str, message: str) -> Rule:
    return Rule(rule_id, "error", file, column, message)


def _warn(rule_id: str, file: str, column: str, message: str) -> Rule:
    return Rule(rule_id, "warning", file, column, message)


_FILE_RULES = [
    Rule(
        "SUBMISSION-UNREADABLE",
        "error",
        None,
        None,
        "the submission cannot be opened: it must be a folder or a .zip holding the contract "
        "files at its top level or in one folder, with no unsafe paths",
    ),
    Rule("FILE-MISSING", "error", None, None, "a required file is missing from the submission"),
    Rule(
        "FILE-ENCODING",
        "error",
        None,
        None,
        "the file is not UTF-8 text; save it as CSV UTF-8",
    ),
    Rule(
        "FILE-CSV-MALFORMED",
        "error",
        None,
        None,
        "the file is not well-formed CSV (comma-separated, RFC 4180 quoting, one header row, "
        "the same number of fields on every row, no blank lines)",
    ),
    Rule("FILE-COLUMN-MISSING", "error", None, None, "a column of the contract is missing"),
    Rule("FILE-COLUMN-UNKNOWN", "error", None, None, "the column is not part of the contract"),
    Rule("FILE-COLUMN-DUPLICATE", "error", None, None, "the column appears more than once"),
    Rule(
        "FILE-NO-ROWS",
        "error",
        None,
        None,
        "the file holds only its header row; patients.csv and treatments.csv must hold at "
        "least one row (only adverse_events.csv and assessments.csv may hold just a header)",
    ),
    Rule(
        "MANIFEST-INVALID",
        "error",
        c.MANIFEST_FILE,
        None,
        "manifest.json must be a JSON object with the text fields site_id, contract_version "
        'and extracted_on (YYYY-MM-DD), e.g. {"site_id": "S01", "contract_version": "1", '
        '"extracted_on": "2015-03-14"}',
    ),
    Rule(
        "MANIFEST-VERSION",
        "error",
        c.MANIFEST_FILE,
        "contract_version",
        f'contract_version must be "{c.CONTRACT_VERSION}"; this toolkit reads contract '
        f"version {c.CONTRACT_VERSION} only",
    ),
    Rule(
        "MANIFEST-SITE-ID-FORMAT",
        "error",
        c.MANIFEST_FILE,
        "site_id",
        "site_id must be 1 to 16 characters, each a letter A-Z or a-z, a digit, _ or -",
    ),
    Rule(
        "MANIFEST-EXTRACTED-FUTURE",
        "error",
        c.MANIFEST_FILE,
        "extracted_on",
        "extracted_on is later than the day the submission is validated; an extract cannot be "
        "dated in the future",
    ),
]

_PATIENT_RULES = [
    *_required(
        _PAT,
        "patient_id",
        "site_id",
        "sex",
        "birth_year",
        "diagnosis_date",
        "vital_status",
        "last_contact_date",
    ),
    _err(_PAT, "patient_id", "FORMAT", f"patient_id must be {c.ID_PATTERN_WORDS}"),
    _unique(_PAT, "patient_id"),
    _code(_PAT, "sex", c.SEX, optional=False),
    _integer(_PAT, "birth_year"),
    _range(_PAT, "birth_year", f"between {c.BIRTH_YEAR_MIN} and the year of extracted_on"),
    _date(_PAT, "diagnosis_date"),
    _after_extract(_PAT, "diagnosis_date"),
    _code(_PAT, "primary_site", c.PRIMARY_SITE, optional=True),
    _code(_PAT, "m_stage", c.M_STAGE, optional=True),
    _integer(_PAT, "ecog"),
    _range(_PAT, "ecog", f"between {c.ECOG_RANGE[0]} and {c.ECOG_RANGE[1]}"),
    _code(_PAT, "ldh_elevated", c.YES_NO_UNKNOWN, optional=True),
    _code(_PAT, "brain_metastases", c.YES_NO_UNKNOWN, optional=True),
    _code(_PAT, "braf_status", c.BRAF_STATUS, optional=True),
    _code(_PAT, "vital_status", c.VITAL_STATUS, optional=False),
    _date(_PAT, "last_contact_date"),
    _date(_PAT, "death_date"),
    _code(_PAT, "cause_of_death", c.CAUSE_OF_DEATH, optional=True),
    _cross(
        "PAT-SITE-MANIFEST",
        _PAT,
        "site_id",
        "site_id must equal the site_id of manifest.json",
    ),
    _cross(
        "PAT-DIAGNOSIS-BEFORE-BIRTH",
        _PAT,
        "birth_year",
        "birth_year is later than the year of diagnosis_date",
    ),
    _cross(
        "PAT-LAST-CONTACT-BEFORE-DIAGNOSIS",
        _PAT,
        "last_contact_date",
        "last_contact_date is before diagnosis_date",
    ),
    _cross(
        "PAT-LAST-CONTACT-AFTER-EXTRACT",
        _PAT,
        "last_contact_date",
        "last_contact_date is later than the extract date (extracted_on in manifest.json)",
    ),
    _cross(
        "PAT-DEATH-DATE-REQUIRED",
        _PAT,
        "death_date",
        "death_date is required when vital_status is dead",
    ),
    _cross(
        "PAT-DEATH-DATE-NOT-DEAD",
        _PAT,
        "death_date",
        "death_date must be empty unless vital_status is dead",
    ),
    _cross(
        "PAT-DEATH-BEFORE-DIAGNOSIS",
        _PAT,
        "death_date",
        "death_date is before diagnosis_date",
    ),
    _cross(
        "PAT-DEATH-AFTER-EXTRACT",
        _PAT,
        "death_date",
        "death_date is later than the extract date (extracted_on in manifest.json)",
    ),
    _cross(
        "PAT-CAUSE-NOT-DEAD",
        _PAT,
        "cause_of_death",
        "cause_of_death must be empty unless vital_status is dead",
    ),
    _warn(
        "PAT-NO-TREATMENT",
        _PAT,
        "patient_id",
        "the patient has no row in treatments.csv",
    ),
]

_TREATMENT_RULES = [
    *_required(_TRT, "treatment_id", "patient_id", "agent", "start_date"),
    _unique(_TRT, "treatment_id"),
    _date(_TRT, "start_date"),
    _after_extract(_TRT, "start_date"),
    _date(_TRT, "end_date"),
    _after_extract(_TRT, "end_date"),
    _integer(_TRT, "doses"),
    _range(_TRT, "doses", f"at least {c.DOSES_MIN}"),
    _integer(_TRT, "line"),
    _range(_TRT, "line", f"between {c.LINE_RANGE[0]} and {c.LINE_RANGE[1]}"),
    _code(_TRT, "best_response", c.RESPONSE, optional=True),
    _cross(
        "TRT-PATIENT-REF",
        _TRT,
        "patient_id",
        "patient_id does not exist in patients.csv",
    ),
    _cross(
        "TRT-AGENT-UNKNOWN",
        _TRT,
        "agent",
        "agent is not a name of the agent vocabulary (generic, brand or common name)",
    ),
    _cross(
        "TRT-START-BEFORE-DIAGNOSIS",
        _TRT,
        "start_date",
        f"start_date is more than {c.START_BEFORE_DIAGNOSIS_MAX_DAYS} days before the "
        "patient's diagnosis_date",
    ),
    _cross(
        "TRT-START-AFTER-LAST-CONTACT",
        _TRT,
        "start_date",
        "start_date is after the patient's last_contact_date",
    ),
    _cross(
        "TRT-END-BEFORE-START",
        _TRT,
        "end_date",
        "end_date is before start_date",
    ),
    _cross(
        "TRT-END-AFTER-LAST-CONTACT",
        _TRT,
        "end_date",
        "end_date is after the patient's last_contact_date",
    ),
    _cross(
        "TRT-DOSES-REQUIRED",
        _TRT,
        "doses",
        f"doses is required for {c.IL2_AGENT}",
    ),
    _warn(
        "TRT-START-EARLY",
        _TRT,
        "start_date",
        f"start_date is more than {c.START_EARLY_DAYS} days before the patient's "
        "diagnosis_date (metastatic diagnosis); please confirm",
    ),
    _warn(
        "TRT-AFTER-DEATH",
        _TRT,
        "start_date",
        "start_date is after the patient's death_date; please confirm",
    ),
    _warn(
        "TRT-DUPLICATE-COURSE",
        _TRT,
        "start_date",
        "an earlier row has the same patient, agent and start_date; please confirm it is "
        "not a duplicate",
    ),
    _warn(
        "TRT-DOSES-HIGH",
        _TRT,
        "doses",
        f"more than {c.IL2_DOSES_HIGH} doses on one {c.IL2_AGENT} course; please confirm",
    ),
]

_AE_RULES = [
    *_required(
        _AE,
        "ae_id",
        "patient_id",
        "onset_date",
        "term",
        "autoimmune",
        "grade",
        "relatedness",
    ),
    _unique(_AE, "ae_id"),
    _date(_AE, "onset_date"),
    _after_extract(_AE, "onset_date"),
    _code(_AE, "autoimmune", c.YES_NO, optional=False),
    _integer(_AE, "grade"),
    _range(_AE, "grade", f"a CTCAE grade between {c.GRADE_RANGE[0]} and {c.GRADE_RANGE[1]}"),
    _code(_AE, "relatedness", c.RELATEDNESS, optional=False),
    _code(_AE, "outcome", c.AE_OUTCOME, optional=True),
    _cross(
        "AE-PATIENT-REF",
        _AE,
        "patient_id",
        "patient_id does not exist in patients.csv",
    ),
    _cross(
        "AE-ONSET-AFTER-LAST-CONTACT",
        _AE,
        "onset_date",
        "onset_date is after the patient's last_contact_date",
    ),
    _cross(
        "AE-TREATMENT-REF",
        _AE,
        "treatment_id",
        "treatment_id does not exist in treatments.csv for this patient",
    ),
    _cross(
        "AE-OUTCOME-FATAL",
        _AE,
        "outcome",
        "outcome must be fatal when grade is 5, and only then",
    ),
    _warn(
        "AE-GRADE5-NOT-DEAD",
        _AE,
        "grade",
        "a grade 5 (fatal) event on a patient whose vital_status is not dead; please confirm",
    ),
    _warn(
        "AE-BEFORE-TREATMENT",
        _AE,
        "onset_date",
        "onset_date is before the patient's first treatment start_date; please confirm",
    ),
]

_ASSESSMENT_RULES = [
    *_required(_ASM, "patient_id", "assessment_date", "response"),
    _date(_ASM, "assessment_date"),
    _after_extract(_ASM, "assessment_date"),
    _code(_ASM, "response", c.RESPONSE, optional=False),
    _code(_ASM, "method", c.ASSESSMENT_METHOD, optional=True),
    _cross(
        "ASM-PATIENT-REF",
        _ASM,
        "patient_id",
        "patient_id does not exist in patients.csv",
    ),
    _cross(
        "ASM-DATE-BEFORE-DIAGNOSIS",
        _ASM,
        "assessment_date",
        "assessment_date is before the patient's diagnosis_date",
    ),
    _cross(
        "ASM-DATE-AFTER-LAST-CONTACT",
        _ASM,
        "assessment_date",
        "assessment_date is after the patient's last_contact_date",
    ),
    _warn(
        "ASM-AFTER-DEATH",
        _ASM,
        "assessment_date",
        "assessment_date is after the patient's death_date; please confirm",
    ),
]


def _catalog(*groups: list[Rule]) -> dict[str, Rule]:
    catalog: dict[str, Rule] = {}
    for rule in (rule for group in groups for rule in group):
        if rule.id in catalog:
            raise ValueError(f"rule id {rule.id} is defined twice")
        catalog[rule.id] = rule
    return catalog


RULES: dict[str, Rule] = _catalog(
    _FILE_RULES, _PATIENT_RULES, _TREATMENT_RULES, _AE_RULES, _ASSESSMENT_RULES
)


def rules_for(file: str, column: str | None = None) -> list[Rule]:
    """Rules reported on one file (and optionally one column), in catalog order.

    Parameters
    ----------
    file : str
        ``manifest.json`` or a CSV file of the contract.
    column : str, optional
        Restrict to the rules reported on this column.

    Returns
    -------
    list of Rule
        Matching rules; the file-independent ``FILE-*`` rules are not included.
    """
    return [
        rule
        for rule in RULES.values()
        if rule.file == file and (column is None or rule.column == column)
    ]


#: The data-quality dimensions of Kahn et al.'s harmonised framework (eGEMs 2016), as OHDSI's
#: Data Quality Dashboard tags its checks. Every rule here is a *verification* check (against
#: the contract's own expectations, not an external reference).
DIMENSIONS = ("conformance", "completeness", "plausibility")

#: Rule-id endings (or whole ids) by dimension, the first match wins: a value missing where
#: one is required is completeness; a value outside its format, code list or reference is
#: conformance; a value that is well formed but unlikely, out of order or repeated (Kahn's
#: uniqueness plausibility) is plausibility.
_DIMENSION_MARKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "completeness",
        ("-REQUIRED", "FILE-MISSING", "FILE-COLUMN-MISSING", "FILE-NO-ROWS", "PAT-NO-TREATMENT"),
    ),
    (
        "plausibility",
        (
            "-UNIQUE",
            "-RANGE",
            "-HIGH",
            "-AFTER-EXTRACT",
            "-EXTRACTED-FUTURE",
            "-BEFORE-BIRTH",
            "-BEFORE-DIAGNOSIS",
            "-AFTER-LAST-CONTACT",
            "-BEFORE-START",
            "-BEFORE-TREATMENT",
            "-AFTER-DEATH",
            "-NOT-DEAD",
            "-OUTCOME-FATAL",
            "-DUPLICATE-COURSE",
            "-START-EARLY",
        ),
    ),
)


def dimension(rule_id: str) -> str:
    """The Kahn dimension of a rule: ``completeness`` or ``plausibility`` by its id's ending
    (:data:`_DIMENSION_MARKS`), ``conformance`` otherwise."""
    for name, marks in _DIMENSION_MARKS:
        if any(rule_id.endswith(mark) or rule_id == mark for mark in marks):
            return name
    return "conformance"
