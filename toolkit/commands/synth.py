"""``toolkit synth``: write a synthetic registry as site submission folders."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._output import output_options, progress_console, say
from toolkit.errors import UsageError
from toolkit.progress import steps


@click.command(
    name="synth",
    epilog="\b\nExamples:\n"
    "  toolkit synth --preset proclaim --out submissions\n"
    "  toolkit synth --patients 100000 --sites 10 --out big\n"
    "  toolkit synth --patients 10000 --error-rate 0.02 --out broken",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write one submission folder per site into.",
)
@click.option(
    "--preset",
    type=click.Choice(["proclaim"]),
    default=None,
    help="proclaim: the poster's cohort with its exact group sizes.",
)
@click.option(
    "--patients", type=int, default=None, help="Number of patients (the proclaim mix, scaled)."
)
@click.option("--sites", type=int, default=None, help="Number of sites (default: by size).")
@click.option("--seed", type=int, default=None, help="Random seed (default: the preset's).")
@click.option(
    "--error-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of rows given a contract violation; the list goes to injected.csv.",
)
@output_options
def command(
    out_dir: Path,
    preset: str | None,
    patients: int | None,
    sites: int | None,
    seed: int | None,
    error_rate: float,
) -> None:
    """Write a synthetic registry: one contract-conformant submission folder per site."""
    if (preset is None) == (patients is None):
        raise UsageError("give exactly one of --preset proclaim or --patients N")
    if patients is not None and patients < 10:
        raise UsageError("--patients must be at least 10")
    if not 0.0 <= error_rate <= 0.5:
        raise UsageError("--error-rate must be between 0 and 0.5")
    from toolkit.synth import synthesise

    total = 3 if error_rate > 0 else 2
    with steps(progress_console(), total, "generating the patients") as done:
        summary = synthesise(
            out_dir,
            preset=preset,
            patients=patients,
            sites=sites,
            seed=seed,
            error_rate=error_rate,
            on_step=done,
        )
    say(summary)
