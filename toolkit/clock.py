"""The one clock of the toolkit: what "today" is when a submission is validated.

:func:`today` is ``datetime.date.today()`` unless the environment variable ``TOOLKIT_TODAY``
holds a date written ``YYYY-MM-DD``; then it is that date. Tests and reruns of an old
validation pin the day with it, also for the command line run in a subprocess::

    TOOLKIT_TODAY=2015-03-20 toolkit validate subs/S01
"""

from __future__ import annotations

import os
import re
from datetime import date

from toolkit.errors import UsageError

__all__ = ["ENV_VAR", "today"]

ENV_VAR = "TOOLKIT_TODAY"
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def today() -> date:
    """The day of validation.

    Returns
    -------
    datetime.date
        The date in ``TOOLKIT_TODAY`` when it is set (and not empty), else the system's local
        date.

    Raises
    ------
    UsageError
        ``TOOLKIT_TODAY`` is set but is not a real day written ``YYYY-MM-DD``.
    """
    pinned = os.environ.get(ENV_VAR, "")
    if not pinned:
        return date.today()
    return _parse(pinned)


def _parse(text: str) -> date:
    """``text`` as a date; a :class:`UsageError` naming the variable when it is not one."""
    problem = f"{ENV_VAR}={text!r} is not a date written YYYY-MM-DD (e.g. 2015-03-20)"
    if not _ISO_DAY.fullmatch(text):
        raise UsageError(f"{problem}; unset it to validate as of today")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{problem}: there is no such day; unset it to use today") from None
