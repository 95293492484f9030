"""The data dictionary for sites, generated at run time from the schemas the validator enforces.

Nothing here is copied from the contract page: every file, column, type, code list, range,
format, description and rule comes from the pandera models (:data:`schemas.models.MODELS`
and :class:`schemas.manifest.ManifestModel`), the rule catalog (:data:`schemas.rules.RULES`),
the code lists (:mod:`schemas.codes`) and the agent vocabulary (:mod:`schemas.vocabulary`). So
the dictionary cannot disagree with validation: change a code list and both change.

Whether a column is required is not read from a flag but observed: a one-row frame of empty
cells is validated against each model, and the columns whose checks fail are the required
ones (with the rule that says so). A column required only in some rows (``death_date`` when the
patient is dead) has a cross-field ``…-REQUIRED`` rule, whose message is shown instead.

:func:`dictionary_context` returns the dictionary as plain data; :func:`write_dictionary` writes
``dictionary.html`` (self-contained) and ``dictionary.pdf`` (WeasyPrint, no date in it, so the
same schemas always give the same bytes).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment

from schemas import codes as c
from schemas.rules import RULES, Rule, column_rule_id, rules_for
from schemas.vocabulary import AGENT_ALIASES, AGENT_CLASS

from .atomic import write_files
from .documents import (
    check_formats,
    document_contents,
    embed_fonts,
    inline_css,
    make_environment,
    render_pdf,
)

__all__ = [
    "DICTIONARY_FILES",
    "dictionary_context",
    "render_dictionary_html",
    "write_dictionary",
    "contract_models",
]

DICTIONARY_FILES: dict[str, str] = {"html": "dictionary.html", "pdf": "dictionary.pdf"}
"""The documents :func:`write_dictionary` renders, with the file each one writes."""
#: The files of the ``csv`` format: for sites that build extracts in a spreadsheet, REDCap or
#: SAS (:mod:`toolkit.dictionary_files`); the templates go into ``templates/``.
TABLE_FILES = {"dictionary": "dictionary.csv", "redcap": "redcap_data_dictionary.csv"}
TEMPLATES_FOLDER = "templates"

_TEMPLATE = "dictionary.html.j2"
_STYLESHEETS = ("document.css", "dictionary.css")
_KIND_LABEL = {"text": "text", "code": "code", "date": "date", "integer": "whole number"}
_STRFTIME_WORDS = {"%Y": "YYYY", "%m": "MM", "%d": "DD"}


def contract_models() -> dict[str, Any]:
    """The pandera model of each submission file, in contract order, as validation uses them."""
    from schemas.manifest import ManifestModel
    from schemas.models import MODELS

    return {c.MANIFEST_FILE: ManifestModel, **MODELS}


def _date_form() -> str:
    """:data:`schemas.codes.DATE_FORMAT` in words: ``%Y-%m-%d`` → ``YYYY-MM-DD``."""
    form = c.DATE_FORMAT
    for directive, words in _STRFTIME_WORDS.items():
        form = form.replace(directive, words)
    return form


def _required_by_model(model: Any) -> dict[str, str]:
    """Columns whose checks refuse an empty cell, with the rule that refuses it.

    Observed, not declared: a one-row frame of empty cells is validated against the model.
    """
    import polars as pl
    from pandera.config import config_context
    from pandera.errors import SchemaErrors

    schema = model.to_schema()
    names = list(schema.columns)
    empty = pl.DataFrame({name: [None] for name in names}, schema=dict.fromkeys(names, pl.String))
    try:
        with config_context(validation_enabled=True, validation_depth="SCHEMA_AND_DATA"):
            schema.validate(empty, lazy=True)
    except SchemaErrors as exc:
        required: dict[str, str] = {}
        for column, rule in exc.failure_cases.select("column", "check").iter_rows():
            required.setdefault(column, rule)
        return required
    return {}


def _catalog_position(rule_id: str) -> int:
    return list(RULES).index(rule_id) if rule_id in RULES else len(RULES)


def _rule_entry(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "severity": rule.severity,
        "file": rule.file,
        "column": rule.column,
        "message": rule.message,
    }


def _column_rules(file: str, name: str, checks: Sequence[str]) -> list[Rule]:
    """The per-column checks of the model and the catalog's rules reported on the column."""
    ids = {check for check in checks if check in RULES}
    ids |= {rule.id for rule in rules_for(file, name)}
    return [RULES[rule_id] for rule_id in sorted(ids, key=_catalog_position)]


def _after_prefix(message: str, column: str) -> str:
    """``"ecog must be between 0 and 4"`` → ``"between 0 and 4"``."""
    return message.removeprefix(f"{column} must be ")


