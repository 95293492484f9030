"""``toolkit demo``: synthetic registry → validation → database → cohort → survival → report."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._output import json_option, output_options, print_json, progress_console, say


@click.command(
    name="demo",
    epilog="\b\nExamples:\n  toolkit demo\n  toolkit demo --out ~/proclaim-demo --json",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for the submissions, the database and the report.",
)
@json_option("the files written")
@output_options
def command(out_dir: Path, as_json: bool) -> None:
    """Run the poster's analysis end to end on the synthetic PROCLAIM registry."""
    from toolkit.pipeline import run_demo

    files = run_demo(out_dir, say=lambda text: say(text, err=True), progress=progress_console())
    written = [str(p) for p in (files.html, files.pdf, files.results) if p is not None]
    if as_json:
        print_json({"files": written, "registry": str(out_dir / "registry.duckdb")})
        return
    say("reports written:")
    for path in written:
        say(f"  {path}")
