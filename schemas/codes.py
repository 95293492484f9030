"""Code lists, patterns and bounds of submission contract v1, in one place.

The rule catalog (:mod:`schemas.rules`) words its messages from these values and the table
models (:mod:`schemas.patients` and siblings) check against them, so a code list is written once.
"""

from __future__ import annotations

__all__ = [
    "CONTRACT_VERSION",
    "MANIFEST_FILE",
    "CSV_FILES",
    "ROWS_REQUIRED",
    "FILE_PREFIX",
    "TABLE_NAME",
    "DATE_FORMAT",
    "DATE_EXAMPLE",
    "ID_PATTERN",
    "ID_PATTERN_WORDS",
    "NA_LIKE_TOKENS",
    "SEX",
    "PRIMARY_SITE",
    "M_STAGE",
    "YES_NO_UNKNOWN",
    "YES_NO",
    "BRAF_STATUS",
    "VITAL_STATUS",
    "ALIVE_STATES",
    "CAUSE_OF_DEATH",
    "RESPONSE",
    "RELATEDNESS",
    "AE_OUTCOME",
    "ASSESSMENT_METHOD",
    "BIRTH_YEAR_MIN",
    "ECOG_RANGE",
    "LINE_RANGE",
    "GRADE_RANGE",
    "DOSES_MIN",
    "INTEGER_DIGITS_MAX",
    "IL2_AGENT",
    "IL2_DOSES_HIGH",
    "START_BEFORE_DIAGNOSIS_MAX_DAYS",
    "START_EARLY_DAYS",
]

CONTRACT_VERSION = "1"
MANIFEST_FILE = "manifest.json"
CSV_FILES: tuple[str, ...] = (
    "patients.csv",
    "treatments.csv",
    "adverse_events.csv",
    "assessments.csv",
)
ROWS_REQUIRED: tuple[str, ...] = ("patients.csv", "treatments.csv")
"""The files that may not hold only a header (``FILE-NO-ROWS``)."""
FILE_PREFIX: dict[str, str] = {
    "patients.csv": "PAT",
    "treatments.csv": "TRT",
    "adverse_events.csv": "AE",
    "assessments.csv": "ASM",
}
TABLE_NAME: dict[str, str] = {name: name.removesuffix(".csv") for name in CSV_FILES}

DATE_FORMAT = "%Y-%m-%d"
DATE_EXAMPLE = "2015-03-16"
ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
ID_PATTERN_WORDS = "1 to 32 characters, each an ASCII letter (A-Z, a-z), a digit, '_' or '-'"
NA_LIKE_TOKENS: tuple[str, ...] = ("NA", "N/A", "null", "-99", ".")

SEX: tuple[str, ...] = ("F", "M", "U")
PRIMARY_SITE: tuple[str, ...] = ("cutaneous", "acral", "mucosal", "uveal", "unknown_primary")
M_STAGE: tuple[str, ...] = ("M1a", "M1b", "M1c", "M1d")
YES_NO_UNKNOWN: tuple[str, ...] = ("yes", "no", "unknown")
YES_NO: tuple[str, ...] = ("yes", "no")
BRAF_STATUS: tuple[str, ...] = ("mutant", "wildtype", "unknown")
VITAL_STATUS: tuple[str, ...] = ("alive", "dead", "lost_to_follow_up")
ALIVE_STATES: tuple[str, ...] = ("alive", "lost_to_follow_up")
CAUSE_OF_DEATH: tuple[str, ...] = ("melanoma", "treatment_related", "other", "unknown")
RESPONSE: tuple[str, ...] = ("CR", "PR", "SD", "PD", "NE")
RELATEDNESS: tuple[str, ...] = ("related", "possibly_related", "unrelated", "unknown")
AE_OUTCOME: tuple[str, ...] = ("resolved", "ongoing", "fatal", "unknown")
ASSESSMENT_METHOD: tuple[str, ...] = ("RECIST", "irRC", "clinical")

BIRTH_YEAR_MIN = 1900
ECOG_RANGE: tuple[int, int] = (0, 4)
LINE_RANGE: tuple[int, int] = (1, 15)
GRADE_RANGE: tuple[int, int] = (1, 5)
DOSES_MIN = 0
# An integer cell holds at most this many digits, so every valid value fits 64 bits exactly.
INTEGER_DIGITS_MAX = 18

IL2_AGENT = "aldesleukin"
IL2_DOSES_HIGH = 30
START_BEFORE_DIAGNOSIS_MAX_DAYS = 365
START_EARLY_DAYS = 90