def _values(file: str, name: str, kind: str, meta: Mapping[str, Any], rules: list[Rule]) -> dict:
    """What a cell may hold: codes, the date form, ranges, an identifier format."""
    by_id = {rule.id: rule for rule in rules}
    per_column = file in c.FILE_PREFIX  # the CSV files have <P>-<COLUMN>-<KIND> rules
    notes: list[str] = []
    codes: list[str] = list(meta.get("codes", ()))
    vocabulary = file == "treatments.csv" and name == "agent"
    if kind == "date":
        notes.append(f"{_date_form()}, a real calendar day (e.g. {c.DATE_EXAMPLE})")
    elif kind == "integer":
        notes.append("digits only")
    for key in ("RANGE", "FORMAT") if per_column else ():
        rule = by_id.get(column_rule_id(file, name, key))
        if rule is not None:
            notes.append(_after_prefix(rule.message, name))
    if per_column and column_rule_id(file, name, "UNIQUE") in by_id:
        notes.append("unique in the file")
    if vocabulary:
        codes = []
        notes.append(
            f"a name of the agent vocabulary ({len(AGENT_CLASS)} agents; generic, brand or "
            "common name, any case)"
        )
    return {"codes": codes, "notes": notes, "vocabulary": vocabulary}


def _requirement(
    file: str, name: str, required: Mapping[str, str], rules: list[Rule]
) -> dict[str, Any]:
    """``required``, ``conditional`` (with the rule's words) or ``optional``."""
    if name in required:
        return {"level": "required", "rule": required[name], "text": "required"}
    conditional = [
        rule for rule in rules if rule.id.endswith("-REQUIRED") and rule.severity == "error"
    ]
    if conditional:
        rule = conditional[0]
        return {"level": "conditional", "rule": rule.id, "text": rule.message}
    return {"level": "optional", "rule": None, "text": "optional"}


def _model_summary(model: Any, file: str) -> str:
    """The first paragraph of the model's docstring, without the leading ``<file>:``.

    For ``manifest.json`` (whose model describes a frame, not the file) the words of its
    ``MANIFEST-INVALID`` rule, which say what the file must be.
    """
    if file == c.MANIFEST_FILE:
        text = _after_prefix(RULES["MANIFEST-INVALID"].message, file)
        return text[:1].upper() + text[1:] + "."
    doc = (model.__doc__ or "").strip()
    first = " ".join(doc.split("\n\n")[0].split())
    text = first.removeprefix(f"{file}:").strip()
    return text[:1].upper() + text[1:]


def _file_entry(file: str, model: Any) -> dict[str, Any]:
    schema = model.to_schema()
    required = _required_by_model(model)
    columns = []
    placed: set[str] = set()
    for name, column in schema.columns.items():
        meta = dict(column.metadata or {})
        kind = meta.get("kind", "text")
        rules = _column_rules(file, name, [check.name for check in column.checks])
        placed.update(rule.id for rule in rules)
        columns.append(
            {
                "name": name,
                "kind": kind,
                "type": _KIND_LABEL.get(kind, kind),
                "requirement": _requirement(file, name, required, rules),
                "values": _values(file, name, kind, meta, rules),
                "description": column.description or "",
                "rules": [_rule_entry(rule) for rule in rules],
            }
        )
    whole_file = [rule for rule in rules_for(file) if rule.column is None or rule.id not in placed]
    return {
        "name": file,
        "summary": _model_summary(model, file),
        "columns": columns,
        "file_rules": [_rule_entry(rule) for rule in whole_file],
    }


def _agent_vocabulary() -> list[dict[str, Any]]:
    """Agents grouped by class (in vocabulary order), each with its accepted other names."""
    aliases: dict[str, list[str]] = {}
    for alias, agent in AGENT_ALIASES.items():
        aliases.setdefault(agent, []).append(alias)
    classes: dict[str, list[dict[str, Any]]] = {}
    for agent, agent_class in AGENT_CLASS.items():
        classes.setdefault(agent_class, []).append(
            {"name": agent, "aliases": sorted(aliases.get(agent, []))}
        )
    return [{"class": name, "agents": agents} for name, agents in classes.items()]


