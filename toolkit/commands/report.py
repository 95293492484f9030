"""``toolkit report``: the survival report for a data cutoff, from the registry database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from toolkit.errors import UsageError


def parse_cutoff(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--cutoff must be a date YYYY-MM-DD, not {value!r}") from None


@click.command(name="report")
@click.option("--db", "db_path", type=click.Path(path_type=Path), required=True)
@click.option(
    "--study",
    "study_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Study definition (TOML); default: the built-in PROCLAIM analysis.",
)
@click.option("--cutoff", default=None, help="Data cutoff YYYY-MM-DD (default: the study's).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--format", "formats", default="html,pdf", show_default=True)
@click.option(
    "--edition",
    type=click.Choice(["internal", "sponsor"]),
    default="internal",
    show_default=True,
    help="sponsor: no identifiers, month/year dates, ages 90+, small cells suppressed.",
)
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
@click.option(
    "--refreeze",
    is_flag=True,
    help="Use the submissions in force now, not those frozen for this cutoff.",
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
    if suppress_below is not None and suppress_below < 1:
        raise UsageError("--suppress-below must be at least 1")
    files = build_report(
        db_path,
        study_path or builtin_study_path(),
        parse_cutoff(cutoff),
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
