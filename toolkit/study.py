"""Read and check a study definition (TOML): what is analysed, how, and the report's texts."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from toolkit.errors import UsageError

__all__ = ["Study", "Stratum", "load_study", "builtin_study_path"]


@dataclass(frozen=True)
class Stratum:
    key: str
    label: str
    agent_classes: tuple[str, ...]


@dataclass(frozen=True)
class Study:
    """A study definition, checked. ``sha256`` identifies the exact file used."""

    title: str
    registry: str
    default_cutoff: date
    index_agent_class: str
    index_description: str
    exclusion_classes: tuple[str, ...]
    exclusion_description: str
    strata: tuple[Stratum, ...]
    endpoint_name: str
    endpoint_event: str
    days_per_month: float
    landmarks_months: tuple[float, ...]
    at_risk_every_months: float
    background: str
    conclusions: str
    sha256: str


def builtin_study_path(name: str = "proclaim") -> Path:
    """Path of a study definition shipped with the toolkit."""
    return Path(str(resources.files("toolkit") / "studies" / f"{name}.toml"))


def load_study(path: Path) -> Study:
    """Parse a study definition; a missing key or a bad value is a ``UsageError`` naming it."""
    try:
        raw = path.read_bytes()
        doc = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"cannot read the study definition {path}: {error}") from None

    def get(section: str, key: str):
        try:
            return doc[section][key]
        except (KeyError, TypeError):
            raise UsageError(f"{path}: missing [{section}] {key}") from None

    strata = tuple(
        Stratum(s["key"], s["label"], tuple(s.get("agent_classes", [])))
        for s in doc.get("strata", [])
    )
    if sum(1 for s in strata if not s.agent_classes) != 1:
        raise UsageError(f"{path}: exactly one [[strata]] rule must have no agent_classes")
    try:
        cutoff = date.fromisoformat(get("study", "default_cutoff"))
    except ValueError:
        raise UsageError(f"{path}: [study] default_cutoff must be a date YYYY-MM-DD") from None
    return Study(
        title=get("study", "title"),
        registry=get("study", "registry"),
        default_cutoff=cutoff,
        index_agent_class=get("index", "agent_class"),
        index_description=get("index", "description"),
        exclusion_classes=tuple(get("exclusions", "prior_agent_classes")),
        exclusion_description=get("exclusions", "description"),
        strata=strata,
        endpoint_name=get("endpoint", "name"),
        endpoint_event=get("endpoint", "event"),
        days_per_month=float(get("endpoint", "days_per_month")),
        landmarks_months=tuple(float(x) for x in get("endpoint", "landmarks_months")),
        at_risk_every_months=float(get("endpoint", "at_risk_every_months")),
        background=get("texts", "background").strip(),
        conclusions=get("texts", "conclusions").strip(),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
