"""``toolkit cohort``: export the analysis dataset of a data cutoff for R or SAS."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._cutoff_options import (
    cutoff_options,
    cutoff_used,
    engine_options,
    parse_cutoff,
    say_if_frozen_behind,
)
from toolkit.commands._output import json_option, output_options, print_json, say


@click.command(
    name="cohort",
    epilog="\b\nExamples:\n"
    "  toolkit cohort --db registry.duckdb --cutoff 2015-03-16 --out export\n"
    "  toolkit cohort --db registry.duckdb --study braf --out export-braf --json\n"
    "  toolkit cohort --db registry.duckdb --engine spark --out export",
)
@cutoff_options
@engine_options
@json_option("the cutoff and the files written")
@output_options
def command(
    db_path: Path,
    study_path: Path,
    cutoff: str | None,
    out_dir: Path,
    refreeze: bool,
    as_json: bool,
    spark=None,
) -> None:
    """Write adtte, episodes, flow, stratum counts and submissions as Parquet and CSV.

    adtte is one row per analysed patient in the shape of a CDISC ADaM ADTTE dataset: AVAL in
    months, and CNSR the censoring code (0 death, so the event is CNSR = 0).
    """
    from toolkit.pipeline import export_cutoff

    used = cutoff_used(study_path, parse_cutoff(cutoff))
    written = export_cutoff(db_path, study_path, used, out_dir, refreeze=refreeze, spark=spark)
    newer = say_if_frozen_behind(db_path, used)
    if as_json:
        print_json(
            {
                "cutoff": used.isoformat(),
                "files": [str(path) for path in written],
                "sites_with_newer_extracts": newer,
            }
        )
        return
    for path in written:
        say(str(path))
