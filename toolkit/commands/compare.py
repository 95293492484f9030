"""``toolkit compare --db DB --from CUTOFF --to CUTOFF --out DIR [--study S] [--edition E]
[--json]``: what changed between two data cutoffs, per site: new and dropped patients, who left
the analysis (and why), who entered it, whose stratum changed, deaths added, reported dates that
moved (old and new value, and the submissions they came from), and the headline numbers at both
cutoffs, naive and immortal-time aware. Both cutoffs must have been frozen (by ``report`` or
``cohort``). Writes ``compare.json``, ``compare.html`` and ``compare.pdf`` into ``--out``;
``--json`` also prints the JSON. ``--edition sponsor``: counts only, no patient or site id, small
counts suppressed as in the sponsor report. Exit status: 0, 1 failure, 2 usage problem.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from toolkit.commands._cutoff_options import edition_option, parse_cutoff, study_option
from toolkit.commands._output import json_option, output_options, say
from toolkit.commands._registry import registry_option, require_registry

__all__ = ["command"]


@click.command(
    name="compare",
    epilog="\b\nExamples:\n"
    "  toolkit compare --db registry.duckdb --from 2015-03-16 --to 2015-09-16 --out changes\n"
    "  toolkit compare --db registry.duckdb --from 2015-03-16 --to 2015-09-16 --out sponsor "
    "--edition sponsor",
)
@registry_option
@click.option("--from", "older", required=True, help="The earlier cutoff, YYYY-MM-DD.")
@click.option("--to", "newer", required=True, help="The later cutoff, YYYY-MM-DD.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for compare.json, compare.html and compare.pdf.",
)
@study_option
@edition_option("sponsor: counts only, no patient or site ids, small counts suppressed.")
@json_option("compare.json")
@output_options
def command(
    db_path: Path,
    older: str,
    newer: str,
    out_dir: Path,
    study_path: Path,
    edition: str,
    as_json: bool,
) -> None:
    """List what changed between two data cutoffs, both frozen already (by report or cohort)."""
    from toolkit.atomic import check_out_dir, write_files, writing
    from toolkit.compare import COMPARE_FILES
    from toolkit.documents import document_contents, render_pdf
    from toolkit.pipeline import compare_cutoffs
    from toolkit.render import render_compare_html
    from toolkit.study import load_study

    require_registry(db_path)
    check_out_dir(out_dir, "--out")
    study = load_study(study_path)
    changes = compare_cutoffs(
        db_path, study, _day(older, "--from"), _day(newer, "--to"), edition=edition
    )
    text = json.dumps(changes, indent=2, ensure_ascii=False) + "\n"
    html = render_compare_html(changes)
    title = f"What changed from {changes['from']} to {changes['to']}"
    documents = document_contents(
        html, COMPARE_FILES, COMPARE_FILES, lambda h: render_pdf(h, title=title)
    )
    files = {out_dir / "compare.json": text.encode("utf-8")}
    files |= {out_dir / COMPARE_FILES[kind]: data for kind, data in documents.items()}
    with writing("--out", out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
        written, *_ = write_files(files)  # every file replaced together, or none
    if as_json:
        click.echo(text, nl=False)
        return
    totals = changes["totals"]
    say(
        f"from {changes['from']} to {changes['to']}: "
        + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in totals.items())
    )
    say(str(written))


def _day(text: str, option: str):
    day = parse_cutoff(text)
    if day is None:  # pragma: no cover - click requires the option
        raise click.UsageError(f"{option} is required")
    return day
