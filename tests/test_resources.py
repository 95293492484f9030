"""Assets are found from a checkout and from an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from toolkit.resources import asset_dir, read_sql, sql_files

REPO = Path(__file__).resolve().parent.parent


def test_checkout_finds_the_repository_folders() -> None:
    assert asset_dir("queries") == REPO / "queries"
    assert asset_dir("templates") == REPO / "templates"
    assert "stg_submissions_in_force" in {p.stem for p in sql_files()}
    assert "select" in read_sql("adtte")


def test_unknown_asset_group_is_refused() -> None:
    with pytest.raises(ValueError):
        asset_dir("secrets")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("*.whl")
    return built


def test_wheel_carries_the_assets_and_schemas(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "toolkit/_assets/queries/40_metrics/adtte.sql" in names
    assert "toolkit/_assets/templates/report.html.j2" in names
    assert "toolkit/studies/proclaim.toml" in names
    assert "schemas/patients.py" in names
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_finds_its_own_assets(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    probe = (
        "import toolkit, schemas.vocabulary; from toolkit.resources import asset_dir, sql_files;"
        "from toolkit.study import builtin_study_path;"
        "print(toolkit.__file__); print(asset_dir('queries')); print(asset_dir('templates'));"
        "print(len(sql_files())); print(builtin_study_path().is_file())"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    module, queries, templates, count, study_ok = done.stdout.split("\n")[:5]
    assert module.startswith(str(target))
    assert queries == str(target / "toolkit" / "_assets" / "queries")
    assert templates == str(target / "toolkit" / "_assets" / "templates")
    assert int(count) == len(sql_files())
    assert study_ok == "True"


def test_a_relation_runs_alone_with_what_it_reads_inlined() -> None:
    from hand_registry import hand_registry

    from toolkit.resources import standalone_sql

    sql = standalone_sql("stg_submissions_in_force")
    assert sql.startswith("with stg_newest_accepted as (")
    con = hand_registry()
    con.execute("set variable cutoff_date = date '2015-06-30'")
    assert con.execute(f"select submission_id from ({sql})").fetchall() == [("sub1",)]
    assert standalone_sql("stg_newest_accepted") == read_sql("stg_newest_accepted")


def test_the_wheel_in_a_new_venv_runs_the_demo_as_the_checkout_does(
    wheel: Path, demo_dir: Path, tmp_path: Path
) -> None:
    """``pip install`` of the wheel into a new venv, then its ``toolkit`` script runs the demo
    from a folder outside the checkout; the outputs are the editable install's, byte for byte.
    The dependencies come from this venv (a path line, not its .pth files, so the checkout's
    editable install stays out) rather than from PyPI, so the test runs offline."""
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(venv / "bin" / "toolkit"), "demo", "--out", "proclaim", "--quiet"],
        cwd=home, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    where = subprocess.run(
        [str(python), "-c", "import toolkit; print(toolkit.__file__)"],
        cwd=home, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(site)  # the wheel's code, not the checkout's
    for name in ("results.json", "report.html", "report.pdf"):
        assert (home / "proclaim" / name).read_bytes() == (demo_dir / name).read_bytes(), name
