"""``toolkit cohort``: export the analysis dataset of a data cutoff for R or SAS."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._cutoff_options import cutoff_options, parse_cutoff


@click.command(name="cohort")
@cutoff_options
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
