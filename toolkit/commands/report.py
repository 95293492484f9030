"""``toolkit report``: the survival report for a data cutoff, from the registry database."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._cutoff_options import (
    cutoff_options,
    cutoff_used,
    edition_option,
    engine_options,
    parse_cutoff,
    say_if_frozen_behind,
)
from toolkit.commands._output import (
    json_option,
    output_options,
    print_json,
    progress_console,
    say,
)
from toolkit.errors import UsageError


@click.command(
    name="report",
    epilog="\b\nExamples:\n"
    "  toolkit report --db registry.duckdb --cutoff 2015-03-16 --out report\n"
    "  toolkit report --db registry.duckdb --edition sponsor --out sponsor\n"
    "  toolkit report --db registry.duckdb --study braf --format html --out braf\n"
    "  toolkit report --db registry.duckdb --engine spark --spark-url sc://spark:15002 "
    "--out report",
)
@cutoff_options
@engine_options
@click.option(
    "--format",
    "formats",
    default="html,pdf",
    show_default=True,
    help="Which documents to write, comma-separated: html, pdf (results.json always).",
)
@edition_option("sponsor: no identifiers, month/year dates, ages 90+, small cells suppressed.")
@click.option(
    "--suppress-below",
    type=int,
    default=None,
    help="Hide counts from 1 to K-1 (default: 11 for the sponsor edition, none for internal).",
)
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"]),
    default="a4",
    show_default=True,
    help="PDF page size.",
)
@json_option("the cutoff, the edition and the files written")
@output_options
def command(
    db_path: Path,
    study_path: Path,
    cutoff: str | None,
    out_dir: Path,
    formats: str,
    edition: str,
    suppress_below: int | None,
    paper: str,
    refreeze: bool,
    as_json: bool,
    spark=None,
) -> None:
    """Render report.html, report.pdf and results.json for a data cutoff."""
    from toolkit.pipeline import build_report

    wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
    if not wanted or set(wanted) - {"html", "pdf"}:
        raise UsageError("--format takes html, pdf or html,pdf")
    used = cutoff_used(study_path, parse_cutoff(cutoff))
    files = build_report(
        db_path,
        study_path,
        used,
        out_dir,
        formats=wanted,
        edition=edition,
        suppress_below=suppress_below,
        paper=paper,
        refreeze=refreeze,
        console=progress_console(),
        spark=spark,
    )
    newer = say_if_frozen_behind(db_path, used)
    written = {
        kind: str(path)
        for kind, path in (("html", files.html), ("pdf", files.pdf), ("results", files.results))
        if path is not None
    }
    if as_json:
        print_json(
            {
                "cutoff": used.isoformat(),
                "edition": edition,
                "files": written,
                "sites_with_newer_extracts": newer,
            }
        )
        return
    for path in written.values():
        say(path)
