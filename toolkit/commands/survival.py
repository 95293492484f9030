"""``toolkit survival FILE --time COL --event COL [--group COL] [--at 6,12,24] [--json]``.

Kaplan–Meier per group and overall (n, events, median with CI, S(t) with CI and number at risk
at the ``--at`` times), the log-rank test across groups, and the reverse Kaplan–Meier median
follow-up, from any CSV or Parquet file. Rows with a missing time, event or group are left out
and counted (``excluded``); an unusable value (a negative time, an event other than
0/1/true/false) stops the command with a message naming the file, row and column (exit 2).

With ``--json`` the results are printed on stdout as one JSON document; otherwise as a table.
Heavy libraries (NumPy, polars, rich) are imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from toolkit.errors import InputError, UsageError

if TYPE_CHECKING:
    from toolkit.survival import KaplanMeierSummary, SurvivalTable

__all__ = ["command", "survival_document", "parse_times"]

CONF_TYPES = ("log-log", "log", "plain")
"""As :data:`toolkit.survival.CONF_TYPES` (not imported here, to keep ``--help`` fast)."""


@click.command(name="survival")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--time", "time_column", required=True, help="Column of follow-up times (≥ 0).")
@click.option(
    "--event", "event_column", required=True, help="Column of events: 1/true event, 0/false."
)
@click.option("--group", "group_column", default=None, help="Column of groups to compare.")
@click.option(
    "--at", "at", default=None, help="Times at which to report S(t), comma-separated: 6,12,24."
)
@click.option(
    "--conf-type",
    type=click.Choice(CONF_TYPES),
    default="log-log",
    show_default=True,
    help="Transform of the pointwise confidence intervals.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON on stdout.")
def command(
    file: Path,
    time_column: str,
    event_column: str,
    group_column: str | None,
    at: str | None,
    conf_type: str,
    as_json: bool,
) -> None:
    """Kaplan–Meier, medians, S(t) and the log-rank test from a CSV or Parquet FILE."""
    import json

    from toolkit.survival import read_survival_table

    times = parse_times(at)
    table = read_survival_table(file, time=time_column, event=event_column, group=group_column)
    if table.n == 0:
        raise InputError(f"{file}: no row has both a time and an event ({_excluded(table)})")
    document = survival_document(table, times, conf_type)
    if as_json:
        click.echo(json.dumps(document, indent=2, allow_nan=False))
    else:
        _print_summary(table, document)


def parse_times(text: str | None) -> tuple[float, ...]:
    """``"6,12,24"`` → ``(6.0, 12.0, 24.0)``; a value that is not a number ≥ 0 is a usage error."""
    if not text:
        return ()
    times = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise UsageError(f"--at: {part.strip()!r} is not a number") from None
        if not value >= 0 or value == float("inf"):
            raise UsageError(f"--at: times must be finite and non-negative, got {part.strip()}")
        times.append(value)
    return tuple(times)


def survival_document(table: SurvivalTable, times: tuple[float, ...], conf_type: str) -> dict:
    """The JSON document of the command."""
    from toolkit.survival import (
        METHODS,
        kaplan_meier,
        kaplan_meier_by_group,
        logrank_test,
        median_followup,
    )

    options = {"at_times": times, "conf_type": conf_type}
    overall = kaplan_meier(table.time, table.event, key="overall", label="overall", **options)
    followup = median_followup(table.time, table.event, conf_type=conf_type)
    groups, logrank = [], None
    if table.group is not None:
        summaries = kaplan_meier_by_group(
            table.time, table.event, table.group, labels=table.groups, **options
        )
        groups = [{"group": s.label} | _estimates(s) for s in summaries]
        test = logrank_test(table.time, table.event, table.group, labels=table.groups)
        logrank = {"statistic": test.statistic_, "df": test.df_, "p": test.p_}
    excluded = table.excluded()
    if table.group is None:
        del excluded["missing_group"]
    return {
        "conf_type": conf_type,
        "conf_level": overall.conf_level,
        "groups": groups,
        "overall": _estimates(overall) | {"followup_median": followup.median_},
        "logrank": logrank,
        "excluded": excluded,
        "methods": {
            "estimator": METHODS["estimator"],
            "ci": overall.method["ci"],
            "median": METHODS["quantile"],
            "median_ci": overall.method["quantile_ci"],
            "logrank": METHODS["logrank"],
            "followup": METHODS["followup"],
        },
    }


def _estimates(summary: KaplanMeierSummary) -> dict[str, Any]:
    return {
        "n": summary.n,
        "events": summary.events,
        "median": summary.median_,
        "median_ci": list(summary.median_ci_),
        "survival": summary.survival_at_,
    }


def _excluded(table: SurvivalTable) -> str:
    parts = [f"{n} {reason.replace('_', ' ')}" for reason, n in table.excluded().items() if n]
    return ", ".join(parts) or "no rows"


def _print_summary(table: SurvivalTable, document: dict) -> None:
    """The document as a table: one row per group and overall, then the tests."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    times = [entry["time"] for entry in document["overall"]["survival"]]
    result = Table(title=f"Kaplan–Meier: {table.source}", title_justify="left")
    for header in ("Group", "N", "Events", "Median (95% CI)"):
        result.add_column(header, justify="left" if header == "Group" else "right")
    for t in times:
        result.add_column(f"S({_number(t)}) (95% CI)", justify="right")
    rows = [*document["groups"], {"group": "All", **document["overall"]}]
    for i, row in enumerate(rows):
        result.add_row(
            str(row["group"]),
            str(row["n"]),
            str(row["events"]),
            f"{_time(row['median'])} ({_time(row['median_ci'][0])}–{_time(row['median_ci'][1])})",
            *[_survival(entry) for entry in row["survival"]],
            end_section=i == len(rows) - 2,
        )
    console.print(result)
    _print_notes(console, document)


def _print_notes(console: Any, document: dict) -> None:
    logrank = document["logrank"]
    if logrank is not None:
        p = "–" if logrank["p"] is None else f"{logrank['p']:.4g}"
        console.print(
            f"Log-rank test: chi-square {logrank['statistic']:.3f} on {logrank['df']} df, p = {p}"
        )
    console.print(
        f"Median follow-up (reverse Kaplan–Meier): {_time(document['overall']['followup_median'])}"
    )
    excluded = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in document["excluded"].items())
    console.print(f"Rows left out: {excluded}")
    console.print(f"CI: {document['methods']['ci']}; medians and their CI by R's quantile rule.")


def _number(value: float) -> str:
    return f"{value:g}"


def _time(value: float | None) -> str:
    return "NR" if value is None else f"{value:.2f}"


def _survival(entry: dict) -> str:
    if entry["estimate"] is None:
        return "–"
    low, high = (f"{x:.3f}" if x is not None else "NE" for x in entry["ci"])
    return f"{entry['estimate']:.3f} ({low}–{high}) n={entry['at_risk']}"
