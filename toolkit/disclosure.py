"""The sponsor edition of a report context: what may leave the registry, and nothing more.

:func:`sponsor_edition` is a pure function from the internal report context to the sponsor's.
The pipeline applies it *before* the context is saved as ``results.json`` and rendered, so the
sponsor's files hold only what the sponsor may see. The rules:

1. **No patient or site identifiers.** The context never holds patient ids; the provenance
   appendix keeps the number of submissions and sites, the rows accepted per file and the
   validation warnings summed over the sites, and one SHA-256 of the whole submission set. The
   per-site rows (site id, extraction date, SHA-256 of each submission) are removed.
2. **No full dates other than the data cutoff.** Extraction dates become month and year.
3. **Ages above 89 are top-coded** as ``"90+"`` (Table 1 median, quartiles, minimum, maximum).
4. **Small cells are suppressed.** Every count from 1 to ``threshold − 1`` is shown as
   ``"<K"`` (``K`` the threshold) and its percentage is removed (*primary* suppression). Zero is
   shown: it is not a small cell.
5. **Complementary suppression.** A suppressed cell must not be recoverable from a total. The
   additive sets are: the levels of a Table 1 covariate within a column (total: the column n);
   a covariate level across the strata (total: the all-patients column); the missing ages across
   the strata; each adverse-event row across the strata (total: the total column); a group's
   events and censored (total: its n); the numbers at risk, events and censored of each interval
   of the Kaplan–Meier table (total: the previous number at risk), and the same cells across the
   strata (total: all patients); the strata sizes (total: patients analysed); each eligibility
   step (total: the previous step = the patients remaining plus those excluded). The same number
   shown in two places (a group's n and its number at risk at time 0, the number at risk at a
   landmark) is one cell. When exactly one member of a set (its total included) is hidden, the
   smallest other member that is still shown is hidden too, preferring non-zero cells; this
   repeats over all sets until nothing changes. Such cells are shown as ``"*"``. Subtraction
   is not all a reader can do: a ``"<K"`` cell is 1 to K−1 and a ``"*"`` cell 0 or at least
   K, so 60 registered, 58 analysed and two exclusions ``"<11"`` make both 1. Every group of
   hidden cells linked by sets is therefore solved as an integer programme; a small cell with
   one possible value gets one more shown member of the sets near it hidden (the one dragging
   the fewest others), until none has.
6. **Curves stop** at the last at-risk time with at least ``max(threshold, study
   min_at_risk_shown)`` patients at risk (judged on the counts before suppression, so a
   complementary-hidden number at risk does not cut a curve), or before the first interval
   whose deaths are hidden (S(t) / S(t') with the numbers at risk would give them back),
   whichever comes first; the time is kept as ``shown_until``. A curve is published as its
   values at the at-risk times only: each step of a product-limit curve is one death, so its
   steps would count the deaths of an interval one by one. The curves keep no per-step numbers
   at risk or events and no censoring times, and their times and survival are rounded
   (:data:`TIME_DIGITS`, :data:`SURVIVAL_DIGITS`). A complementary cell is, where the set
   allows, not a count of deaths, so that it stops no curve.
7. **Estimates stop with the curves.** A landmark rate, median, quartile, CI limit or RMST that
   refers to a time after ``shown_until`` rests on fewer than K patients at risk and is shown
   as ``"NE (<K at risk)"`` (a CI limit ``"NE"``); so is a median "not reached" once the curve
   stops, since it says where S(t) lies after the stop. A landmark rate that rests on 1 to K−1
   events is ``"NE (<K events)"``: n × (1 − S(t)) would give them back.
8. **Comparisons** keep their hazard ratios, CIs, log-rank tests and p-values, not estimable
   where a compared group (the stratum or its reference; at the landmark for a landmark HR)
   has fewer than K patients. The landmark figure is kept, its groups suppressed as the strata
   are (they add up to the patients at the landmark, who with those excluded before it add up
   to all patients); the Simon–Makuch curves, the raw model results and the adjusted model's
   table are dropped.
9. **Estimates as printed.** Every estimate is kept in the rounding the report prints it
   (months to one decimal, rates as whole percentages, hazard ratios to two decimals), so
   ``results.json`` says no more than the PDF: a median to sixteen digits is an exact event
   day. The RMST's standard error, which the report does not print, is dropped.

The rules are written into the context (``disclosure.rules``) so the report states them.
"""

from __future__ import annotations

import bisect
import copy
import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from toolkit.documents import (
    MONTH_NAMES,
    MONTHS_DECIMALS,
    PERCENT_DECIMALS,
    PERCENT_NEAR_BOUND,
    RATE_DECIMALS,
    RATIO_DECIMALS,
    percent_text,
)

__all__ = [
    "COMPLEMENTARY",
    "DEFAULT_THRESHOLD",
    "estimable_only",
    "sponsor_edition",
    "suppress_cells",
    "primary_marker",
    "top_code_age",
]

#: Default small-cell threshold of the sponsor edition (counts 1–10 are hidden).
DEFAULT_THRESHOLD = 11
#: Age from which ages are top-coded.
AGE_TOP_CODE = 90
#: What a complementary-suppressed cell shows.
COMPLEMENTARY = "*"
#: What a CI limit that lies where too few remain at risk shows.
NOT_ESTIMABLE = "NE"
#: Decimals of the curves' times (months: about 3 days) and survival in a suppressed edition.
TIME_DIGITS = 1
SURVIVAL_DIGITS = 3
#: The curves' per-step counts, which give back every small number of events and at risk.
_PER_EVENT_COUNTS = ("at_risk", "events")


Key = tuple[Hashable, ...]


def primary_marker(threshold: int) -> str:
    """What a primary-suppressed cell shows: ``"<11"`` for threshold 11."""
    return f"<{threshold}"


def suppress_cells(
    values: Mapping[Key, int], sets: Sequence[tuple[Key, Sequence[Key]]], threshold: int
) -> dict[Key, str]:
    """Primary and complementary suppression of counts.

    Parameters
    ----------
    values : mapping of key to int
        Every count shown, by cell key.
    sets : sequence of (total key, cell keys)
        Additive sets: the cells add up to the total. Totals are cells too (they may be hidden).
    threshold : int
        Counts from 1 to ``threshold - 1`` are hidden.

    Returns
    -------
    dict of key to str
        The hidden cells: ``"primary"`` or ``"complementary"``.
    """
    hidden = {key: "primary" for key, value in values.items() if 1 <= value < threshold}
    solved: dict = {}  # a linked group's first pinned cell, kept while the group is unchanged
    rounds: dict[Key, int] = defaultdict(int)  # how often each cell was found pinned
    while True:
        _complete_sets(values, sets, hidden)
        pinned = _a_pinned_cell(values, sets, hidden, threshold, solved) if hidden else None
        if pinned:
            rounds[pinned[0]] += 1
            hurry = rounds[pinned[0]] > _PATIENCE
        picks = (
            _protection(pinned, values, sets, hidden, threshold, solved, hurry) if pinned else []
        )
        if not picks:
            return hidden
        hidden.update(dict.fromkeys(picks, "complementary"))


