"""``toolkit demo``: synthetic registry → validation → database → cohort → survival → report."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for the submissions, the database and the report.",
)
def command(out_dir: Path) -> None:
    """Run the poster's analysis end to end on the synthetic PROCLAIM registry."""
    from toolkit.pipeline import run_demo

    files = run_demo(out_dir)
    click.echo("reports written:")
    for path in (files.html, files.pdf, files.results):
        if path is not None:
            click.echo(f"  {path}")
