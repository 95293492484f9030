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

from toolkit.commands._output import (
    console,
    json_option,
    output_options,
    print_json,
    progress_console,
    say,
)
from toolkit.commands._validation_summary import print_summary
from toolkit.progress import steps

__all__ = ["command"]


@click.command(
    name="ingest",
    epilog="\b\nExamples:\n"
    "  toolkit ingest submissions/S01 --db registry.duckdb\n"
    '  for site in submissions/*/; do toolkit ingest "$site" --db registry.duckdb; done\n'
    "  toolkit ingest S01-2015-09.zip --db registry.duckdb --json",
)
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
@json_option("the outcome (status, SHA-256, rows loaded, errors and warnings)")
@output_options
@click.pass_context
def command(
    ctx: click.Context, submission: Path, db_path: Path, report_out: Path | None, as_json: bool
) -> None:
    """Validate SUBMISSION (a folder or .zip) and load it when it is accepted."""
    try:
        status = _ingest(submission, db_path, report_out, as_json)
    except KeyboardInterrupt:
        raise _interrupted(submission, db_path) from None
    if status in ("rejected", "already-rejected"):
        ctx.exit(1)


def _ingest(submission: Path, db_path: Path, report_out: Path | None, as_json: bool) -> str:
    """Check the targets, ingest, print the outcome (and the steward's report); the status."""
    from toolkit.atomic import check_out_dir
    from toolkit.commands.validate import default_out_dir
    from toolkit.ingest import check_ingest_target
    from toolkit.pipeline import ingest_submission, protected_paths

    report_dir = report_out or default_out_dir(submission)
    check_ingest_target(db_path)
    protected = protected_paths(db_path) | {submission: "the submission"}
    check_out_dir(report_dir, "--report-out", protected)
    with steps(progress_console(), 3, "reading and archiving the bytes") as done:
        outcome = ingest_submission(submission, db_path, on_step=done)
    rejected = outcome.status == "rejected"
    written = None
    if outcome.findings is not None and (rejected or report_out is not None):
        written = _report(outcome, report_dir)
    if as_json:
        print_json(_outcome_json(outcome, written))
        return outcome.status
    say(outcome.describe())
    if written is not None:
        print_summary(outcome.info, outcome.findings, written, console=console())
    if outcome.status == "already-rejected":
        say(f"the steward's report: toolkit validate {submission}")
    return outcome.status


def _outcome_json(outcome, written: dict | None) -> dict:
    """What ``--json`` prints of an ingest."""
    return {
        "status": outcome.status,
        "sha256": outcome.submission_id,
        "site_id": outcome.site_id,
        "rows": outcome.row_counts,
        "errors": outcome.n_errors,
        "warnings": outcome.n_warnings,
        "report": {kind: str(path) for kind, path in (written or {}).items()},
    }


def _report(outcome, report_dir: Path) -> dict:
    """Write the steward's report; the files written, by kind."""
    from toolkit.atomic import writing
    from toolkit.validation_report import write_validation_report

    with writing("--report-out", report_dir):
        return write_validation_report(outcome.info, outcome.findings, report_dir)


def _interrupted(submission: Path, db_path: Path):
    """Ctrl-C outside the load transaction: say whether the submission had been recorded."""
    from toolkit.errors import Interrupted
    from toolkit.ingest import previous_status
    from toolkit.submission import receive

    status = previous_status(db_path, receive(submission).sha256)
    if status is None:
        return Interrupted(f"interrupted: nothing was loaded into {db_path}")
    return Interrupted(f"interrupted, after the submission had been recorded as {status}")