def _complete_sets(values: Mapping[Key, int], sets: Sequence, hidden: dict) -> None:
    """A set with exactly one hidden member gives it back: hide a second, until none has one."""
    changed = True
    while changed:
        changed = False
        for total, cells in sets:
            members = [total, *cells]
            if sum(key in hidden for key in members) != 1:
                continue
            pick = _complement(members, values, hidden)
            if pick is not None:
                hidden[pick] = "complementary"
                changed = True


#: How many picks :func:`_protection` tries before it takes the first; how many rounds a
#: cell may stay pinned before it takes all it tried (tiny registries: nearly every count is
#: small, and one pick at a time would take hundreds of rounds).
_TRIALS = 8
_PATIENCE = 3


def _protection(
    pinned: tuple[Key, list[int]],
    values: Mapping[Key, int],
    sets: Sequence,
    hidden: Mapping[Key, str],
    threshold: int,
    solved: dict,
    hurry: bool = False,
) -> list[Key]:
    """The shown cells to hide for a pinned one (``pinned``: the cell and the indices of its
    linked group's sets): from its own sets first, then ring by ring from the sets linked to
    those by hidden cells; in a ring, non-zero cells first (a hidden zero among small counts
    is seen to be zero), then the picks that drag the fewest other cells with them, then the
    cheapest (:func:`_complement_rank`). The first pick that leaves the cell more than one
    value is taken; when none of the first few does, the first (all of them in a ``hurry``)."""
    key, linked = pinned
    tried: list[Key] = []
    for pick, trial in _candidates(key, linked, values, sets, hidden):
        if _a_pinned_cell(values, sets, trial, threshold, solved, only=key) is None:
            return [pick]
        tried.append(pick)
        if len(tried) == _TRIALS:
            break
    return tried if hurry else tried[:1]


def _candidates(key: Key, linked: list[int], values: Mapping, sets: Sequence, hidden: Mapping):
    """(pick, hidden cells with it) ring by ring, each ring in :func:`_protection`'s order."""
    for ring in _rings(key, linked, sets, hidden):
        picks = {
            pick
            for i in ring
            if (pick := _complement([sets[i][0], *sets[i][1]], values, hidden)) is not None
        }
        trials = [(pick, _with(pick, values, sets, hidden)) for pick in picks]
        yield from sorted(
            trials, key=lambda p: (values[p[0]] == 0, len(p[1]), *_complement_rank(p[0], values))
        )


def _with(pick: Key, values: Mapping[Key, int], sets: Sequence, hidden: Mapping) -> dict:
    """The hidden cells once ``pick`` is hidden too and the sets are completed."""
    trial = {**hidden, pick: "complementary"}
    _complete_sets(values, sets, trial)
    return trial


def _rings(key: Key, linked: list[int], sets: Sequence, hidden: Mapping):
    """The sets of ``linked`` holding ``key``, then those sharing a hidden cell with them, …"""
    reached, left = {key}, list(linked)
    while left:
        ring = [i for i in left if reached & {sets[i][0], *sets[i][1]}]
        if not ring:
            return
        yield ring
        left = [i for i in left if i not in ring]
        reached |= {k for i in ring for k in (sets[i][0], *sets[i][1]) if k in hidden}


#: An additive set as a reader sees it: its hidden cells with their signs (the total +1, the
#: parts −1), what the shown cells leave for them, and the set's index.
_Equation = tuple[dict[Key, int], int, int]


def _a_pinned_cell(
    values: Mapping[Key, int],
    sets: Sequence,
    hidden: Mapping[Key, str],
    threshold: int,
    solved: dict,
    only: Key | None = None,
) -> tuple[Key, list[int]] | None:
    """A cell hidden as small (or ``only``) whose value is the only one the shown cells allow,
    with the sets of its linked group; None when there is none.

    A reader knows that a ``"<K"`` cell holds 1 to K−1, a ``"*"`` cell 0 or at least K, and
    that every set adds up: two cells ``"<11"`` beside a total and a shown part that differ by
    2 are both 1. (A set whose counts do not add up says nothing certain and is left out.)
    Each group of hidden cells linked by sets is solved as an integer programme
    (HiGHS through :func:`scipy.optimize.milp`): a cell is safe once a solution other than
    the true values moves it. A ``"*"`` cell found is no disclosure: its value is not small.
    """
    bound = 2 * max(values.values(), default=0) + threshold  # above any count, not a reader's fact
    for group in _linked(_equations(values, sets, hidden)):
        if only is not None and not any(only in unknown for unknown, *_ in group):
            continue
        signature = repr([(sorted(u.items(), key=repr), rhs) for u, rhs, _ in group] + [only])
        if signature not in solved:
            programme = _programme(group, values, hidden, threshold, bound)
            solved[signature] = _first_pinned(programme, only)
        if solved[signature] is not None:
            return solved[signature], [index for *_, index in group]
    return None


def _equations(values: Mapping[Key, int], sets: Sequence, hidden: Mapping) -> list[_Equation]:
    """The sets with a hidden member, as a reader sees them."""
    equations = []
    for index, (total, cells) in enumerate(sets):
        coefficients: dict[Key, int] = defaultdict(int)
        coefficients[total] += 1
        for key in dict.fromkeys(cells):
            coefficients[key] -= 1
        unknown = {k: c for k, c in coefficients.items() if c and k in hidden}
        if unknown and not sum(c * values[k] for k, c in coefficients.items()):
            rhs = -sum(c * values[k] for k, c in coefficients.items() if k not in hidden)
            equations.append((unknown, rhs, index))
    return equations


def _linked(equations: list[_Equation]) -> list[list[_Equation]]:
    """The equations grouped by the hidden cells they share (connected components)."""
    parent: dict[Key, Key] = {}

    def root(key: Key) -> Key:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for unknown, *_ in equations:
        first, *rest = unknown
        for key in rest:
            parent[root(key)] = root(first)
    groups: dict[Key, list] = defaultdict(list)
    for equation in equations:
        groups[root(next(iter(equation[0])))].append(equation)
    return list(groups.values())


