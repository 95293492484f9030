"""The console summary of a validation, shared by ``toolkit validate`` and ``toolkit ingest``.

Verdict, counts, the rules broken (the :data:`SHOWN_RULES` most frequent) and where the
steward's report was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from toolkit.validation_report import SubmissionInfo

__all__ = ["SHOWN_RULES", "print_summary"]

SHOWN_RULES = 12
"""How many rules the console summary lists (the report lists them all)."""


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun if n == 1 else noun + 's'}"


def print_summary(
    info: SubmissionInfo,
    findings: Any,
    written: dict[str, Path],
    console: Console | None = None,
) -> None:
    """Verdict, counts, the rules broken and where the report is, via rich."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    errors = int((findings["severity"] == "error").sum())
    warnings = int((findings["severity"] == "warning").sum())
    verdict = "[bold red]REJECTED[/]" if errors else "[bold green]ACCEPTED[/]"
    facts = [f"site {info.site_id}" if info.site_id else None]
    facts.append(f"extracted {info.extracted_on}" if info.extracted_on else None)
    detail = ", ".join(fact for fact in facts if fact)
    console.print(f"{verdict}  {escape(info.name)}" + (f"  ({escape(detail)})" if detail else ""))
    console.print(f"sha256 {info.sha256 or 'unknown'}")
    console.print(f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}")
    unreadable = findings.filter(findings["rule"] == "SUBMISSION-UNREADABLE")
    for message in unreadable["message"].to_list():
        console.print(f"[red]{escape(message)}[/]")
    if not findings.is_empty() and unreadable.is_empty():
        per_rule = (
            findings.group_by("rule", "severity")
            .len()
            .sort(["severity", "len", "rule"], descending=[False, True, False])
        )
        table = Table("rule", "severity", "count", title_justify="left")
        for rule, severity, count in per_rule.head(SHOWN_RULES).iter_rows():
            style = "red" if severity == "error" else "yellow"
            table.add_row(rule, f"[{style}]{severity}[/]", str(count))
        console.print(table)
        if per_rule.height > SHOWN_RULES:
            hidden = per_rule.height - SHOWN_RULES
            console.print(f"... and {hidden} more rule{'s' if hidden > 1 else ''} in the report")
    console.print(f"report: {escape(str(written['html']))}")
    console.print(
        f"        {escape(str(written['json']))}, {escape(str(written['csv']))} (every finding)"
    )
