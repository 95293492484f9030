"""manifest.json of submission contract v1: who sent the extract, under which contract, when.

The file is one JSON object whose three fields are text::

    {"site_id": "S01", "contract_version": "1", "extracted_on": "2015-03-14"}

:func:`read_manifest` turns the raw bytes into a one-row text frame (or the reasons it cannot)
and :class:`ManifestModel` checks the values with the same named checks as the tables.
Unknown extra fields are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from schemas import codes as c
from schemas import manifest_json
from schemas.checks import field, iso_date, required, rule_check

__all__ = [
    "ManifestModel",
    "ManifestProblem",
    "MANIFEST_FIELDS",
    "SITE_ID_PATTERN",
    "read_manifest",
]

MANIFEST_FIELDS: tuple[str, ...] = ("site_id", "contract_version", "extracted_on")
SITE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,16}$"
"""A site identifier: 1 to 16 ASCII letters, digits, ``_`` or ``-`` (it names folders)."""


class ManifestModel(pa.DataFrameModel):
    """manifest.json as a one-row frame of text."""

    site_id: str = field("Site identifier, e.g. S01.", "text")
    contract_version: str = field(f'Contract version; "{c.CONTRACT_VERSION}".', "text")
    extracted_on: str = field("Date the extract was taken (YYYY-MM-DD).", "date")

    site_id_required = rule_check(
        "site_id",
        "MANIFEST-INVALID",
        lambda v: v.is_not_null() & (v != ""),
        allow_null=False,
        per_value=False,
    )
    # "" is the required rule's to report, not the format's: one finding per root cause
    site_id_format = rule_check(
        "site_id",
        "MANIFEST-SITE-ID-FORMAT",
        lambda v: (v == "") | v.str.contains(SITE_ID_PATTERN),
    )
    contract_version_required = required("contract_version", "MANIFEST-INVALID")
    contract_version_value = rule_check(
        "contract_version", "MANIFEST-VERSION", lambda v: v == c.CONTRACT_VERSION
    )
    extracted_on_required = required("extracted_on", "MANIFEST-INVALID")
    extracted_on_date = iso_date("extracted_on", "MANIFEST-INVALID")


@dataclass(frozen=True)
class ManifestProblem:
    """Why manifest.json, or one of its fields, cannot be read.

    Attributes
    ----------
    column : str or None
        The field concerned; ``None`` for the whole file.
    value : str or None
        The value as sent (JSON text), when there is one.
    detail : str
        The problem in plain words.
    """

    column: str | None
    value: str | None
    detail: str


def read_manifest(raw: bytes) -> tuple[pl.DataFrame | None, list[ManifestProblem]]:
    """Parse manifest.json into a one-row frame of text.

    Parameters
    ----------
    raw : bytes
        The file as sent; a leading UTF-8 BOM is tolerated.

    Returns
    -------
    frame : polars.DataFrame or None
        One row of ``pl.String`` columns: each field of :data:`MANIFEST_FIELDS` that is text or
        absent (null); a field sent as another JSON type is left out and reported as a problem
        instead. ``None`` when the file is not a JSON object at all.
    problems : list of ManifestProblem
        What could not be read: bad encoding or JSON, a field that is not text.
    """
    try:
        document = manifest_json.loads(raw)
    except UnicodeDecodeError:
        return None, [ManifestProblem(None, None, "manifest.json is not UTF-8 text")]
    except json.JSONDecodeError as exc:
        detail = f"manifest.json is not valid JSON ({exc.msg} at line {exc.lineno})"
        return None, [ManifestProblem(None, None, detail)]
    except RecursionError:
        detail = "manifest.json is not valid JSON (too deeply nested)"
        return None, [ManifestProblem(None, None, detail)]
    except manifest_json.RepeatedKey as exc:
        column = exc.key if exc.key in MANIFEST_FIELDS else None
        return None, [ManifestProblem(column, None, f"{exc.name} appears twice; keep one")]
    if not isinstance(document, dict):
        return None, [ManifestProblem(None, None, "manifest.json must hold one JSON object")]
    values: dict[str, str | None] = {}
    problems = []
    for name in MANIFEST_FIELDS:
        value = document.get(name)
        if value is None or isinstance(value, str):
            values[name] = value
            continue
        sent = json.dumps(value)
        problems.append(ManifestProblem(name, sent, f"{name} must be text in double quotes"))
    frame = pl.DataFrame(
        {name: [value] for name, value in values.items()},
        schema={name: pl.String for name in values},
    )
    return frame, problems
