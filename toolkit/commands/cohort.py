"""``toolkit cohort``: export the analysis dataset of a data cutoff for R or SAS."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands.report import parse_cutoff


@click.command(name="cohort")
@click.option("--db", "db_path", type=click.Path(path_type=Path), required=True)
@click.option(
    "--study",
    "study_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Study definition (TOML); default: the built-in PROCLAIM analysis.",
)
@click.option("--cutoff", default=None, help="Data cutoff YYYY-MM-DD (default: the study's).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option(
    "--refreeze",
    is_flag=True,
    help="Use the submissions in force now, not those frozen for this cutoff.",
)
def command(
    db_path: Path, study_path: Path | None, cutoff: str | None, out_dir: Path, refreeze: bool
) -> None:
    """Write adtte, episodes, flow, stratum counts and submissions as Parquet and CSV."""
    from toolkit.export import export_cohort
    from toolkit.pipeline import analysis_cohort
    from toolkit.study import builtin_study_path, load_study

    study = load_study(study_path or builtin_study_path())
    cohort = analysis_cohort(
        db_path, study, parse_cutoff(cutoff) or study.study.default_cutoff, refreeze=refreeze
    )
    for path in export_cohort(cohort, out_dir):
        click.echo(str(path))