@dataclass
class _Programme:
    """The integer programme of one linked group: its hidden cells (``keys``), their true
    values, which are small, and the constraints as :func:`scipy.optimize.milp` takes them."""

    keys: list[Key]
    truth: object  # numpy arrays
    primary: object
    sums: object  # the sets' rows over the cells, and what the shown cells leave for them
    rhs: object
    threshold: int
    problem: dict

    def moved(self, objective) -> object | None:
        """Which cells a solution minimising ``objective`` moves off their true values (None
        when the solver's rounded answer is not an exact solution)."""
        import numpy as np
        from scipy.optimize import milp

        switches = self.problem["integrality"].size - len(self.keys)
        x = np.rint(milp(np.r_[objective, np.zeros(switches)], **self.problem).x[: len(self.keys)])
        small = (x >= 1) & (x < self.threshold)
        exact = (self.sums @ x == self.rhs).all() and (x >= 0).all()
        # the solver's tolerances must not let a "*" cell take a value from 1 to K−1
        return x != self.truth if exact and (small == self.primary).all() else None


def _programme(
    equations: list[_Equation],
    values: Mapping[Key, int],
    hidden: Mapping[Key, str],
    threshold: int,
    bound: int,
) -> _Programme:
    """A ``"<K"`` cell is 1 to K−1; a ``"*"`` cell is 0 or K to ``bound``, with a switch
    ``s`` in {0, 1}: K·s ≤ x ≤ bound·s."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint

    keys = list(dict.fromkeys(k for unknown, *_ in equations for k in unknown))
    at = {k: i for i, k in enumerate(keys)}
    starred = [k for k in keys if hidden[k] != "primary"]
    n = len(keys) + len(starred)
    rows = np.zeros((len(equations) + 2 * len(starred), n))
    for r, (unknown, *_) in enumerate(equations):
        for k, c in unknown.items():
            rows[r, at[k]] = c
    rhs = np.array([rhs for _, rhs, _ in equations], dtype=float)
    low = np.r_[rhs, [0, -np.inf] * len(starred)]
    high = np.r_[rhs, [np.inf, 0] * len(starred)]
    for j, k in enumerate(starred):
        r, switch = len(equations) + 2 * j, len(keys) + j
        rows[r, [at[k], switch]] = 1, -threshold
        rows[r + 1, [at[k], switch]] = 1, -bound
    primary = np.array([hidden[k] == "primary" for k in keys])
    lower = np.r_[primary.astype(float), np.zeros(len(starred))]
    upper = np.r_[np.where(primary, threshold - 1, bound), np.ones(len(starred))]
    return _Programme(
        keys=keys,
        truth=np.array([values[k] for k in keys]),
        primary=primary,
        sums=rows[: len(equations), : len(keys)],
        rhs=rhs,
        threshold=threshold,
        problem={
            "constraints": LinearConstraint(rows, low, high),
            "integrality": np.ones(n),
            "bounds": Bounds(lower, upper),
        },
    )


def _first_pinned(programme: _Programme, only: Key | None = None) -> Key | None:
    """The first small cell (or ``only``) that no solution moves off its true value."""
    import numpy as np

    p = programme
    unknown = p.primary if only is None else np.array([k == only for k in p.keys])
    moved = ~unknown

    def solve(objective) -> None:
        nonlocal moved
        if not moved[np.flatnonzero(objective)].all():
            found = p.moved(objective)
            if found is not None:
                moved = moved | found

    spread = np.random.default_rng(0).choice([-1.0, 1.0], size=(4, len(p.keys)))
    for objective in [unknown * 1.0, unknown * -1.0, *(spread * unknown)]:  # most at once
        solve(objective)
    for i in np.flatnonzero(~moved):  # a cell at 1 can only move up, one at K−1 only down
        for sign in (1, -1):
            if p.truth[i] != (1, p.threshold - 1)[sign < 0]:
                solve(np.eye(len(p.keys))[i] * sign)
        if not moved[i]:
            return p.keys[i]
    return None


def _complement_rank(key: Key, values: Mapping[Key, int]) -> tuple:
    """Non-zero cells first, then cells other than deaths, then the smallest."""
    return (values[key] == 0, key[0] in _EVENT_CELLS, values[key], repr(key))


#: Cells of deaths: hiding one stops its group's curve (see :func:`_hidden_events_stop`), so a
#: complementary cell is another kind where the set has one.
_EVENT_CELLS = ("events", "ev")


def _complement(members: list[Key], values: Mapping[Key, int], hidden: Mapping) -> Key | None:
    """The smallest shown member of a set, non-zero cells first, then cells other than deaths;
    the total last."""
    total, *cells = members
    visible = [key for key in dict.fromkeys(cells) if key not in hidden and key != total]
    if visible:
        return min(visible, key=lambda k: _complement_rank(k, values))
    return None if total in hidden else total


#: Counts of a comparison of two cutoffs that the sponsor edition leaves out: the numbers
#: analysed at both cutoffs are published, and their difference is the patients who entered
#: the analysis less those who left it, so one of the two would give back the other.
NET_ONLY = ("patients_left_analysis", "patients_entered_analysis")


def change_totals_shown(totals: Mapping[str, int], threshold: int) -> dict[str, int | str]:
    """The sponsor edition's counts of each kind of change between two cutoffs: a count from 1
    to ``threshold - 1`` as ``"<K"``, and the patients who left and entered the analysis left
    out (:data:`NET_ONLY`)."""
    marker = primary_marker(threshold)
    return {
        name: marker if 1 <= count < threshold else count
        for name, count in totals.items()
        if name not in NET_ONLY
    }


def top_code_age(value: float | None) -> float | str | None:
    """An age, or ``"90+"`` when above 89."""
    if value is None or isinstance(value, str):
        return value
    return f"{AGE_TOP_CODE}+" if value >= AGE_TOP_CODE else value


def month_year(iso: str | None) -> str | None:
    """``"2015-03-20"`` → ``"March 2015"``."""
    if not iso:
        return iso
    year, month = str(iso)[:4], int(str(iso)[5:7])
    return f"{MONTH_NAMES[month - 1]} {year}"


# --- the cells of a context ------------------------------------------------------------------


@dataclass
class _Cells:
    """Counts of a context with where each is written, and the additive sets among them."""

    values: dict[Key, int] = field(default_factory=dict)
    places: dict[Key, list[tuple[dict, str, str | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    sets: list[tuple[Key, list[Key]]] = field(default_factory=list)

    def add(self, key: Key, holder: dict, name: str, pct: str | None = None) -> None:
        value = holder.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            return
        self.values.setdefault(key, value)
        self.places[key].append((holder, name, pct))

    def total(self, total: Key, cells: Sequence[Key]) -> None:
        present = [key for key in cells if key in self.values]
        if total in self.values and present:
            self.sets.append((total, present))


def _group_cells(cells: _Cells, group: dict, key: str | None = None) -> None:
    """A survival group: n, events, censored, numbers at risk, at-risk at the landmarks
    (``key`` names the group's cells when its own key is a stratum's, as at a landmark)."""
    g = key or group["key"]
    cells.add(("n", g), group, "n")
    cells.add(("events", g), group, "events", "events_pct")
    cells.add(("censored", g), group, "censored", "censored_pct")
    cells.total(("n", g), [("events", g), ("censored", g)])
    times = {}
    for i, row in enumerate(group.get("at_risk", [])):
        times[float(row["time"])] = i
        cells.add(("at_risk", g, i), row, "at_risk")
        cells.add(("ev", g, i), row, "events")
        cells.add(("cens", g, i), row, "censored")
        if i == 0:
            cells.total(("n", g), [("at_risk", g, 0)])
        else:
            cells.total(("at_risk", g, i - 1), [("at_risk", g, i), ("ev", g, i), ("cens", g, i)])
    for j, entry in enumerate(group.get("survival_at", [])):
        cells.add(("landmark_at_risk", g, j), entry, "at_risk")
        i = times.get(float(entry["time"]))
        if i is not None:
            cells.total(("at_risk", g, i), [("landmark_at_risk", g, j)])


def _across_strata(cells: _Cells, context: dict) -> None:
    """The strata add up to all patients: sizes, events and every at-risk cell."""
    keys = [g["key"] for g in context.get("strata", [])]
    if not keys:
        return
    for name in ("n", "events", "censored"):
        cells.total((name, "overall"), [(name, k) for k in keys])
    for i in range(len(context["overall"].get("at_risk", []))):
        for name in ("at_risk", "ev", "cens"):
            cells.total((name, "overall", i), [(name, k, i) for k in keys])


def _flow_cells(cells: _Cells, cohort: dict) -> None:
    """Eligibility steps: each step's total is the previous step's patients remaining. A step
    that excludes nobody is no cell (the report does not draw it): its two sides are one
    number, and hiding its 0 would draw an empty step."""
    cells.add(("n", "overall"), cohort, "n_analysed")
    flow = cohort.get("flow", [])
    for i, step in enumerate(flow):
        cells.add(("flow", i), step, "n")
        if step.get("excluded") != 0:
            cells.add(("flow_excluded", i), step, "excluded")
        if i:
            cells.total(("flow", i - 1), [("flow", i), ("flow_excluded", i)])
        for item in cohort.get("excluded", []):
            if item["reason"] == step.get("reason") and item["n"] == step.get("excluded") != 0:
                cells.add(("flow_excluded", i), item, "n")
    if flow:
        cells.total(("n", "overall"), [("flow", len(flow) - 1)])


def _percentages_of_hidden_totals(context: dict, hidden: Mapping[Key, str]) -> None:
    """A percentage whose denominator is hidden gives it back (n / pct): it is removed too."""
    for group in [context["overall"], *context.get("strata", [])]:
        if ("n", group["key"]) in hidden:
            for name in ("events_pct", "censored_pct"):
                if name in group:
                    group[name] = None
    table = context.get("table1") or {}
    keys = [g["key"] for g in table.get("groups", [])]
    for covariate in table.get("covariates", []):
        for level in covariate["levels"]:
            for cell, g in zip(level["cells"], keys, strict=True):
                if ("n", g) in hidden:
                    cell["pct"] = None
    safety = context.get("safety") or {}
    keys = [c["key"] for c in safety.get("columns", [])]
    for row in safety.get("rows", []):
        for cell, g in zip(row["cells"], keys, strict=True):
            if ("n", g) in hidden:
                cell["pct"] = None
        if ("safety_N", row["key"]) in hidden:
            row["total"]["pct"] = None


def _followup_of_few(context: dict, min_at_risk: int, marker: str) -> None:
    """A group of fewer than ``min_at_risk`` patients has no median follow-up: its reverse
    Kaplan–Meier curve rests on them all (judged before suppression)."""
    groups = [(context["overall"], context.get("followup"))]
    groups += [(group, group.get("followup")) for group in context.get("strata", [])]
    for group, followup in groups:
        if followup and _below(group.get("n"), min_at_risk):
            followup["median"] = marker
            followup["ci"] = [NOT_ESTIMABLE, NOT_ESTIMABLE]


def _delays_of_few(context: dict) -> None:
    """Where the patients who started the later therapy after the index date are hidden, so
    is what is known of their delays (a median of fewer than K; a sum)."""
    evidence = ((context.get("comparisons") or {}).get("immortal_time") or {}).get("evidence")
    if evidence and isinstance(evidence["overall"]["started_after_index"], str):
        for name in ("median_delay_months", "immortal_person_months", "share_of_follow_up"):
            evidence["overall"][name] = None


def _landmark_key(figure: dict, group: dict) -> str:
    return f"landmark {figure['landmark']:g}: {group['key']}"


def _landmark_cells(cells: _Cells, figure: dict | None, n_overall: int | None) -> None:
    """The landmark figure: each group's cells, the groups adding up to the patients at risk at
    the landmark, the excluded (died + censored before it) adding up with them to all
    patients."""
    if not figure:
        return
    keys = [_landmark_key(figure, group) for group in figure["groups"]]
    for group, key in zip(figure["groups"], keys, strict=True):
        _group_cells(cells, group, key)
    cells.add(("landmark_n",), figure, "n_at_risk")
    excluded = figure["excluded"]
    for name in ("total", "died", "censored"):
        cells.add(("landmark_excluded", name), excluded, name)
    cells.total(
        ("landmark_excluded", "total"),
        [("landmark_excluded", "died"), ("landmark_excluded", "censored")],
    )
    cells.total(("landmark_n",), [("n", key) for key in keys])
    parts = (figure["n_at_risk"], excluded["total"])
    if all(isinstance(v, int) for v in (n_overall, *parts)) and n_overall == sum(parts):
        cells.total(("n", "overall"), [("landmark_n",), ("landmark_excluded", "total")])


def _other_cells(cells: _Cells, context: dict) -> None:
    """Follow-up's n (the patients analysed) and the rows accepted per file (the patients'
    rows are the registry's first eligibility step)."""
    if context.get("followup"):
        cells.add(("n", "overall"), context["followup"], "n")
    for group in context.get("strata", []):
        if group.get("followup"):
            cells.add(("n", group["key"]), group["followup"], "n")
    rows = (context.get("provenance") or {}).get("rows_total") or {}
    for name in rows:
        cells.add(("rows", name), rows, name)
    flow = context["cohort"].get("flow", [])
    if "patients" in rows and flow and rows["patients"] == flow[0]["n"]:
        cells.total(("flow", 0), [("rows", "patients")])
    since = (context.get("provenance") or {}).get("since_previous") or {}
    for name in since:
        cells.add(("since_previous", name), since, name)
    _immortal_time_cells(cells, context)


