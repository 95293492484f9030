"""``toolkit ingest``: validate a submission and, when accepted, load it into the database.

A rejected submission gets the summary ``toolkit validate`` prints and the steward's report
(validation.html, findings.json, queries.csv) in ``--report-out`` (default: the folder
``toolkit validate`` uses, ``validation-<submission name>``). With ``--report-out`` the report
is written for an accepted submission too. Exit status: 0 loaded (or already loaded),
1 rejected or failed, 2 usage problem, 130 interrupted (the load is rolled back).
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["command"]


@click.command(name="ingest")
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The registry's DuckDB file (created when missing).",
)
@click.option(
    "--report-out",
    "report_out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the steward's report (always written when given) "
    "[default: validation-<submission name>, written when rejected].",
)
@click.pass_context
def command(ctx: click.Context, submission: Path, db_path: Path, report_out: Path | None) -> None:
    """Validate SUBMISSION (a folder or .zip) and load it when it is accepted."""
    try:
        status = _ingest(submission, db_path, report_out)
    except KeyboardInterrupt:
        raise _interrupted(submission, db_path) from None
    if status in ("rejected", "already-rejected"):
        ctx.exit(1)


def _ingest(submission: Path, db_path: Path, report_out: Path | None) -> str:
    """Check the targets, ingest, print the outcome (and the steward's report); the status."""
    from toolkit.atomic import check_out_dir
    from toolkit.commands.validate import default_out_dir
    from toolkit.ingest import check_ingest_target
    from toolkit.pipeline import ingest_submission, protected_paths

    report_dir = report_out or default_out_dir(submission)
    check_ingest_target(db_path)
    protected = protected_paths(db_path) | {submission: "the submission"}
    check_out_dir(report_dir, "--report-out", protected)
    outcome = ingest_submission(submission, db_path)
    click.echo(outcome.describe())
    rejected = outcome.status == "rejected"
    if outcome.findings is not None and (rejected or report_out is not None):
        _report(outcome, report_dir)
    if outcome.status == "already-rejected":
        click.echo(f"the steward's report: toolkit validate {submission}")
    return outcome.status


def _report(outcome, report_dir: Path) -> None:
    """Write the steward's report and print the summary ``toolkit validate`` prints."""
    from toolkit.atomic import writing
    from toolkit.commands._validation_summary import print_summary
    from toolkit.validation_report import write_validation_report

    with writing("--report-out", report_dir):
        written = write_validation_report(outcome.info, outcome.findings, report_dir)
    print_summary(outcome.info, outcome.findings, written)


def _interrupted(submission: Path, db_path: Path):
    """Ctrl-C outside the load transaction: say whether the submission had been recorded."""
    from toolkit.errors import Interrupted
    from toolkit.ingest import previous_status
    from toolkit.submission import receive

    status = previous_status(db_path, receive(submission).sha256)
    if status is None:
        return Interrupted(f"interrupted: nothing was loaded into {db_path}")
    return Interrupted(f"interrupted, after the submission had been recorded as {status}")
