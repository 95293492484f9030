"""``toolkit status --db DB [--json]``: every submission each site sent, and what is in force.

Per site, in the order received: the file name, the first digits of its SHA-256, the extract
date, the day received, the outcome with its error and warning counts, whether it is the
extract in force and the data cutoffs that froze it; then the registry's totals. ``--json``
prints the same as one JSON document. Read-only. Exit status: 0, 1 failure (no such registry),
2 usage problem.
"""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._output import console, json_option, output_options, print_json
from toolkit.commands._registry import registry_option, require_registry

__all__ = ["command"]


@click.command(
    name="status",
    epilog="\b\nExamples:\n  toolkit status --db registry.duckdb\n"
    "  toolkit status --db registry.duckdb --json",
)
@registry_option
@json_option("the ledger")
@output_options
def command(db_path: Path, as_json: bool) -> None:
    """Show every submission per site: outcome, extract in force, cutoffs that froze it."""
    from toolkit.ledger import submission_ledger

    require_registry(db_path)
    ledger = submission_ledger(db_path)
    if as_json:
        print_json(ledger)
        return
    _print(ledger)


def _print(ledger: dict) -> None:
    from rich.table import Table

    table = Table(title="Submissions by site", title_justify="left")
    for header in (
        "Site",
        "Submission",
        "SHA-256",
        "Extracted",
        "Received",
        "Outcome",
        "Errors",
        "Warnings",
        "In force",
        "Frozen for cutoffs",
    ):
        table.add_column(header, justify="right" if header in ("Errors", "Warnings") else "left")
    for site in ledger["sites"]:
        for i, entry in enumerate(site["submissions"]):
            table.add_row(
                site["site_id"] if i == 0 else "",
                entry["submission"],
                entry["sha256"],
                entry["extracted_on"] or "–",
                entry["received_on"] or "–",
                entry["status"],
                str(entry["errors"]),
                str(entry["warnings"]),
                "yes" if entry["in_force"] else "",
                ", ".join(entry["cutoffs"]),
                end_section=i == len(site["submissions"]) - 1,
            )
    out = console()
    out.print(table)
    from toolkit.documents import count_of

    totals = ledger["totals"]
    outcomes = ", ".join(f"{n} {status}" for status, n in totals["by_status"].items())
    out.print(
        f"{count_of(totals['submissions'], 'submission')} ({outcomes or 'none'}); "
        f"{count_of(totals['sites_in_force'], 'site')} with an extract in force, "
        f"{count_of(totals['patients_in_force'], 'patient')} in those extracts."
    )
