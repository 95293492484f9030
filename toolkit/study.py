"""The study definition: what is analysed and how, read from TOML and checked strictly.

The definition, not the code, carries the study: index therapy, exclusions, strata rules,
endpoint, landmarks, adverse-event definitions, baseline covariates and the report's texts.
Unknown keys and bad values are errors that name the key. Models are pydantic with
``extra="forbid"``; :func:`load_study` turns their errors into one readable message.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.vocabulary import AGENT_CLASS
from toolkit.errors import UsageError

__all__ = [
    "Study",
    "Stratum",
    "load_study",
    "builtin_study_path",
    "BASELINE_COVARIATES",
    "Covariate",
]

AgentClass = Literal[tuple(sorted(set(AGENT_CLASS.values())))]  # type: ignore[valid-type]
Months = Annotated[float, Field(gt=0)]


@dataclass(frozen=True)
class Covariate:
    """A baseline covariate a study may use: every fact of it that the toolkit needs.

    Attributes
    ----------
    name : str
        Its name in a study definition (``[baseline] covariates``).
    kind : {"continuous", "categorical"}
        How models and Table 1 treat it.
    label : str
        What a reader calls it (Table 1 adds ``unit``).
    adam : str
        Its variable name in the ADTTE export.
    adtte_column : str, optional
        Its column in the analysis dataset when that is not ``name``.
    unit : str, optional
        The unit of a continuous covariate.
    levels : mapping of str to str
        Codes of its own with their labels, in the order the report lists them; other levels
        follow, sorted, with the generic yes/no/unknown/missing labels of the report.
    """

    name: str
    kind: Literal["continuous", "categorical"]
    label: str
    adam: str
    adtte_column: str = ""
    unit: str = ""
    levels: dict[str, str] = field(default_factory=dict)

    @property
    def column(self) -> str:
        """Its column in the analysis dataset (``adtte``)."""
        return self.adtte_column or self.name

    @property
    def table_label(self) -> str:
        """The label of its Table 1 rows: ``"Age at index, years"``."""
        return f"{self.label}, {self.unit}" if self.unit else self.label


BASELINE_COVARIATES: dict[str, Covariate] = {
    covariate.name: covariate
    for covariate in (
        Covariate(
            "age", "continuous", "Age at index", "AGE", adtte_column="age_years", unit="years"
        ),
        Covariate(
            "sex", "categorical", "Sex", "SEX", levels={"F": "Female", "M": "Male", "U": "Unknown"}
        ),
        Covariate(
            "primary_site",
            "categorical",
            "Primary site",
            "PRIMSITE",
            levels={
                "cutaneous": "Cutaneous",
                "acral": "Acral",
                "mucosal": "Mucosal",
                "uveal": "Uveal",
                "unknown_primary": "Unknown primary",
            },
        ),
        Covariate("m_stage", "categorical", "M stage", "MSTAGE"),
        Covariate("ecog", "categorical", "ECOG performance status", "ECOG"),
        Covariate("ldh_elevated", "categorical", "LDH elevated", "LDHELEV"),
        Covariate("brain_metastases", "categorical", "Brain metastases", "BRAINMET"),
        Covariate(
            "braf_status",
            "categorical",
            "BRAF status",
            "BRAF",
            levels={"mutant": "Mutant", "wildtype": "Wild type"},
        ),
    )
}
"""The baseline covariates a study may use, declared once: models, Table 1 and the ADTTE export
read them from here. The categorical ones are columns of the contract's patients.csv;
``tests/test_study.py`` checks that each is carried from the contract through the registry and
the SQL to the analysis dataset."""

BaselineColumn = Literal[
    tuple(n for n, c in BASELINE_COVARIATES.items() if c.kind == "categorical")
]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StudyInfo(_Strict):
    title: str = Field(min_length=1)
    short_title: str = Field(min_length=1, description="running header of the report")
    registry: str = Field(min_length=1)
    default_cutoff: date
    strata_display_order: tuple[str, ...] = Field(
        default=(), description="stratum keys in the order tables and figures show them"
    )


class IndexTherapy(_Strict):
    agent_classes: tuple[AgentClass, ...] = Field(min_length=1)
    min_doses: int = Field(ge=0)
    description: str = Field(min_length=1)


class Exclusions(_Strict):
    prior_agent_classes: tuple[AgentClass, ...] = ()
    description: str = Field(min_length=1)


class BaselineRule(_Strict):
    column: BaselineColumn
    values: tuple[str, ...] = Field(min_length=1)


class Stratum(_Strict):
    """One ordered rule: later therapy of some classes, or a baseline value; or the default."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    later_agent_classes: tuple[AgentClass, ...] = ()
    baseline: BaselineRule | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Stratum:
        if self.later_agent_classes and self.baseline is not None:
            raise ValueError("a stratum rule uses later_agent_classes or baseline, not both")
        return self

    @property
    def is_default(self) -> bool:
        return not self.later_agent_classes and self.baseline is None

    @property
    def depends_on_later_therapy(self) -> bool:
        return bool(self.later_agent_classes)


