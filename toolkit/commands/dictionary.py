"""``toolkit dictionary [--out DIR] [--format html,pdf,csv]``: the data dictionary for sites.

Generated at run time from the schemas validation enforces (see :mod:`toolkit.dictionary`), so
it cannot disagree with ``toolkit validate``. Exit status: 0 written, 1 failure (a disk full, a
read-only folder, Pango missing for the PDF: the message says what to install), 2 usage
problem (an unknown format, ``--out`` a file). The files are replaced together or not at all.
"""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands._output import json_option, output_options, print_json, say
from toolkit.errors import UsageError

__all__ = ["command"]


@click.command(
    name="dictionary",
    epilog="\b\nExamples:\n  toolkit dictionary --out dictionary\n"
    "  toolkit dictionary --out dictionary --format csv --json",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for the dictionary's files.",
)
@click.option(
    "--format",
    "formats",
    default="html,pdf,csv",
    show_default=True,
    help="Which files to write, comma-separated: html, pdf, csv (dictionary.csv, "
    "redcap_data_dictionary.csv and templates/ with one empty CSV per contract file).",
)
@json_option("the files written")
@output_options
def command(out_dir: Path, formats: str, as_json: bool) -> None:
    """Write the data dictionary from the schemas: dictionary.html and .pdf, dictionary.csv,
    a REDCap data dictionary and template CSVs."""
    wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
    if not wanted or set(wanted) - {"html", "pdf", "csv"}:
        raise UsageError("--format takes html, pdf and/or csv, comma-separated")
    from toolkit.atomic import check_out_dir, writing
    from toolkit.dictionary import write_dictionary

    check_out_dir(out_dir, "--out")
    with writing("--out", out_dir):
        written = write_dictionary(out_dir, formats=wanted)
    if as_json:
        print_json({kind: str(path) for kind, path in written.items()})
        return
    for path in written.values():
        say(str(path))
