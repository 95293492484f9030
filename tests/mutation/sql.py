"""A small mutation tester for the cohort SQL (``queries/``), used by ``make mutate``.

mutmut mutates Python only, so the SQL gets its own mutator. It reads each file's tokens
outside comments, string literals and quoted names, and makes one change at a time: a
comparison flipped at its boundary (``<`` ↔ ``<=``, ``>`` ↔ ``>=``, ``=`` ↔ ``<>``), a number
off by one, ``and`` ↔ ``or``, ``asc`` ↔ ``desc``, ``min`` ↔ ``max``, ``least`` ↔
``greatest``, ``is null`` ↔ ``is not null``, a ``not`` dropped, ``+`` ↔ ``-``, an inner join
made a left join and back, a ``distinct`` dropped. Each mutant is named
``layer/file.sql:line:column old → new``.

Each mutant is run against the SQL tests (:data:`TESTS`) in a child forked from a process that
has imported pytest and the toolkit but run nothing, in a scratch copy of the tree (the
checkout is never touched). A mutant is killed when a test fails, errors or times out.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The tests that check the SQL relations (and the report built on them) on hand-written rows.
TESTS = ["tests/queries/test_relations.py", "tests/test_report_context.py"]
#: Seconds a mutant's tests may take (the clean run takes a few).
TIMEOUT = 120

_TOKEN = re.compile(
    r"""
    (?P<skip>--[^\n]*|'(?:[^']|'')*'|"[^"]*")
    | (?P<op><=|>=|<>|!=|<|>|=)
    | (?P<number>(?<![\w.])\d+(?:\.\d+)?(?![\w.]))
    | (?P<word>\b[A-Za-z_][A-Za-z_0-9]*\b)
    | (?P<arith>(?<=\s)[+-](?=\s))
    """,
    re.VERBOSE,
)
_OPERATORS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "=": "<>", "<>": "=", "!=": "="}
_WORDS = {
    "and": "or",
    "or": "and",
    "asc": "desc",
    "desc": "asc",
    "min": "max",
    "max": "min",
    "least": "greatest",
    "greatest": "least",
    "distinct": "",
}
_ARITHMETIC = {"+": "-", "-": "+"}


@dataclass(frozen=True)
class Mutant:
    """One change to one SQL file."""

    path: str  # relative to queries/
    start: int
    end: int
    replacement: str
    name: str

    def apply(self, text: str) -> str:
        return text[: self.start] + self.replacement + text[self.end :]


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _changes(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, replacement) of every mutation point of a SQL text."""
    tokens = [m for m in _TOKEN.finditer(text) if m.lastgroup != "skip"]
    for i, match in enumerate(tokens):
        kind, token = match.lastgroup, match.group()
        lower = token.lower()
        following = tokens[i + 1].group().lower() if i + 1 < len(tokens) else ""
        if kind == "op":
            yield match.start(), match.end(), _OPERATORS[token]
        elif kind == "number":
            yield match.start(), match.end(), str(int(float(token)) + 1)
        elif kind == "arith":
            yield match.start(), match.end(), _ARITHMETIC[token]
        elif kind == "word" and lower in _WORDS:
            yield match.start(), match.end(), _WORDS[lower]
        elif kind == "word" and lower == "is":
            if following == "not":
                yield match.start(), tokens[i + 1].end(), "is"
            elif following == "null":
                yield match.start(), match.end(), "is not"
        elif kind == "word" and lower == "not":
            previous = tokens[i - 1].group().lower() if i else ""
            if previous != "is":
                yield match.start(), match.end(), ""
        elif kind == "word" and lower in ("inner", "left") and following == "join":
            yield match.start(), match.end(), "left" if lower == "inner" else "inner"


def mutants(root: Path) -> list[Mutant]:
    """Every mutant of every SQL file under ``root`` (the ``queries/`` folder)."""
    found = []
    for path in sorted(root.glob("*/*.sql")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(root).as_posix()
        for start, end, replacement in _changes(text):
            line, col = _line_col(text, start)
            old = " ".join(text[start:end].split())
            name = f"{relative}:{line}:{col} {old} → {replacement or '(removed)'}"
            found.append(Mutant(relative, start, end, replacement, name))
    return found


def _run_child(args: list[str]) -> int:
    """Run pytest in a forked child; its exit code (a timeout counts as a failure)."""
    pid = os.fork()
    if pid == 0:  # the child
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        signal.alarm(TIMEOUT)
        import pytest

        os._exit(int(pytest.main(args)))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def run(folder: Path, only: str | None = None) -> dict[str, str]:
    """Mutant name → ``killed`` or ``survived``, run in the scratch tree ``folder``.

    ``only`` limits the run to one file (``layer/file.sql``).
    """
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    import duckdb  # noqa: F401  (imported once here, inherited by every child)
    import pytest  # noqa: F401

    import toolkit.cohort  # noqa: F401

    args = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *TESTS]
    if _run_child(args) != 0:
        raise SystemExit("the SQL tests fail on the unmutated queries: fix them first")
    root = folder / "queries"
    statuses = {}
    for mutant in mutants(root):
        if only and mutant.path != only:
            continue
        path = root / mutant.path
        original = path.read_text(encoding="utf-8")
        path.write_text(mutant.apply(original), encoding="utf-8")
        try:
            statuses[mutant.name] = "survived" if _run_child(args) == 0 else "killed"
        finally:
            path.write_text(original, encoding="utf-8")
    return statuses


if __name__ == "__main__":
    import json

    print(json.dumps(run(Path(sys.argv[1]), *sys.argv[2:3])))
