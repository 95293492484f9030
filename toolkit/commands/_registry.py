"""The ``--db`` option of the commands that read the registry's history (``status``,
``queries``, ``compare``), and the check that it is there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from toolkit.errors import UsageError

__all__ = ["registry_option", "require_registry"]


def registry_option(command: Callable) -> Callable:
    """``--db``: the registry's DuckDB file."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help="The registry's DuckDB file.",
    )(command)


def require_registry(db_path: Path) -> None:
    """Refuse a registry that does not exist yet, saying how one is made."""
    if not db_path.is_file():
        raise UsageError(f"no registry at {db_path}: run toolkit ingest first")