def _immortal_time_cells(cells: _Cells, context: dict) -> None:
    """The later-therapy patients are the later-therapy strata; those who started at the index
    date (not printed, but the difference of two printed counts) are a cell too."""
    evidence = ((context.get("comparisons") or {}).get("immortal_time") or {}).get("evidence")
    if not evidence:
        return
    o = evidence["overall"]
    cells.add(("immortal_time", "patients"), o, "patients")
    cells.add(("immortal_time", "started"), o, "started_after_index")
    later = [("n", g["key"]) for g in context.get("strata", []) if g.get("later_therapy")]
    cells.total(("immortal_time", "patients"), later)
    if all(isinstance(o[k], int) for k in ("patients", "started_after_index")):
        at_index = {"n": o["patients"] - o["started_after_index"]}  # printed nowhere
        cells.add(("immortal_time", "at_index"), at_index, "n")
        cells.total(
            ("immortal_time", "patients"),
            [("immortal_time", "started"), ("immortal_time", "at_index")],
        )


def _table1_cells(cells: _Cells, table: dict) -> None:
    """Table 1: levels within a column, and a level across the strata."""
    groups = [g["key"] for g in table["groups"]]
    for holder in table["groups"]:
        cells.add(("n", holder["key"]), holder, "n")
    strata = [g for g in groups if g != "overall"]
    for covariate in table["covariates"]:
        c = covariate["key"]
        for level in covariate["levels"]:
            for cell, g in zip(level["cells"], groups, strict=True):
                cells.add(("t1", c, level["key"], g), cell, "n", "pct")
            if "overall" in groups:
                cells.total(
                    ("t1", c, level["key"], "overall"), [("t1", c, level["key"], g) for g in strata]
                )
        for g in groups:
            cells.total(("n", g), [("t1", c, level["key"], g) for level in covariate["levels"]])
    age = table.get("age")
    if age:
        for cell, g in zip(age["cells"], groups, strict=True):
            cells.add(("age_missing", g), cell, "n_missing")
        if "overall" in groups:
            cells.total(("age_missing", "overall"), [("age_missing", g) for g in strata])


