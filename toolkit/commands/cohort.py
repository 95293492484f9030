"""``toolkit cohort``: export the analysis dataset of a data cutoff for R or SAS."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._cutoff_options import cutoff_options, parse_cutoff, say_if_frozen_behind


@click.command(name="cohort")
@cutoff_options
def command(
    db_path: Path, study_path: Path | None, cutoff: str | None, out_dir: Path, refreeze: bool
) -> None:
    """Write adtte, episodes, flow, stratum counts and submissions as Parquet and CSV."""
    from toolkit.pipeline import export_cutoff
    from toolkit.study import builtin_study_path

    written = export_cutoff(
        db_path,
        study_path or builtin_study_path(),
        parse_cutoff(cutoff),
        out_dir,
        refreeze=refreeze,
    )
    for path in written:
        click.echo(str(path))
    say_if_frozen_behind(db_path, study_path, parse_cutoff(cutoff))
