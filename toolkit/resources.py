"""Locate the package's assets (SQL files, templates) in a checkout and in an installed wheel.

A wheel carries them inside the package as ``toolkit/_assets/<name>`` (see ``pyproject.toml``);
a checkout or an editable install keeps them at the top of the repository. ``importlib.resources``
answers for the first, the repository layout for the second; nothing else is guessed.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

__all__ = ["asset_dir", "sql_files", "read_sql", "standalone_sql"]

_ASSET_NAMES = ("queries", "templates")


def asset_dir(name: str) -> Path:
    """Return the folder holding the asset group ``name`` (``queries`` or ``templates``)."""
    if name not in _ASSET_NAMES:
        raise ValueError(f"unknown asset group {name!r}; expected one of {_ASSET_NAMES}")
    installed = resources.files("toolkit") / "_assets" / name
    if installed.is_dir():
        return Path(str(installed))
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the toolkit's {name}/ folder is missing from this installation")


def sql_files() -> list[Path]:
    """All SQL files in run order: layer folders sorted by their number, files by name."""
    root = asset_dir("queries")
    return sorted(root.glob("*/*.sql"), key=lambda p: (p.parent.name, p.name))


def read_sql(relation: str) -> str:
    """The SQL text of one relation, found by file name in any layer."""
    for path in sql_files():
        if path.stem == relation:
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no SQL file defines the relation {relation!r}")


def standalone_sql(relation: str) -> str:
    """The SQL of one relation with every relation of ``queries/`` it reads (and they read)
    inlined as common table expressions, so that it runs on the registry's tables alone."""
    texts = {path.stem: path.read_text(encoding="utf-8") for path in sql_files()}
    if relation not in texts:
        raise FileNotFoundError(f"no SQL file defines the relation {relation!r}")
    order: list[str] = []

    def visit(name: str) -> None:
        code = "\n".join(line.split("--", 1)[0] for line in texts[name].splitlines())
        for other in sorted(texts):
            if other != name and other not in order and re.search(rf"\b{other}\b", code):
                visit(other)
        if name not in order:
            order.append(name)

    visit(relation)
    if len(order) == 1:
        return texts[relation]
    ctes = ",\n".join(f"{name} as (\n{texts[name]}\n)" for name in order[:-1])
    return f"with {ctes}\nselect * from (\n{texts[relation]}\n)"