def _safety_cells(cells: _Cells, safety: dict, strata: list[dict]) -> None:
    """Adverse-events rows across the strata, and the same counts in the strata's ``counts``;
    the cumulative incidence's group sizes are the strata's."""
    keys = [c["key"] for c in safety["columns"]]
    for column in safety["columns"]:
        cells.add(("n", column["key"]), column, "n")
    for group in (safety.get("incidence") or {}).get("groups", []):
        cells.add(("n", group["key"]), group, "n")
    by_key = {g["key"]: g for g in strata}
    for row in safety["rows"]:
        r, applies = row["key"], []
        for cell, g in zip(row["cells"], keys, strict=True):
            cells.add(("n", g), cell, "N")
            if cell.get("n") is None:  # a row that does not apply to the stratum
                continue
            applies.append(g)
            cells.add(("safety", r, g), cell, "n", "pct")
            if g in by_key:
                cells.add(("safety", r, g), by_key[g]["counts"], r)
        cells.add(("safety", r, "total"), row["total"], "n", "pct")
        cells.add(("safety_N", r), row["total"], "N")
        over = row.get("total_over", applies)  # the strata with the row's window
        cells.total(("safety", r, "total"), [("safety", r, g) for g in over])
        cells.total(("safety_N", r), [("n", g) for g in over])


def _incidence_without_counts(safety: dict | None, threshold: int, min_at_risk: int) -> None:
    """The cumulative incidence and rates of the safety event without their counts.

    The events, deaths, patients at risk and person-years are dropped (a rate times the
    person-years gives the events back). An estimate resting on 1 to ``threshold - 1`` events is
    ``"NE (<K events)"``, and a cumulative incidence at a time with fewer than ``min_at_risk``
    at risk ``"NE (<m at risk)"``; so is Gray's test of a stratum under ``min_at_risk``.
    """
    incidence = (safety or {}).get("incidence")
    if not incidence:
        return
    few = f"NE (<{threshold} events)"
    for group in incidence["groups"]:
        if 1 <= group["events"] < threshold:
            group["rate"], group["rate_ci"] = few, [None, None]
        for entry in group["at"]:
            if entry["at_risk"] < min_at_risk:  # also one the study's smaller minimum hid
                entry["estimate"], entry["ci"] = not_estimable(min_at_risk), [None, None]
            elif isinstance(entry["estimate"], str):
                pass
            elif 1 <= entry["events"] < threshold:
                entry["estimate"], entry["ci"] = few, [None, None]
            entry["at_risk"] = entry["events"] = None
        group.update(events=None, deaths_before=None, person_years=None)
    gray = incidence["gray"]
    sizes = {g["key"]: g["n"] for g in incidence["groups"]}
    if gray and any(_below(sizes.get(k), min_at_risk) for k in gray["keys"]):
        gray.update(statistic=None, p=not_estimable(min_at_risk))


def _collect(context: dict) -> _Cells:
    cells = _Cells()
    for group in [context["overall"], *context.get("strata", [])]:
        _group_cells(cells, group)
    _across_strata(cells, context)
    _flow_cells(cells, context["cohort"])
    _other_cells(cells, context)
    _landmark_cells(
        cells, (context.get("aware_figures") or {}).get("landmark"), context["overall"].get("n")
    )
    if context.get("table1"):
        _table1_cells(cells, context["table1"])
    if context.get("safety"):
        _safety_cells(cells, context["safety"], context.get("strata", []))
    return cells


# --- the other rules -------------------------------------------------------------------------


def _top_code_ages(table: dict | None) -> None:
    if not table or not table.get("age"):
        return
    for cell in table["age"]["cells"]:
        for name in ("median", "q1", "q3", "minimum", "maximum"):
            cell[name] = top_code_age(cell.get(name))


def _provenance(provenance: dict | None) -> dict | None:
    """Counts and the set's hash only: no site ids, no per-site rows, no full dates."""
    if provenance is None:
        return None
    out = {
        **provenance,
        "extracted_from": month_year(provenance.get("extracted_from")),
        "extracted_to": month_year(provenance.get("extracted_to")),
        "submissions": [],
    }
    since = provenance.get("since_previous")
    if since:  # a registry date, as month and year like the others
        out["since_previous"] = {**since, "previous_cutoff": month_year(since["previous_cutoff"])}
    return out


def _visible_until(group: dict, min_at_risk: int) -> float:
    """Last at-risk time with a shown number at risk of at least ``min_at_risk``."""
    stop = math.inf
    previous = None
    for row in group.get("at_risk", []):
        value = row["at_risk"]
        if isinstance(value, str) or value < min_at_risk:
            return previous if previous is not None else float(row["time"])
        previous = float(row["time"])
    return stop


