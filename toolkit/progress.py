"""Progress through a command's steps: a rich bar with the step under way, the steps done of
all, the time elapsed and an estimate of the time left.

A stage reports its steps through a plain callback (``on_step(text)``: the step just done, and
the next one named), so it knows nothing of rich; the command decides whether anything is
drawn (a terminal, or ``--verbose``; never ``--quiet``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["OnStep", "no_steps", "steps"]

#: Called when a step is done, with the name of the next one (``None`` after the last).
OnStep = Callable[[str | None], None]


def no_steps(_next: str | None = None) -> None:
    """The callback of a caller that shows no progress."""


@contextmanager
def steps(console: Any, total: int, first: str) -> Iterator[OnStep]:
    """Draw ``total`` steps on ``console`` (a rich console; quiet or ``None``: nothing; not a
    terminal: a line per step), the first named ``first``; yields the callback that ends one
    step and names the next."""
    if console is None or console.quiet:
        yield no_steps
        return
    if not console.is_terminal:  # a log (--verbose into a pipe): one line per step, timed
        yield _lines(console, total, first)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(first, total=total)

        def done(following: str | None = None) -> None:
            progress.update(task, advance=1, description=following or "done")

        yield done


def _lines(console: Any, total: int, first: str) -> OnStep:
    """Steps as plain lines: ``[2/4 1.3 s] computing survival``."""
    import time

    start, state = time.perf_counter(), {"done": 0}
    console.print(f"[0/{total} 0.0 s] {first}", markup=False, highlight=False)

    def done(following: str | None = None) -> None:
        state["done"] += 1
        elapsed = time.perf_counter() - start
        text = following or "done"
        console.print(f"[{state['done']}/{total} {elapsed:.1f} s] {text}", markup=False,
                      highlight=False)  # fmt: skip

    return done
