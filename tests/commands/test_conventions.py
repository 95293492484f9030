"""The conventions every command keeps: options described and an example in each help, ``-h``,
``--json`` where something is reported, ``-q``/``-v``, no wrapping into a pipe, progress only
on a terminal or with ``-v``, and studies addressable by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from toolkit.cli import COMMANDS, cli


def _toolkit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_is_described_and_every_command_shows_an_example(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"toolkit {name} {param.opts[0]} has no description"
    assert command.epilog and "Example" in command.epilog, name
    assert f"toolkit {name}" in command.epilog
    shown = _toolkit(name, "-h")
    assert shown.returncode == 0 and "Examples:" in shown.stdout


@pytest.mark.parametrize("name", ["ingest", "report", "cohort", "dictionary", "demo", "status",
                                  "queries", "compare", "validate", "survival"])  # fmt: skip
def test_every_command_that_reports_something_takes_json(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert "--json" in {opt for p in command.params for opt in p.opts}


def test_quiet_and_verbose_exclude_each_other(tmp_path: Path) -> None:
    done = _toolkit("synth", "--patients", "50", "--out", tmp_path / "s", "-q", "-v")
    assert done.returncode == 2 and "exclude each other" in done.stderr


def test_quiet_prints_nothing_and_verbose_logs_each_step_into_a_pipe(tmp_path: Path) -> None:
    quiet = _toolkit("synth", "--patients", "50", "--out", tmp_path / "q", "-q")
    assert quiet.returncode == 0 and quiet.stdout == quiet.stderr == ""
    plain = _toolkit("synth", "--patients", "50", "--out", tmp_path / "p")
    assert plain.stdout.startswith("wrote 1 site submission to") and plain.stderr == ""
    loud = _toolkit("synth", "--patients", "50", "--out", tmp_path / "v", "-v")
    steps = loud.stderr.splitlines()
    assert steps[0] == "[0/2 0.0 s] generating the patients"
    assert steps[1].startswith("[1/2 ") and steps[1].endswith("writing the site submissions")
    assert steps[-1].endswith("done")


def test_json_of_ingest_report_cohort_and_dictionary(tmp_path: Path) -> None:
    from small_submission import write_submission

    site = write_submission(tmp_path / "S01")
    db = tmp_path / "registry.duckdb"
    ingested = json.loads(_toolkit("ingest", site, "--db", db, "--json").stdout)
    assert (ingested["status"], ingested["site_id"], ingested["rows"]["patients"]) == (
        "loaded",
        "S01",
        2,
    )
    done = _toolkit("report", "--db", db, "--cutoff", "2015-03-14", "--format", "html",
                    "--out", tmp_path / "r", "--json")  # fmt: skip
    report = json.loads(done.stdout)
    assert report["cutoff"] == "2015-03-14" and set(report["files"]) == {"html", "results"}
    assert Path(report["files"]["results"]).is_file()
    done = _toolkit("cohort", "--db", db, "--cutoff", "2015-03-14", "--out", tmp_path / "c",
                    "--json")  # fmt: skip
    assert any(f.endswith("adtte.csv") for f in json.loads(done.stdout)["files"])
    done = _toolkit("dictionary", "--out", tmp_path / "d", "--format", "csv", "--json")
    assert Path(json.loads(done.stdout)["dictionary"]).name == "dictionary.csv"


def test_a_built_in_study_by_name_and_an_unknown_name(tmp_path: Path) -> None:
    from toolkit.study import builtin_study_path, resolve_study

    assert resolve_study("braf") == builtin_study_path("braf")
    assert resolve_study(None) == builtin_study_path("proclaim")
    assert resolve_study("studies/mine.toml") == Path("studies/mine.toml")
    done = _toolkit("report", "--db", tmp_path / "none.duckdb", "--study", "brfa", "--out",
                    tmp_path / "r")  # fmt: skip
    assert done.returncode == 2
    assert "no built-in study of that name (braf, proclaim)" in done.stderr


def test_a_table_into_a_pipe_is_not_wrapped(tmp_path: Path) -> None:
    data = tmp_path / "times.csv"
    data.write_text(
        "months,died,arm\n"
        + "".join(f"{m},{m % 2},a very long group label number {m % 3}\n" for m in range(1, 40))
    )
    done = _toolkit("survival", data, "--time", "months", "--event", "died", "--group", "arm",
                    "--at", "6,12,24")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) > 80  # no 80-column cut
    assert "Log-rank test: chi-square" in done.stdout.replace("\n", " ")


def test_a_censoring_code_is_read_with_event_from_cnsr(tmp_path: Path) -> None:
    data = tmp_path / "adtte.csv"
    data.write_text("AVAL,CNSR\n1,0\n2,1\n3,4\n4,0\n")
    read = _toolkit("survival", data, "--time", "AVAL", "--event", "CNSR", "--event-from-cnsr",
                    "--json")  # fmt: skip
    document = json.loads(read.stdout)
    assert (document["overall"]["n"], document["overall"]["events"]) == (4, 2)
    assert document["methods"]["event"].startswith("CNSR = 0")
    refused = _toolkit("survival", data, "--time", "AVAL", "--event", "CNSR")
    assert refused.returncode == 2 and "add --event-from-cnsr" in refused.stderr
    data.write_text("AVAL,CNSR\n1,0\n2,1.5\n")
    bad = _toolkit("survival", data, "--time", "AVAL", "--event", "CNSR", "--event-from-cnsr")
    assert bad.returncode == 2 and "row 3, column 'CNSR'" in bad.stderr