def _hidden_events_stop(group: dict) -> float:
    """The last at-risk time before the first interval whose events are hidden (``inf`` if
    none is): S(t) there and after would give the hidden events back, S(t) / S(t') ≈ 1 − d / n
    with the numbers at risk shown."""
    previous = None
    for row in group.get("at_risk", []):
        if isinstance(row.get("events"), str):
            return previous if previous is not None else float(row["time"])
        previous = float(row["time"])
    return math.inf


def _cut_curve(group: dict, stop: float) -> None:
    """The curve as its values at the at-risk times up to ``stop``, rounded as the figure draws
    them: a step of the product-limit curve is one death, so steps between those times would
    count deaths that the at-risk table hides, and the per-step counts and the censoring times
    go too. Record ``stop`` as ``shown_until``."""
    curve = group.get("curve") or {}
    times = curve.get("time", [])
    ticks = [float(r["time"]) for r in group.get("at_risk", []) if float(r["time"]) <= stop]
    if not group.get("at_risk"):  # no at-risk table: the steps up to the stop, as they are
        ticks = [t for t in times if t <= stop]
    elif times and (not ticks or ticks[0] > times[0]):  # the curve's start (S = 1) is known
        ticks.insert(0, float(times[0]))
    for name in _PER_EVENT_COUNTS:
        curve.pop(name, None)
    # the last step at or before each tick (times are sorted); None before the curve starts
    at = [i if i >= 0 else None for i in (bisect.bisect_right(times, t) - 1 for t in ticks)]
    for name, values in list(curve.items()):
        if name == "time":
            curve[name] = [
                round(t, TIME_DIGITS) for t, i in zip(ticks, at, strict=True) if i is not None
            ]
            continue
        curve[name] = [
            None if values[i] is None else round(values[i], SURVIVAL_DIGITS)
            for i in at
            if i is not None
        ]
    group["censor_marks"] = {"time": [], "survival": []}
    group["shown_until"] = stop if math.isfinite(stop) else None


def not_estimable(threshold: int) -> str:
    """What an estimate resting on fewer than ``threshold`` patients at risk shows."""
    return f"NE (<{threshold} at risk)"


def _estimates_until(group: dict, stop: float, marker: str) -> None:
    """Every estimate of a group that refers to a time after ``stop`` becomes ``marker`` (a
    CI limit ``"NE"``): landmark rates, the median and quartiles. A median "not reached" is
    not estimable either once the curve stops, since it says where S(t) is after ``stop``."""
    if not math.isfinite(stop) or group.get("n") == 0:  # a group without patients has none
        return
    for entry in group.get("survival_at", []):
        if entry["time"] > stop and not isinstance(entry.get("estimate"), str):
            entry["estimate"], entry["ci"] = marker, [None, None]
    for quantile in group.get("quantiles", []):
        quantile["time"], quantile["ci"] = _limited(quantile["time"], quantile["ci"], stop, marker)
    if "median" in group:
        group["median"], group["median_ci"] = _limited(
            group["median"], group["median_ci"], stop, marker
        )


def _events_by(group: dict) -> dict[float, int]:
    """The events up to each landmark time of a group, from its curve's per-step events."""
    curve = group.get("curve") or {}
    times, events = curve.get("time", []), curve.get("events")
    if events is None:  # a curve without per-step events (already published) gives none
        return {}
    return {
        entry["time"]: int(sum(e for t, e in zip(times, events, strict=True) if t <= entry["time"]))
        for entry in group.get("survival_at", [])
    }


def _rates_from_few_events(group: dict, events_by: dict[float, int], threshold: int) -> None:
    """A landmark rate that rests on 1 to ``threshold - 1`` events gives them back (n × (1 − S)
    when no one was censored before): it is shown as ``"NE (<K events)"``."""
    for entry in group.get("survival_at", []):
        if 1 <= events_by.get(entry["time"], 0) < threshold and not isinstance(
            entry["estimate"], str
        ):
            entry["estimate"], entry["ci"] = f"NE (<{threshold} events)", [None, None]


def _limited(time, ci: list, stop: float, marker: str) -> tuple:
    """A quantile and its CI with whatever lies after ``stop`` (or is not reached) hidden."""
    if time is None or isinstance(time, str) or time > stop:  # (text: not estimable already)
        return (time if isinstance(time, str) else marker), [None, None]
    return time, [
        limit
        if limit is not None and not isinstance(limit, str) and limit <= stop
        else NOT_ESTIMABLE
        for limit in ci
    ]


def _rmst_until(rmst: dict | None, stops: dict[str, float], marker: str) -> None:
    """An RMST up to a horizon after a group's curve stop is not estimable."""
    if not rmst or rmst.get("tau") is None:
        return
    cells = {"overall": rmst.get("overall"), **(rmst.get("strata") or {})}
    for key, cell in cells.items():
        if cell is not None and rmst["tau"] > stops.get(key, math.inf):
            cell.update(estimate=marker, ci=[None, None], se=None)
    reference_stop = stops.get(rmst.get("reference"), math.inf)
    for key, cell in (rmst.get("differences") or {}).items():
        if rmst["tau"] > min(stops.get(key, math.inf), reference_stop):
            cell.update(estimate=marker, ci=[None, None], p=None)


def _comparisons_without_counts(context: dict, min_at_risk: int, marker: str) -> None:
    """Keep the comparisons' estimates (hazard ratios, CIs, p-values) and the landmark figure;
    drop the other counts.

    The raw model results, the adjusted model's table, the Simon–Makuch curves and the
    landmark risk-set sizes of the table hold counts outside the additive sets above (patients
    entering a group, patients excluded at each landmark or for a missing covariate), so the
    sponsor edition shows none of them. The tests and hazard ratios follow
    :func:`_comparisons_estimable`.
    """
    _comparisons_estimable(context, min_at_risk, marker)
    for row in context.get("comparison_rows", []):
        for landmark in row["landmarks"]:
            landmark["n_at_risk"] = None
    if "adjusted_model" in context:
        context["adjusted_model"] = None
    if "comparisons" in context:
        immortal = context["comparisons"].get("immortal_time") or {}
        context["comparisons"] = {
            "immortal_time": {
                "depends_on_post_index": immortal.get("depends_on_post_index"),
                "evidence": _immortal_time_overall(immortal.get("evidence")),
            }
        }
    if "aware_figures" in context:
        context["aware_figures"]["simon_makuch"] = []


def _immortal_time_overall(evidence: dict | None) -> dict | None:
    """The immortal time of all later-therapy patients as page 1 prints it: patients, those
    who started after the index date, the median delay, the person-months and their share of
    the follow-up (no minimum or maximum: each is one patient's delay); per stratum it is not
    kept. The counts are suppressed with the strata (:func:`_immortal_time_cells`)."""
    if not evidence:
        return None
    o = evidence["overall"]
    return {
        "overall": {
            "patients": o["patients"],
            "started_after_index": o["started_after_index"],
            "median_delay_months": _months_shown(o["median_delay_months"]),
            "immortal_person_months": _fixed(0)(o["immortal_person_months"]),
            "share_of_follow_up": _fixed(2)(o["share_of_follow_up"]),
        }
    }


