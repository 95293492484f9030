"""``toolkit validate SUBMISSION [--out DIR] [--json]``: check a site's submission, write the
steward's report.

Writes ``validation.html``, ``findings.json`` and ``queries.csv`` into ``--out`` (default:
``validation-<submission name>`` in the current folder; see :mod:`toolkit.validation_report`)
and prints a short summary, or with ``--json`` the findings document on stdout.

Exit status: 0 accepted (warnings allowed), 1 rejected or unreadable (the report then holds the
one ``SUBMISSION-UNREADABLE`` finding), 2 usage problem. Heavy libraries (polars, pandera,
Jinja2) are imported when the command runs, so ``toolkit --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._output import console, output_options, progress_console
from toolkit.commands._validation_summary import SHOWN_RULES, print_summary
from toolkit.errors import ToolkitError
from toolkit.progress import steps

__all__ = ["command", "SHOWN_RULES", "default_out_dir"]


@click.command(
    name="validate",
    epilog="\b\nExamples:\n"
    "  toolkit validate submissions/S01\n"
    "  toolkit validate S01-2015-09.zip --out checks-S01 --json > findings.json",
)
@click.pass_context
@click.argument(
    "submission",
    type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path),
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for validation.html, findings.json and queries.csv "
    "[default: validation-<submission name>].",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the findings document (JSON) on stdout."
)
@output_options
def command(ctx: click.Context, submission: Path, out_dir: Path | None, as_json: bool) -> None:
    """Validate SUBMISSION (a folder or a .zip) against submission contract v1 and write the
    steward's report: validation.html, findings.json and queries.csv.

    Exit status 0 accepted (warnings allowed), 1 rejected or unreadable, 2 usage problem.
    """
    from toolkit.atomic import check_out_dir, writing
    from toolkit.pipeline import check_submission
    from toolkit.validation_report import findings_json, write_validation_report

    try:
        out = out_dir or default_out_dir(submission)
        check_out_dir(out, "--out", {submission: "the submission"})
        with steps(progress_console(), 2, "validating") as done:
            info, findings = check_submission(submission)
            done("writing the steward's report")
            with writing("--out", out):
                written = write_validation_report(info, findings, out)
            done()
    except ToolkitError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(exc.exit_code)
    accepted = not (findings["severity"] == "error").any()
    if as_json:
        click.echo(findings_json(info, findings), nl=False)
    else:
        print_summary(info, findings, written, console=console())
    ctx.exit(0 if accepted else 1)


def default_out_dir(submission: Path) -> Path:
    """``validation-<name>`` in the current folder; a zip's name without ``.zip``."""
    name = submission.resolve().name
    if submission.is_file() and name.lower().endswith(".zip"):
        name = name[: -len(".zip")]
    return Path(f"validation-{name}")