class Endpoint(_Strict):
    name: str = Field(min_length=1)
    event: str = Field(min_length=1)
    days_per_month: float = Field(gt=0)
    landmarks_months: tuple[Months, ...] = Field(min_length=1)
    at_risk_every_months: Months
    min_at_risk_shown: int = Field(
        default=10,
        ge=0,
        description="no estimate resting on fewer patients at risk is drawn or printed",
    )


class AdverseEvents(_Strict):
    treatment_related: tuple[Literal["related", "possibly_related", "unrelated", "unknown"], ...]
    description: str = Field(min_length=1)
    incidence_at_months: tuple[Months, ...] = Field(
        default=(6, 12),
        min_length=1,
        description="times of the cumulative incidence of the safety event",
    )


class Baseline(_Strict):
    covariates: tuple[Literal[tuple(BASELINE_COVARIATES)], ...]  # type: ignore[valid-type]


class Comparisons(_Strict):
    reference: str | None = Field(
        default=None,
        description="the stratum the others are compared with (default: the default stratum)",
    )


class Texts(_Strict):
    background: str
    conclusions: str


class Study(_Strict):
    """A checked study definition. ``sha256`` identifies the exact file."""

    study: StudyInfo
    index: IndexTherapy
    exclusions: Exclusions
    strata: tuple[Stratum, ...] = Field(min_length=1)
    endpoint: Endpoint
    adverse_events: AdverseEvents
    baseline: Baseline
    texts: Texts
    comparisons: Comparisons = Comparisons()
    sha256: str = ""

    @model_validator(mode="after")
    def _strata_rules(self) -> Study:
        defaults = [s.key for s in self.strata if s.is_default]
        if len(defaults) != 1 or not self.strata[-1].is_default:
            raise ValueError(
                "strata: exactly one rule, the last, must be the default (no condition)"
            )
        keys = [s.key for s in self.strata]
        if len(set(keys)) != len(keys):
            raise ValueError(f"strata: keys must be unique, got {keys}")
        reference = self.comparisons.reference
        if reference is not None and reference not in keys:
            raise ValueError(f"comparisons.reference must be a stratum key, one of {keys}")
        if (
            reference is not None
            and reference != defaults[0]
            and self.strata_depend_on_later_therapy
        ):
            raise ValueError(
                "comparisons.reference: strata defined by later therapy are compared with the "
                f"default stratum ({defaults[0]}), the patients without it"
            )
        shown = self.study.strata_display_order
        if shown and sorted(shown) != sorted(keys):
            raise ValueError(f"study.strata_display_order must list each stratum key once: {keys}")
        return self

    @property
    def strata_for_display(self) -> tuple[Stratum, ...]:
        """Strata in display order (the rule order unless the study says otherwise)."""
        order = self.study.strata_display_order or tuple(s.key for s in self.strata)
        by_key = {s.key: s for s in self.strata}
        return tuple(by_key[key] for key in order)

    @property
    def default_stratum(self) -> str:
        """The key of the default stratum (the last rule, with no condition)."""
        return next(s.key for s in self.strata if s.is_default)

    @property
    def reference_stratum(self) -> str:
        """The key of the stratum the others are compared with."""
        return self.comparisons.reference or self.default_stratum

    @property
    def strata_depend_on_later_therapy(self) -> bool:
        """True when a patient's group depends on what happened after the index date."""
        return any(s.depends_on_later_therapy for s in self.strata)


def builtin_study_path(name: str = "proclaim") -> Path:
    """Path of a study definition shipped with the toolkit."""
    return Path(str(resources.files("toolkit") / "studies" / f"{name}.toml"))


def builtin_studies() -> list[str]:
    """The names of the study definitions shipped with the toolkit."""
    return sorted(p.stem for p in builtin_study_path().parent.glob("*.toml"))


def resolve_study(value: str | Path | None) -> Path:
    """The study definition a command names: a TOML file at any path, or a built-in study by
    name (``braf``); ``None``: the built-in PROCLAIM analysis."""
    if value is None:
        return builtin_study_path()
    path = Path(value).expanduser()
    if path.is_file() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    if str(value) in builtin_studies():
        return builtin_study_path(str(value))
    raise UsageError(
        f"--study {value}: no such file, and no built-in study of that name "
        f"({', '.join(builtin_studies())})"
    )


def load_study(path: Path) -> Study:
    """Read and check a study definition; any problem is a ``UsageError`` naming the key."""
    try:
        raw = path.read_bytes()
        document = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"cannot read the study definition {path}: {error}") from None
    try:
        return Study.model_validate({**document, "sha256": hashlib.sha256(raw).hexdigest()})
    except ValidationError as error:
        raise UsageError(f"the study definition {path} is not valid:\n{_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)