def _comparisons_estimable(context: dict, min_at_risk: int, marker: str) -> None:
    """A hazard ratio or log-rank test (in the comparisons table and among the tests) of a
    stratum, or of its reference, with fewer than ``min_at_risk`` patients (at the landmark,
    for a landmark HR) is not estimable."""
    sizes = {g["key"]: g.get("n") for g in context.get("strata", [])}
    at_landmarks = {
        lm["landmark"]: {g["key"]: g["n"] for g in lm.get("groups", [])}
        for lm in (context.get("comparisons") or {}).get("landmarks") or []
    }
    labels = {g.get("label"): g["key"] for g in context.get("strata", [])}
    for row in context.get("comparison_rows", []):
        pair = (row["key"], labels.get(row.get("reference_label")))
        small = any(_below(sizes.get(k), min_at_risk) for k in pair)
        if small and row.get("logrank_p_holm") is not None:
            row["logrank_p_holm"] = marker  # the pair's log-rank test, as strata_tests shows it
        for name in ("naive", "adjusted", "time_varying"):
            if small and row.get(name):
                row[name] = _not_estimable_hr(row[name], marker)
        for landmark in row["landmarks"]:
            n = at_landmarks.get(landmark["landmark"], {})
            if small or any(_below(n.get(k), min_at_risk) for k in pair):
                landmark.update(_not_estimable_hr(landmark, marker))
    for test in (context.get("strata_tests") or {}).get("logrank", []):
        if any(_below(sizes.get(k), min_at_risk) for k in test["keys"]):
            test.update(statistic=None, p=marker, p_holm=None if test["p_holm"] is None else marker)


def _below(n: int | None, minimum: int) -> bool:
    """A group size under ``minimum`` (a missing group counts as none)."""
    return n is None or n < minimum


def _not_estimable_hr(cell: dict, marker: str) -> dict:
    return {**cell, "hr": marker, "ci": [None, None], "p": None}


# --- the published rounding -------------------------------------------------------------------


_PERCENTAGES = (
    (
        "whole percentages"
        if PERCENT_DECIMALS == 0
        else f"percentages to {PERCENT_DECIMALS} decimals"
    )
    + f" (one decimal more below {100 * PERCENT_NEAR_BOUND:g}% and above "
    f"{100 - 100 * PERCENT_NEAR_BOUND:g}%)"
)


def _fixed(decimals: int):
    """A number as the report prints it with ``decimals`` decimals (``17.8398`` → ``17.8`` for
    one); text and None as they are."""

    def shown(value):
        return float(f"{value:.{decimals}f}") if isinstance(value, float | int) else value

    return shown


#: Durations (months), incidence rates, and hazard ratios, their CI limits and test statistics.
_months_shown = _fixed(MONTHS_DECIMALS)
_rate_shown = _fixed(RATE_DECIMALS)
_ratio_shown = _fixed(RATIO_DECIMALS)


def _proportion_shown(value):
    """A proportion as its printed percentage (``0.6618`` → ``0.66`` for "66%")."""
    if not isinstance(value, float | int):
        return value
    return float(percent_text(value)) / 100


def _round(holder: dict | None, name: str, shown) -> None:
    """Apply ``shown`` to ``holder[name]`` (each item of a list), when it is there."""
    if holder is None or name not in holder:
        return
    value = holder[name]
    holder[name] = [shown(v) for v in value] if isinstance(value, list) else shown(value)


def _as_published(out: dict, groups: list[dict]) -> None:
    """Every estimate in the rounding the report prints it, and nothing finer: a median to the
    day is an exact event time, a survival rate to 16 digits a ratio of counts. The RMST's
    standard error is not printed (its CI is) and is dropped."""
    for group in groups:
        for name in ("median", "median_ci"):
            _round(group, name, _months_shown)
        for quantile in group.get("quantiles", []):
            _round(quantile, "time", _months_shown)
            _round(quantile, "ci", _months_shown)
        for entry in group.get("survival_at", []):
            _round(entry, "estimate", _proportion_shown)
            _round(entry, "ci", _proportion_shown)
    for name in ("median", "ci"):
        _round(out.get("followup"), name, _months_shown)
    incidence = (out.get("safety") or {}).get("incidence") or {}
    _round(incidence.get("gray"), "statistic", _ratio_shown)
    for group in incidence.get("groups", []):
        for entry in group["at"]:
            _round(entry, "estimate", _proportion_shown)
            _round(entry, "ci", _proportion_shown)
        _round(group, "rate", _rate_shown)
        _round(group, "rate_ci", _rate_shown)
    rmst = out.get("rmst") or {}
    for cell in [rmst.get("overall"), *(rmst.get("strata") or {}).values()]:
        if cell is not None:
            _round(cell, "estimate", _months_shown)
            _round(cell, "ci", _months_shown)
            cell["se"] = None
    for cell in (rmst.get("differences") or {}).values():
        _round(cell, "estimate", _months_shown)
        _round(cell, "ci", _months_shown)
    for group in out.get("strata", []):
        for name in ("median", "ci"):
            _round(group.get("followup"), name, _months_shown)
    tests = out.get("strata_tests") or {}
    for row in [*tests.get("logrank", []), *tests.get("ph", [])]:
        for name in ("statistic", "chisq"):
            _round(row, name, _ratio_shown)
    for row in out.get("comparison_rows", []):
        for cell in [
            *(row.get(n) for n in ("naive", "adjusted", "time_varying")),
            *row["landmarks"],
        ]:
            _round(cell, "hr", _ratio_shown)
            _round(cell, "ci", _ratio_shown)


