"""``toolkit report``: the survival report for a data cutoff, from the registry database."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._cutoff_options import (
    cutoff_options,
    edition_option,
    parse_cutoff,
    say_if_frozen_behind,
)
from toolkit.errors import UsageError


@click.command(name="report")
@cutoff_options
@click.option("--format", "formats", default="html,pdf", show_default=True)
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
def command(
    db_path: Path,
    study_path: Path | None,
    cutoff: str | None,
    out_dir: Path,
    formats: str,
    edition: str,
    suppress_below: int | None,
    paper: str,
    refreeze: bool,
) -> None:
    """Render report.html, report.pdf and results.json for a data cutoff."""
    from toolkit.pipeline import build_report
    from toolkit.study import builtin_study_path

    wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
    if not wanted or set(wanted) - {"html", "pdf"}:
        raise UsageError("--format takes html, pdf or html,pdf")
    cutoff_date = parse_cutoff(cutoff)
    files = build_report(
        db_path,
        study_path or builtin_study_path(),
        cutoff_date,
        out_dir,
        formats=wanted,
        edition=edition,
        suppress_below=suppress_below,
        paper=paper,
        refreeze=refreeze,
    )
    for path in (files.html, files.pdf, files.results):
        if path is not None:
            click.echo(str(path))
    say_if_frozen_behind(db_path, study_path, parse_cutoff(cutoff))