def _csv_conventions() -> list[str]:
    from schemas.csv_format import BOM

    na = ", ".join(f"“{token}”" for token in c.NA_LIKE_TOKENS)
    return [
        "Text encoded as UTF-8; a leading byte-order mark "
        f"({' '.join(f'{b:02X}' for b in BOM)}) is tolerated and removed.",
        "Comma-separated, RFC 4180 quoting (a value holding a comma, a quote or a line break "
        'is put in double quotes; a quote inside it is written twice: "").',
        "One header row with exactly the columns of the file, in any order; every row has "
        "the same number of fields; no blank lines.",
        f"An empty cell means missing. No other token means missing: {na} in a code or date "
        "column is an error, and in a free-text column it is kept as text.",
        f"Dates are written {_date_form()} (e.g. {c.DATE_EXAMPLE}) and must be real calendar "
        "days; 03/16/2015, 16.03.2015 or spreadsheet serial numbers are errors.",
        "Codes are written exactly as listed (case and spelling); agent names are the one "
        "exception, matched in any case.",
        "Identifiers are kept byte for byte as text: 00123 stays 00123.",
        "Row numbers in the validation report are as a spreadsheet shows them: the header is "
        "row 1, the first data row is row 2.",
    ]


def dictionary_context() -> dict[str, Any]:
    """The data dictionary as plain data, read from the schemas now.

    Returns
    -------
    dict
        ``contract_version``; ``files`` (per file: ``name``, ``summary``, ``columns`` with type,
        requirement, allowed values, description and rules, and ``file_rules``);
        ``general_rules`` (the ``FILE-*`` rules of every file); ``cross_rules`` and
        ``warnings`` (rules between columns and files, by severity); ``agents`` (the
        vocabulary by class); ``csv`` (the CSV conventions, one sentence each);
        ``rule_count``.
    """
    from schemas.cross import cross_rule_ids

    models = contract_models()
    cross = sorted(cross_rule_ids(), key=_catalog_position)
    return {
        "title": f"Data dictionary: registry submission contract v{c.CONTRACT_VERSION}",
        "contract_version": c.CONTRACT_VERSION,
        "files": [_file_entry(file, model) for file, model in models.items()],
        "general_rules": [_rule_entry(rule) for rule in RULES.values() if rule.file is None],
        "cross_rules": [
            _rule_entry(RULES[rule_id]) for rule_id in cross if RULES[rule_id].severity == "error"
        ],
        "warnings": [_rule_entry(rule) for rule in RULES.values() if rule.severity == "warning"],
        "agents": _agent_vocabulary(),
        "csv": _csv_conventions(),
        "rule_count": len(RULES),
        "toolkit_version": _toolkit_version(),
    }


def _toolkit_version() -> str:
    from toolkit import __version__

    return __version__


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return make_environment()


def render_dictionary_html(context: Mapping[str, Any] | None = None) -> str:
    """``dictionary.html`` as text: self-contained (inline CSS, embedded font subset).

    Parameters
    ----------
    context : mapping, optional
        From :func:`dictionary_context` (read from the schemas now when not given).
    """
    context = context if context is not None else dictionary_context()
    html = (
        _environment()
        .get_template(_TEMPLATE)
        .render(dictionary=context, stylesheet=inline_css(*_STYLESHEETS))
    )
    return embed_fonts(html)


def write_dictionary(
    out_dir: str | os.PathLike[str], formats: Sequence[str] = ("html", "pdf", "csv")
) -> dict[str, Path]:
    """Write ``dictionary.html`` and/or ``dictionary.pdf`` into ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Folder to write into; created if missing. Existing files are replaced atomically.
    formats : sequence of {"html", "pdf", "csv"}
        Which files to write; ``csv``: ``dictionary.csv``, ``redcap_data_dictionary.csv`` and
        ``templates/`` (one header-only CSV per contract file and a ``manifest.json`` example).

    Returns
    -------
    dict of str to pathlib.Path
        The path written for each format.

    Raises
    ------
    UsageError
        If a format is unknown.
    """
    check_formats(formats, {**DICTIONARY_FILES, "csv": ""}, "dictionary")
    context = dictionary_context()
    out = Path(out_dir)
    contents = document_contents(
        render_dictionary_html(context),
        DICTIONARY_FILES,
        [f for f in formats if f != "csv"],
        lambda html: render_pdf(html, title=context["title"]),
    )
    files = {out / DICTIONARY_FILES[kind]: data for kind, data in contents.items()}
    written = {kind: out / DICTIONARY_FILES[kind] for kind in contents}
    if "csv" in formats:
        from toolkit.dictionary_files import dictionary_csv, redcap_csv, template_files

        tables = {"dictionary": dictionary_csv(context), "redcap": redcap_csv(context)}
        for kind, data in tables.items():
            files[out / TABLE_FILES[kind]] = data
            written[kind] = out / TABLE_FILES[kind]
        for name, data in template_files(context).items():
            files[out / TEMPLATES_FOLDER / name] = data
        written["templates"] = out / TEMPLATES_FOLDER
    (out / TEMPLATES_FOLDER if "csv" in formats else out).mkdir(parents=True, exist_ok=True)
    write_files(files)  # every file replaced together, or none
    return written
