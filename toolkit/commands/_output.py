"""What every command prints, and how: ``-q/--quiet`` and ``-v/--verbose``, ``--json``, a rich
console that does not wrap lines when its output is not a terminal, and progress bars only on
a terminal (or with ``--verbose``).

Quiet prints nothing but errors and what ``--json`` asks for; verbose shows the progress even
when the output is piped (a timed line per step).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

__all__ = [
    "console",
    "json_option",
    "output_options",
    "print_json",
    "progress_console",
    "progress_wanted",
    "say",
    "verbosity",
]

_KEY = "toolkit.verbosity"


def _set(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        level = -1 if param.name == "quiet" else 1
        if ctx.meta.get(_KEY, 0) not in (0, level):
            raise click.UsageError("-q/--quiet and -v/--verbose exclude each other")
        ctx.meta[_KEY] = level
    return value


def output_options(command: Callable) -> Callable:
    """``-q/--quiet`` and ``-v/--verbose`` (read back with :func:`verbosity`)."""
    for option in (
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            expose_value=False,
            callback=_set,
            help="Show the progress through the steps, as a timed line each when the output "
            "is not a terminal.",
        ),
        click.option(
            "-q",
            "--quiet",
            is_flag=True,
            expose_value=False,
            callback=_set,
            help="Print nothing but errors (and what --json asks for).",
        ),
    ):
        command = option(command)
    return command


def json_option(what: str) -> Callable:
    """``--json``: print ``what`` as JSON on stdout instead of the human summary."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON.")


def verbosity() -> int:
    """-1 quiet, 0 normal, 1 verbose (0 outside a command)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_KEY, 0) if ctx is not None else 0


def say(text: str, *, err: bool = False) -> None:
    """Print a line unless quiet."""
    if verbosity() >= 0:
        click.echo(text, err=err)


def print_json(document: Any) -> None:
    """The document on stdout, as the ``--json`` of every command prints it."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def console(*, stderr: bool = False) -> Any:
    """A rich console for a command's output: quiet when the command is, and not wrapping
    lines (nor cutting tables to 80 columns) when the output is a pipe or a file."""
    from rich.console import Console

    out = Console(stderr=stderr, quiet=verbosity() < 0)
    if not out.is_terminal:
        out.soft_wrap = True
        out.width = 10_000
    return out


def progress_wanted() -> bool:
    """Whether to draw progress: on a terminal (stderr), or when verbose; never when quiet."""
    level = verbosity()
    return level > 0 or (level == 0 and sys.stderr.isatty())


def progress_console() -> Any:
    """The console progress is drawn on (stderr): quiet unless :func:`progress_wanted`."""
    from rich.console import Console

    return Console(stderr=True, quiet=not progress_wanted())
