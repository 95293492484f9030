"""The README's commands, run as written: the blocks of "Using it, by role" in order, from a
home folder outside the checkout, with ``toolkit`` on PATH as the venv puts it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def role_commands() -> list[str]:
    """The shell lines of the section's ``sh`` blocks, comments cut, in order."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using it, by role") :]
    section = section[: section.index("\n## ", 1)]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            code = re.sub(r"\s+#.*$", "", line).strip()
            if code and code != "cd ~":
                lines.append(code)
    return lines


def test_the_section_names_each_task() -> None:
    commands = " ".join(role_commands())
    for task in ("synth", "dictionary", "validate", "ingest", "status", "queries", "report",
                 "--edition sponsor", "cohort", "survival"):  # fmt: skip
        assert task in commands, task


def test_every_command_runs_as_written_from_a_home_folder(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "HOME": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    for line in role_commands():
        done = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{line}\n{done.stderr[-2000:]}"
    home = tmp_path / "proclaim"
    results = json.loads((home / "report" / "results.json").read_text(encoding="utf-8"))
    assert results["cohort"]["n_analysed"] == 236  # all six sites, not one
    sponsor = json.loads((home / "sponsor" / "results.json").read_text(encoding="utf-8"))
    assert sponsor["edition"] == "sponsor"
    assert (home / "checks-S01" / "validation.html").is_file()
    assert (home / "export" / "adtte.csv").is_file()
    assert (home / "braf" / "report.pdf").is_file()