def rules_text(threshold: int, *, sponsor: bool = True) -> list[str]:
    """The disclosure rules as sentences for the report's appendix; an internal edition with
    small cells suppressed keeps the identifiers and dates, and says nothing of them."""
    rules = [
        f"Cells below {threshold} suppressed: counts from 1 to {threshold - 1} are shown as "
        f"“{primary_marker(threshold)}” without a percentage. A percentage is shown only beside "
        "its count and its denominator, both shown, so it tells nothing they do not.",
        f"Complementary suppression: where a suppressed count could be recovered from a total "
        f"(the other cells of a column, row or interval), further cells are hidden and shown as "
        f"“{COMPLEMENTARY}”; this holds knowing that “{primary_marker(threshold)}” is 1 to "
        f"{threshold - 1} and “{COMPLEMENTARY}” is 0 or at least {threshold}, over all the sums "
        f"the tables share (checked by integer programming: no hidden count has only one "
        f"possible value).",
        f"Survival curves stop where fewer than {threshold} patients remain at risk, and every "
        f"estimate at a later time (survival rate, median, quartile, CI limit, RMST) is shown as "
        f"“{not_estimable(threshold)}”. A curve is published as its values at the at-risk "
        f"times only (a step of its own is one death), and stops before the first interval "
        f"whose deaths are suppressed, the estimates after it “NE (<{threshold} events)”; its "
        f"per-step counts and censoring times are not published, its times are rounded to "
        f"{TIME_DIGITS} decimal (months) and survival to {SURVIVAL_DIGITS}. A survival rate that "
        f"rests on 1 to {threshold - 1} events is shown as “NE (<{threshold} events)”.",
        f"Every estimate is published as printed, in results.json too: durations in months to "
        f"{MONTHS_DECIMALS} decimal, survival rates and their limits as {_PERCENTAGES}, "
        f"hazard ratios and test statistics to {RATIO_DECIMALS} decimals, incidence rates to "
        f"{RATE_DECIMALS}. The cumulative incidence of adverse events keeps no count of events, "
        f"deaths or patients at risk, nor the patient-years; an incidence or rate resting on 1 to "
        f"{threshold - 1} events is “NE (<{threshold} events)”.",
        f"Ages above {AGE_TOP_CODE - 1} are shown as “{AGE_TOP_CODE}+”.",
        "Comparisons between strata show hazard ratios, confidence intervals, log-rank tests "
        f"and p-values, not estimable where a compared group has fewer than {threshold} "
        "patients (at the landmark, for a landmark HR). The landmark figure is suppressed like "
        "the strata; the Simon–Makuch curves, whose groups gain patients over time, the "
        "landmark risk-set sizes of the table and the adjusted model's own table are omitted.",
    ]
    if sponsor:
        rules.insert(
            -1,
            "No patient or site identifiers; extraction dates as month and year; the "
            "submissions are identified by one SHA-256 of the whole set.",
        )
    return rules


def _survival_groups(out: dict) -> list[dict]:
    """The groups whose estimates stop with their curves: all patients, the strata and the
    landmark figure's groups."""
    landmark = (out.get("aware_figures") or {}).get("landmark")
    return [out["overall"], *out.get("strata", []), *(landmark or {}).get("groups", [])]


def estimable_only(context: dict) -> dict:
    """The internal edition: every estimate that rests on fewer patients at risk than the study's
    minimum (``min_at_risk_shown``) is ``"NE (<m at risk)"``, as in a suppressed edition; the
    counts and the curves' data stay as computed (the figures stop the curves there).

    Parameters
    ----------
    context : dict
        The internal report context; not changed.

    Returns
    -------
    dict
        ``context`` itself when the study sets no minimum, else a new context with each
        group's ``shown_until`` and its estimates after it not estimable.
    """
    minimum = int(context.get("min_at_risk_shown") or 0)
    if minimum <= 0:
        return context
    out = copy.deepcopy(context)
    marker = not_estimable(minimum)
    stops = [(group, _visible_until(group, minimum)) for group in _survival_groups(out)]
    _comparisons_estimable(out, minimum, marker)
    for group, stop in stops:
        _estimates_until(group, stop, marker)
        group["shown_until"] = stop if math.isfinite(stop) else None
    strata = len(out.get("strata", [])) + 1  # the RMST table has all patients and the strata
    _rmst_until(out.get("rmst"), {g["key"]: stop for g, stop in stops[:strata]}, marker)
    return out


def sponsor_edition(
    context: dict, threshold: int = DEFAULT_THRESHOLD, *, edition: str = "sponsor"
) -> dict:
    """The sponsor's copy of a report context (see the module docs for the rules).

    Parameters
    ----------
    context : dict
        The internal report context (:func:`toolkit.report_context.build_context`); not changed.
    threshold : int
        Counts from 1 to ``threshold - 1`` are suppressed; must be at least 1 (1 suppresses
        nothing).
    edition : {"sponsor", "internal"}
        ``"internal"``: the same suppression, but the provenance keeps its site ids, dates and
        hashes (``--suppress-below`` of the internal edition).

    Returns
    -------
    dict
        A new context with ``edition`` set and ``disclosure`` describing what was done.
    """
    if threshold < 1:
        raise ValueError("the suppression threshold must be at least 1")
    if edition not in ("sponsor", "internal"):
        raise ValueError(f"unknown edition {edition!r}")
    out = copy.deepcopy(context)
    sponsor = edition == "sponsor"
    out["edition"] = edition
    min_at_risk = max(threshold, int(out.get("min_at_risk_shown") or 0))
    groups = _survival_groups(out)
    stops = [(group, _visible_until(group, min_at_risk)) for group in groups]  # before suppression
    events_by = [_events_by(group) for group in groups]
    not_shown = not_estimable(min_at_risk)
    _comparisons_without_counts(out, min_at_risk, not_shown)  # judged on the counts before
    _incidence_without_counts(out.get("safety"), threshold, min_at_risk)
    _followup_of_few(out, min_at_risk, not_shown)
    cells = _collect(out)
    hidden = suppress_cells(cells.values, cells.sets, threshold)
    marker = primary_marker(threshold)
    for key, kind in hidden.items():
        for holder, name, pct in cells.places[key]:
            holder[name] = marker if kind == "primary" else COMPLEMENTARY
            if pct is not None:
                holder[pct] = None
    _percentages_of_hidden_totals(out, hidden)
    _delays_of_few(out)
    _top_code_ages(out.get("table1"))
    if sponsor:
        out["provenance"] = _provenance(out.get("provenance"))
    out["min_at_risk_shown"] = min_at_risk
    hidden_stops = [_hidden_events_stop(group) for group, _ in stops]
    few = f"NE (<{threshold} events)"
    for (group, stop), hidden_stop, events in zip(stops, hidden_stops, events_by, strict=True):
        _cut_curve(group, min(stop, hidden_stop))
        _estimates_until(group, min(stop, hidden_stop), few if hidden_stop < stop else not_shown)
        _rates_from_few_events(group, events, threshold)
    stops = [(group, min(stop, h)) for (group, stop), h in zip(stops, hidden_stops, strict=True)]
    strata = len(out.get("strata", [])) + 1  # the RMST table has all patients and the strata
    _rmst_until(out.get("rmst"), {g["key"]: stop for g, stop in stops[:strata]}, not_shown)
    _as_published(out, groups)
    kinds = list(hidden.values())
    out["disclosure"] = {
        "suppressed": True,
        "threshold": threshold,
        "primary_marker": marker,
        "complementary_marker": COMPLEMENTARY,
        "n_primary": kinds.count("primary"),
        "n_complementary": kinds.count("complementary"),
        "rules": rules_text(threshold, sponsor=sponsor),
    }
    return out
