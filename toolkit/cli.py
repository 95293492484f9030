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


@click.group(cls=LazyGroup)
@click.version_option(package_name="registry-toolkit")
def cli() -> None:
    """Registry submission checks, cohort building, survival analysis and reports."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; a ``ToolkitError`` becomes its message and exit code."""
    try:
        code = cli.main(args=argv, prog_name="toolkit", standalone_mode=False)
    except ToolkitError as error:
        click.echo(f"error: {error}", err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return 2 if isinstance(error, click.UsageError) else error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    return code if isinstance(code, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
