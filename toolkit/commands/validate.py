"""``toolkit validate SUBMISSION [--json]``: check a site's submission against the contract.

Exit status: 0 accepted (warnings allowed), 1 rejected or unreadable, 2 usage problem. Heavy
libraries (polars, pandera) are imported when the command runs, so ``toolkit --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from toolkit.errors import ToolkitError

if TYPE_CHECKING:
    from toolkit.validate import ValidationResult

__all__ = ["command", "SHOWN_FINDINGS"]

SHOWN_FINDINGS = 20
"""How many findings the text summary lists (``--json`` lists them all)."""


@click.command(name="validate")
@click.pass_context
@click.argument(
    "submission",
    type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path),
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON (every finding) on stdout."
)
def command(ctx: click.Context, submission: Path, as_json: bool) -> None:
    """Validate SUBMISSION (a folder or a .zip) against submission contract v1."""
    try:
        from toolkit.submission import open_submission
        from toolkit.validate import validate

        result = validate(open_submission(submission))
    except ToolkitError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(exc.exit_code)
    if as_json:
        click.echo(json.dumps(_as_document(result), indent=2, ensure_ascii=False))
    else:
        _print_summary(result)
    ctx.exit(0 if result.accepted else 1)


def _as_document(result: ValidationResult) -> dict[str, Any]:
    """The result as a JSON-ready mapping."""
    return {
        "submission": str(result.submission.source),
        "sha256": result.submission.sha256,
        "accepted": result.accepted,
        "counts": {"error": result.count("error"), "warning": result.count("warning")},
        "rules": _rule_counts(result),
        "findings": result.findings.to_dicts(),
    }


def _rule_counts(result: ValidationResult) -> dict[str, int]:
    counts = result.findings.group_by("rule").len().sort("rule")
    return dict(zip(counts["rule"].to_list(), counts["len"].to_list(), strict=True))


def _print_summary(result: ValidationResult) -> None:
    """Verdict, counts per severity and per rule, and the first findings, via rich."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    errors, warnings = result.count("error"), result.count("warning")
    verdict = "[bold green]ACCEPTED[/]" if result.accepted else "[bold red]REJECTED[/]"
    console.print(f"{verdict}  {escape(str(result.submission.source))}")
    console.print(f"sha256 {result.submission.sha256}")
    console.print(f"{errors} error(s), {warnings} warning(s)")
    if result.findings.is_empty():
        return
    per_rule = result.findings.group_by("rule", "severity").len().sort("rule")
    rules = Table("rule", "severity", "count", title="Findings per rule", title_justify="left")
    for rule, severity, count in per_rule.iter_rows():
        rules.add_row(rule, severity, str(count))
    console.print(rules)
    console.print(_findings_table(result))
    hidden = result.findings.height - SHOWN_FINDINGS
    if hidden > 0:
        console.print(f"... and {hidden} more; use --json to list every finding.")


def _findings_table(result: ValidationResult) -> Any:
    from rich.table import Table
    from rich.text import Text

    shown = result.findings.head(SHOWN_FINDINGS)
    table = Table(title=f"First {shown.height} findings", title_justify="left")
    for name in ("where", "column", "value", "rule", "message"):
        table.add_column(name, overflow="fold")
    for f in shown.iter_rows(named=True):
        where = f["file"] if f["row"] is None else f"{f['file']}:{f['row']}"
        style = "red" if f["severity"] == "error" else "yellow"
        table.add_row(
            Text(where),
            Text(f["column"] or ""),
            Text(f["value"] or ""),
            Text(f["rule"], style=style),
            Text(f["message"]),
        )
    return table
