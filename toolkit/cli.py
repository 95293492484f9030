"""The ``toolkit`` command line: a thin group whose commands load only when called.

Each command lives in its own module under ``toolkit.commands``; importing this file imports
none of the heavy libraries, so ``toolkit --help`` answers at once.
"""

from __future__ import annotations

import importlib
import sys

import click

from toolkit.errors import ToolkitError

__all__ = ["main", "run", "cli"]

COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("toolkit.commands.synth", "Write a synthetic registry as site submission folders."),
    "validate": ("toolkit.commands.validate", "Check a submission; write the steward's report."),
    "dictionary": ("toolkit.commands.dictionary", "Write the data dictionary from the schemas."),
    "ingest": ("toolkit.commands.ingest", "Validate a submission and load it into the database."),
    "status": ("toolkit.commands.status", "Every submission per site, and the extract in force."),
    "queries": ("toolkit.commands.queries", "Every query to the sites, open or resolved."),
    "compare": ("toolkit.commands.compare", "What changed between two data cutoffs."),
    "cohort": ("toolkit.commands.cohort", "Export a cutoff's analysis dataset (Parquet, CSV)."),
    "report": ("toolkit.commands.report", "Render the survival report for a data cutoff."),
    "survival": ("toolkit.commands.survival", "Kaplan–Meier and log-rank of a CSV/Parquet file."),
    "demo": ("toolkit.commands.demo", "Synthetic registry to PDF report, in one go."),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[name][0])
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="registry-toolkit")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Registry submission checks, cohort building, survival analysis and reports."""
    if ctx.invoked_subcommand is None:  # bare ``toolkit``: the help, and success
        click.echo(ctx.get_help())


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; every failure becomes one ``error: ...`` line and an exit code.

    A ``ToolkitError`` gives its message and exit code; a click usage problem exit 2; Ctrl-C
    exit 130; an ``OSError`` nobody named more precisely (the last resort) exit 1 with the
    system's reason and the path. No traceback reaches the user.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        with cli.make_context("toolkit", args) as ctx:
            code = cli.invoke(ctx)
    except ToolkitError as error:
        return _fail(str(error), error.exit_code)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        return _fail("aborted", 130)
    except click.ClickException as error:
        error.show()
        return 2 if isinstance(error, click.UsageError) else error.exit_code
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as error:
        from toolkit.atomic import os_error_text

        return _fail(os_error_text(error), 1)
    return code if isinstance(code, int) else 0


def _fail(message: str, code: int) -> int:
    click.echo(f"error: {message}", err=True)
    return code


def _silence_stdout() -> None:
    """The reader of stdout went away (``| head``): say nothing more there, not even at exit."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def run() -> None:
    """Console-script entry point; Ctrl-C even between ``main``'s handlers is one line, 130."""
    try:
        code = main()
    except KeyboardInterrupt:
        code = _fail("interrupted", 130)
    sys.exit(code)
