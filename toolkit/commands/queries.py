"""``toolkit queries --db DB [--site S] [--state open|resolved] [--json] [--out DIR]``: every
query sent to the sites, across their extracts, open until an accepted later extract no longer
breaks the rule for that record.

Without ``--json`` a table per site; with it, one JSON list. ``--out`` writes one
``queries-<site>.csv`` per site (spreadsheet-safe, a column for the site's answer) and
``queries.html``: open queries by site with the age of the oldest (as of today, or
``TOOLKIT_TODAY``), and the queries first seen and resolved per month. Read-only:
the states are derived from the recorded submissions and findings. Exit status: 0, 1 failure,
2 usage problem.
"""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._output import console, json_option, output_options, print_json, say
from toolkit.commands._registry import registry_option, require_registry

__all__ = ["command"]


@click.command(
    name="queries",
    epilog="\b\nExamples:\n"
    "  toolkit queries --db registry.duckdb --state open\n"
    "  toolkit queries --db registry.duckdb --site S01 --out queries-S01\n"
    "  toolkit queries --db registry.duckdb --json",
)
@registry_option
@click.option("--site", default=None, help="Only this site's queries.")
@click.option(
    "--state",
    type=click.Choice(["open", "resolved"]),
    default=None,
    help="Only the queries in this state.",
)
@json_option("the queries")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for one queries-<site>.csv per site and the overview queries.html.",
)
@output_options
def command(
    db_path: Path, site: str | None, state: str | None, as_json: bool, out_dir: Path | None
) -> None:
    """List every query across the sites' extracts, open or resolved."""
    from toolkit.ledger import query_states

    require_registry(db_path)
    found = query_states(db_path, site=site, state=state)
    if out_dir is not None:
        for path in _write_files(found, out_dir):
            say(str(path), err=as_json)
    if as_json:
        print_json(found)
    else:
        _print(found)


def _write_files(found: list[dict], out_dir: Path) -> list[Path]:
    """One queries-<site>.csv per site and the overview queries.html, replaced together."""
    from toolkit.atomic import check_out_dir, write_files, writing
    from toolkit.ledger import QUERY_FIELDS
    from toolkit.tabular import spreadsheet_csv

    check_out_dir(out_dir, "--out")
    header = [*QUERY_FIELDS, "site_answer"]
    by_site: dict[str, list[dict]] = {}
    for query in found:
        by_site.setdefault(query["site_id"] or "unknown", []).append(query)
    files = {}
    for site, queries in by_site.items():
        rows = ({name: _cell(query.get(name)) for name in header} for query in queries)
        files[out_dir / f"queries-{site}.csv"] = spreadsheet_csv(header, rows)
    from toolkit.clock import today
    from toolkit.ledger import queries_overview, render_queries_html

    overview = render_queries_html(queries_overview(found, today()))
    files[out_dir / "queries.html"] = overview.encode("utf-8")
    with writing("--out", out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
        return write_files(files)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return f"{value['submission']} ({value['received_on'] or 'day unknown'})"
    return str(value)


def _print(found: list[dict]) -> None:
    from rich.table import Table

    out = console()
    table = Table(title="Queries", title_justify="left")
    for header in ("Site", "Query", "Patient", "Rule", "State", "First seen", "Last seen"):
        table.add_column(header)
    for query in found:
        table.add_row(
            query["site_id"] or "",
            query["query_id"],
            query["patient_id"] or "",
            query["rule"],
            query["state"],
            _cell(query["first_seen"]),
            _cell(query["last_seen"]),
        )
    out.print(table)
    states = [q["state"] for q in found]
    out.print(f"{states.count('open')} open, {states.count('resolved')} resolved.")
