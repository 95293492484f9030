"""``toolkit ingest``: validate a submission and, when accepted, load it into the database."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="ingest")
@click.argument("submission", type=click.Path(path_type=Path))
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    required=True,
    help="The registry's DuckDB file (created when missing).",
)
@click.pass_context
def command(ctx: click.Context, submission: Path, db_path: Path) -> None:
    """Validate SUBMISSION (a folder or .zip) and load it when it is accepted."""
    from toolkit.pipeline import ingest_submission

    outcome = ingest_submission(submission, db_path)
    click.echo(outcome.describe())
    if outcome.status in ("rejected", "already-rejected"):
        ctx.exit(1)
