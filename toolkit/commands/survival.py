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

from toolkit.commands._output import console, json_option, output_options
from toolkit.errors import InputError, UsageError

if TYPE_CHECKING:
    from toolkit.survival import KaplanMeierSummary, SurvivalTable

__all__ = ["command", "survival_document", "parse_times", "conf_type_option", "check_file"]

CONF_TYPES = ("log-log", "log", "plain")
"""As :data:`toolkit.survival.CONF_TYPES` (not imported here, to keep ``--help`` fast)."""


@click.command(
    name="survival",
    epilog="\b\nExamples:\n"
    "  toolkit cohort --db registry.duckdb --out export\n"
    "  toolkit survival export/adtte.csv --time AVAL --event CNSR --event-from-cnsr "
    "--group STRATUML --at 12,24\n"
    "  toolkit survival trial.parquet --time months --event died --json",
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--time", "time_column", required=True, help="Column of follow-up times (≥ 0).")
@click.option(
    "--event", "event_column", required=True, help="Column of events: 1/true event, 0/false."
)
@click.option(
    "--event-from-cnsr",
    is_flag=True,
    help="The --event column is a CDISC censoring code (CNSR: 0 the event, 1, 2 … censored), "
    "as toolkit cohort's adtte holds it.",
)
@click.option("--group", "group_column", default=None, help="Column of groups to compare.")
@click.option(
    "--at", "at", default=None, help="Times at which to report S(t), comma-separated: 6,12,24."
)
@click.option(
    "--conf-type",
    default="log-log",
    show_default=True,
    callback=lambda _ctx, _param, value: conf_type_option(value),
    help=f"Transform of the pointwise confidence intervals: {', '.join(CONF_TYPES)}.",
)
@json_option("the results")
@output_options
def command(
    file: Path,
    time_column: str,
    event_column: str,
    event_from_cnsr: bool,
    group_column: str | None,
    at: str | None,
    conf_type: str,
    as_json: bool,
) -> None:
    """Kaplan–Meier, medians, S(t) and the log-rank test from a CSV or Parquet FILE."""
    import json

    from toolkit.survival import read_survival_table

    check_file(file)
    times = parse_times(at)
    try:
        table = read_survival_table(
            file,
            time=time_column,
            event=event_column,
            group=group_column,
            event_from_cnsr=event_from_cnsr,
        )
    except InputError as error:
        if event_from_cnsr or "event must be 0/1" not in str(error):
            raise
        raise InputError(
            f"{error}. If {event_column} is a censoring code (0 the event, as the CNSR of "
            "toolkit cohort's adtte), add --event-from-cnsr"
        ) from None
    if table.n == 0:
        needed = "a time, an event and a group" if group_column else "both a time and an event"
        raise InputError(f"{file}: no row has {needed} ({_excluded(table)})")
    document = survival_document(table, times, conf_type, event_from_cnsr=event_from_cnsr)
    if as_json:
        click.echo(json.dumps(document, indent=2, allow_nan=False))
    else:
        _print_summary(table, document)


def check_file(path: Path) -> None:
    """A usage error in one line if ``path`` is not an existing file."""
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if not path.is_file():
        raise UsageError(f"{path}: not a file")


def conf_type_option(value: str) -> str:
    """``--conf-type``, case-insensitive; another value is a one-line usage error."""
    if value.lower() not in CONF_TYPES:
        raise UsageError(f"--conf-type must be one of {', '.join(CONF_TYPES)}, got {value!r}")
    return value.lower()


def parse_times(text: str | None) -> tuple[float, ...]:
    """``"6,12,24"`` → ``(6.0, 12.0, 24.0)``, in the order given.

    A value that is not a finite number ≥ 0, or a time given twice, is a usage error; ``-0``
    is 0.
    """
    if not text:
        return ()
    times: list[float] = []
    for part in text.split(","):
        value = _time_option(part.strip())
        if value in times:
            raise UsageError(f"--at: {part.strip()} is given twice")
        times.append(value)
    return tuple(times)


def _time_option(part: str) -> float:
    try:
        value = float(part)
    except ValueError:
        raise UsageError(f"--at: {part!r} is not a number") from None
    if not 0 <= value < float("inf"):
        raise UsageError(f"--at: times must be finite and non-negative, got {part}")
    return value + 0.0


def survival_document(
    table: SurvivalTable, times: tuple[float, ...], conf_type: str, *, event_from_cnsr: bool = False
) -> dict:
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
        logrank = _logrank(table, logrank_test)
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
            "event": f"{table.event_column} = 0 (a censoring code; other values censored)"
            if event_from_cnsr
            else f"{table.event_column} = 1 or true (0 or false censored)",
            "estimator": METHODS["estimator"],
            "ci": overall.method["ci"],
            "median": METHODS["quantile"],
            "median_ci": overall.method["quantile_ci"],
            "logrank": METHODS["logrank"],
            "followup": METHODS["followup"],
        },
    }


def _logrank(table: SurvivalTable, logrank_test: Any) -> dict[str, Any]:
    """The log-rank test across the groups; nothing to test if its variance is 0.

    The variance is 0 — and ``survdiff`` stops on a singular matrix — when every patient
    still at risk at each event time has the event then, i.e. all events fall at one time at
    which everyone at risk dies: observed equals expected in every group and no statistic
    exists. That is reported as a test on 0 degrees of freedom without a p-value, as for a
    single group.
    """
    import numpy as np

    try:
        test = logrank_test(table.time, table.event, table.group, labels=table.groups)
    except np.linalg.LinAlgError:
        return {"statistic": 0.0, "df": 0, "p": None}
    return {"statistic": test.statistic_, "df": test.df_, "p": test.p_}


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
    from rich.table import Table

    out = console()
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
    out.print(result)
    _print_notes(out, document)


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
    console.print(f"Event: {document['methods']['event']}.")
    console.print(f"CI: {document['methods']['ci']}; medians and their CI by R's quantile rule.")


def _number(value: float) -> str:
    return f"{value:g}"


def _time(value: float | None) -> str:
    if value is None:
        return "NR"
    return f"{value:.2f}" if value < 1e9 else f"{value:.4g}"


def _survival(entry: dict) -> str:
    if entry["estimate"] is None:
        return "–"
    low, high = (f"{x:.3f}" if x is not None else "NE" for x in entry["ci"])
    return f"{entry['estimate']:.3f} ({low}–{high}) n={entry['at_risk']}"
