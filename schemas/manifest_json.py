"""manifest.json's bytes as a JSON document: the one parser for the submission and its checks.

Light on purpose (the standard library only): :mod:`toolkit.submission` reads the site from it
before validation, and :mod:`schemas.manifest` turns its failures into findings.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["BOM", "RepeatedKey", "loads"]

BOM = b"\xef\xbb\xbf"


class RepeatedKey(ValueError):
    """A JSON object holds the same key twice (JSON leaves the meaning open)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.name = key if len(key) <= 50 else key[:50] + "…"


def loads(raw: bytes) -> Any:
    """The JSON document in ``raw``; a leading UTF-8 BOM is tolerated.

    Raises
    ------
    UnicodeDecodeError
        ``raw`` is not UTF-8.
    json.JSONDecodeError
        The text is not JSON.
    RecursionError
        The document is nested too deeply for the parser.
    RepeatedKey
        An object holds a key twice.
    """
    return json.loads(raw.removeprefix(BOM).decode("utf-8"), object_pairs_hook=_no_repeated_keys)


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise RepeatedKey(key)
        document[key] = value
    return document
