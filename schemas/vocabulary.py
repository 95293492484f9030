"""Agent vocabulary of submission contract v1: canonical names, their class, accepted aliases.

The class is derived here, never submitted. Aliases (brand and common names) are matched
case-insensitively after trimming and are normalised to the canonical name.
"""

from __future__ import annotations

import difflib

__all__ = ["AGENT_CLASS", "AGENT_ALIASES", "normalise_agent", "nearest_agents"]

AGENT_CLASS: dict[str, str] = {
    "aldesleukin": "il2",
    "ipilimumab": "ctla4",
    "tremelimumab": "ctla4",
    "nivolumab": "pd1",
    "pembrolizumab": "pd1",
    "cemiplimab": "pd1",
    "atezolizumab": "pdl1",
    "durvalumab": "pdl1",
    "avelumab": "pdl1",
    "vemurafenib": "braf_mek",
    "dabrafenib": "braf_mek",
    "encorafenib": "braf_mek",
    "trametinib": "braf_mek",
    "cobimetinib": "braf_mek",
    "binimetinib": "braf_mek",
    "dacarbazine": "chemo",
    "temozolomide": "chemo",
    "carboplatin": "chemo",
    "paclitaxel": "chemo",
    "interferon_alfa": "other",
    "other": "other",
}

AGENT_ALIASES: dict[str, str] = {
    "proleukin": "aldesleukin",
    "il-2": "aldesleukin",
    "il2": "aldesleukin",
    "hd il-2": "aldesleukin",
    "hd-il2": "aldesleukin",
    "interleukin-2": "aldesleukin",
    "yervoy": "ipilimumab",
    "opdivo": "nivolumab",
    "keytruda": "pembrolizumab",
    "mk-3475": "pembrolizumab",
    "lambrolizumab": "pembrolizumab",
    "libtayo": "cemiplimab",
    "tecentriq": "atezolizumab",
    "imfinzi": "durvalumab",
    "bavencio": "avelumab",
    "zelboraf": "vemurafenib",
    "tafinlar": "dabrafenib",
    "braftovi": "encorafenib",
    "mekinist": "trametinib",
    "cotellic": "cobimetinib",
    "mektovi": "binimetinib",
    "dtic": "dacarbazine",
    "temodar": "temozolomide",
    "taxol": "paclitaxel",
    "interferon alfa": "interferon_alfa",
    "interferon": "interferon_alfa",
    "intron a": "interferon_alfa",
}


def normalise_agent(name: str) -> str | None:
    """Canonical agent name for ``name``, or ``None`` when it is not in the vocabulary."""
    key = name.strip().lower()
    if key in AGENT_CLASS:
        return key
    return AGENT_ALIASES.get(key)


def nearest_agents(name: str, n: int = 3) -> list[str]:
    """Known names closest to an unknown ``name``, for the error message."""
    known = sorted(set(AGENT_CLASS) | set(AGENT_ALIASES))
    return difflib.get_close_matches(name.strip().lower(), known, n=n, cutoff=0.5)
