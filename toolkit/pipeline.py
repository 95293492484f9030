"""The one place where the stages meet: submission → validate → ingest → cohort SQL →
survival → report context → HTML/PDF.

Every command checks its inputs and its output folder before the work starts and creates no
folder until there is something to put in it; the files of one run are replaced together
(:mod:`toolkit.atomic`), so a failed run leaves the earlier outputs as they were.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.errors import SubmissionRejected, SubmissionUnreadable, ToolkitError, UsageError
from toolkit.progress import OnStep, no_steps, steps

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "check_submission",
    "ingest_submission",
    "analysis_cohort",
    "build_report",
    "export_cutoff",
    "edition_context",
    "protected_paths",
    "run_demo",
    "DEMO_MARKER",
    "ReportFiles",
]


@dataclass(frozen=True)
class ReportFiles:
    results: Path
    html: Path | None
    pdf: Path | None


def protected_paths(db_path: Path) -> dict[Path, str]:
    """What an output folder may be neither equal to nor inside: the database and its archive."""
    from toolkit.ingest import archive_dir

    return {
        archive_dir(db_path): "the registry's raw-bytes archive, which is never rewritten",
        db_path: "the registry database",
    }


def check_submission(path: Path):
    """Validate a submission without ingesting it: its facts and findings.

    A submission that cannot be read (no such folder or zip, a damaged zip, an unreadable
    file) gets its one ``SUBMISSION-UNREADABLE`` finding. Returns ``(SubmissionInfo,
    findings)``.
    """
    from toolkit.submission import receive
    from toolkit.validate import unreadable_findings
    from toolkit.validation_report import SubmissionInfo

    name = path.resolve().name
    try:
        received = receive(path)
    except (SubmissionUnreadable, OSError) as exc:
        return SubmissionInfo(name, None), unreadable_findings(name, _reason(exc, path, name))
    info, findings, _ = _validated(received, path)
    return info, findings


def ingest_submission(path: Path, db_path: Path, *, on_step: OnStep = no_steps):
    """Archive a submission's bytes, then validate it and record it; load it when accepted.

    ``--db`` is checked before anything is written. Bytes seen before are not validated
    again: the outcome says they were already ingested. A checked submission's outcome
    carries its :class:`~toolkit.validation_report.SubmissionInfo` and findings. ``on_step``
    hears of the three steps (reading and archiving, validating, loading).
    """
    from toolkit.atomic import os_error_text
    from toolkit.ingest import IngestOutcome, archive, check_ingest_target, load, previous_status
    from toolkit.submission import receive

    check_ingest_target(db_path)
    try:
        received = receive(path)
    except OSError as error:
        raise ToolkitError(f"cannot read the submission {path}: {os_error_text(error)}") from None
    archive_path = archive(received, db_path)
    seen = previous_status(db_path, received.sha256)
    if seen is not None:
        return IngestOutcome(received.sha256, f"already-{seen}", None, {}, 0, 0, archive_path)
    on_step("validating")
    info, findings, tables = _validated(received, path)
    on_step("loading into the registry" if tables is not None else "recording the findings")
    outcome = load(db_path, received, archive_path, findings, info.manifest, tables)
    on_step(None)
    return replace(outcome, info=info, findings=findings)


def _validated(received, path: Path):
    """Open and validate received bytes: ``(SubmissionInfo, findings, tables)``, the tables
    ``None`` unless the submission is accepted (an unreadable one gets its one finding)."""
    from toolkit.submission import open_submission
    from toolkit.validate import unreadable_findings, validate
    from toolkit.validation_report import SubmissionInfo

    name = path.resolve().name
    try:
        submission = open_submission(received)
    except (SubmissionUnreadable, OSError) as exc:
        findings = unreadable_findings(name, _reason(exc, path, name))
        return SubmissionInfo(name, received.sha256), findings, None
    result = validate(submission, consume=True)  # the bytes are archived or not needed
    info = SubmissionInfo(name, submission.sha256, submission.manifest, result.rows)
    return info, result.findings, result.tables if result.accepted else None


def _reason(exc: Exception, path: Path, name: str) -> str:
    """The reason in words, the submission named by its name only (the report goes to a site)."""
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
        return f"{name}: cannot be read ({exc.strerror or exc})"
    text = str(exc)
    for spelling in (str(path), str(path.resolve())):
        if text.startswith(spelling):
            return name + text[len(spelling) :]
    return text


def analysis_cohort(
    db_path: Path, study, cutoff: date | None, *, refreeze: bool = False, spark=None
):
    """Freeze the cutoff's submissions (first use, or on request) and build its cohort.

    ``cutoff`` ``None`` is the study's default cutoff. The database is read through read-only
    connections; only a freeze (a cutoff's first use, or ``refreeze``) opens it for writing,
    for that one transaction. ``spark``: a :class:`toolkit.spark_engine.SparkTarget` to run
    the cohort SQL on instead of DuckDB (the freeze stays in the registry).
    """
    from toolkit.cohort import build_cohort, freeze_cutoff, is_frozen
    from toolkit.ingest import open_registry

    cutoff = cutoff or study.study.default_cutoff
    lakehouse_freezes = spark is not None and spark.freezes_from_lakehouse
    if refreeze and lakehouse_freezes:
        raise UsageError(
            "--refreeze writes the registry's freeze, but --spark-tables reads the cutoff "
            "freezes from the lakehouse: refreeze in the registry and export it again"
        )
    con = open_registry(db_path, read_only=True)
    try:
        needs_freeze = not lakehouse_freezes and (refreeze or not is_frozen(con, cutoff))
    finally:
        con.close()
    if needs_freeze:
        con = open_registry(db_path, read_only=False)
        try:
            freeze_cutoff(con, study, cutoff, refreeze=refreeze)
        finally:
            con.close()
    con = open_registry(db_path, read_only=True)
    try:
        if spark is None:
            return build_cohort(con, study, cutoff)
        from toolkit.spark_engine import build_cohort_on_spark

        return build_cohort_on_spark(con, study, cutoff, spark)
    finally:
        con.close()


def compare_cutoffs(
    db_path: Path, study, older: date, newer: date, *, edition: str = "internal"
) -> dict:
    """What changed from cutoff ``older`` to cutoff ``newer`` (both frozen), as the context of
    the compare document of ``edition``: the internal edition lists each change with its
    patient; the sponsor edition gives counts, with the sponsor report's rules."""
    from toolkit.cohort import build_cohort
    from toolkit.compare import (
        change_totals,
        check_cutoffs,
        compare_context,
        keep_as_previous,
        read_changes,
    )
    from toolkit.disclosure import DEFAULT_THRESHOLD, change_totals_shown
    from toolkit.ingest import open_registry
    from toolkit.report_context import build_context
    from toolkit.results import declared

    _check_edition(edition, None)
    con = open_registry(db_path, read_only=True)
    try:
        check_cutoffs(con, older, newer)
        before = build_cohort(con, study, older)
        keep_as_previous(con)
        after = build_cohort(con, study, newer, previous=older)
        changes = read_changes(con)
    finally:
        con.close()
    contexts = [
        edition_context(build_context(cohort, study), edition, None) for cohort in (before, after)
    ]
    totals = change_totals(changes)
    if edition == "sponsor":
        totals = change_totals_shown(totals, DEFAULT_THRESHOLD)
    return declared(compare_context(changes, *contexts, totals=totals), shape="compare")


def build_report(
    db_path: Path,
    study_path: Path,
    cutoff: date | None,
    out_dir: Path,
    *,
    formats: tuple[str, ...] = ("html", "pdf"),
    edition: str = "internal",
    suppress_below: int | None = None,
    paper: str = "a4",
    refreeze: bool = False,
    console: Console | None = None,
    spark=None,
) -> ReportFiles:
    """Run the analysis for ``cutoff`` on the database and write results.json and the report.

    The inputs (study, formats, edition, ``out_dir``, the database, WeasyPrint for a PDF) are
    checked before the analysis starts; ``out_dir`` is created only once everything is
    rendered, and results.json, HTML and PDF are replaced together.

    Parameters
    ----------
    edition : {"internal", "sponsor"}
        ``"sponsor"`` applies :func:`toolkit.disclosure.sponsor_edition` to the context before
        anything is written, so results.json, HTML and PDF hold only what the sponsor may see.
    suppress_below : int, optional
        Small-cell threshold: counts from 1 to ``suppress_below - 1`` are hidden. Defaults to
        :data:`toolkit.disclosure.DEFAULT_THRESHOLD` for the sponsor edition and to no
        suppression for the internal one.
    paper : {"a4", "letter"}
        Page size of the PDF.
    console : rich.console.Console, optional
        Where the progress through the steps is drawn (:func:`toolkit.progress.steps`); none
        when not given.
    spark : toolkit.spark_engine.SparkTarget, optional
        Run the cohort SQL on Spark (:func:`analysis_cohort`); DuckDB when not given.
    """
    from toolkit.atomic import check_out_dir
    from toolkit.documents import check_formats, document_contents, import_weasyprint
    from toolkit.render import FORMATS, render_html, render_pdf
    from toolkit.report_context import build_context
    from toolkit.results import declared
    from toolkit.study import load_study

    check_formats(formats, FORMATS, "report")
    _check_edition(edition, suppress_below)
    study = load_study(study_path)
    check_out_dir(out_dir, "--out", protected_paths(db_path))
    if "pdf" in formats:
        import_weasyprint()  # a missing Pango is said now, not after the analysis
    first = "building the cohort with SQL" + (" on Spark" if spark else "")
    with steps(console, 4, first) as done:
        cohort = analysis_cohort(db_path, study, cutoff, refreeze=refreeze, spark=spark)
        done("computing survival")
        # rendered and saved only in the declared shape (toolkit.results), in its key order
        context = declared(edition_context(build_context(cohort, study), edition, suppress_below))
        done("rendering " + " and ".join(formats))
        documents = document_contents(
            render_html(context, paper=paper),
            FORMATS,
            formats,
            lambda html: render_pdf(html, cutoff=context["cutoff"], title=context["title"]),
        )
        done("writing the files")
        results = json.dumps(context, indent=2, ensure_ascii=False) + "\n"
        contents = {"results.json": results.encode("utf-8")}
        contents |= {FORMATS[kind]: data for kind, data in documents.items()}
        _write_outputs(out_dir, contents)
        done()
    written = {kind: out_dir / FORMATS[kind] for kind in documents}
    return ReportFiles(out_dir / "results.json", written.get("html"), written.get("pdf"))


def export_cutoff(
    db_path: Path,
    study_path: Path,
    cutoff: date | None,
    out_dir: Path,
    *,
    refreeze: bool = False,
    spark=None,
) -> list[Path]:
    """``toolkit cohort``: the analysis dataset of a cutoff as Parquet and CSV in ``out_dir``.

    Checked and written as :func:`build_report` does: nothing is created before the cohort is
    built, and the files are replaced together.
    """
    from toolkit.atomic import check_out_dir, make_out_dir, writing
    from toolkit.export import export_cohort
    from toolkit.study import load_study

    study = load_study(study_path)
    check_out_dir(out_dir, "--out", protected_paths(db_path))
    cohort = analysis_cohort(db_path, study, cutoff, refreeze=refreeze, spark=spark)
    make_out_dir(out_dir, "--out")
    with writing("--out", out_dir):
        return export_cohort(cohort, out_dir)


def _write_outputs(out_dir: Path, contents: dict[str, bytes]) -> None:
    """Create ``out_dir`` and replace the named files in it together."""
    from toolkit.atomic import make_out_dir, write_files, writing

    make_out_dir(out_dir, "--out")
    with writing("--out", out_dir):
        write_files({out_dir / name: data for name, data in contents.items()})


def _check_edition(edition: str, suppress_below: int | None) -> None:
    if edition not in ("internal", "sponsor"):
        raise UsageError(f"unknown edition {edition!r}; choose internal or sponsor")
    if suppress_below is not None and suppress_below < 1:
        raise UsageError("--suppress-below must be at least 1")


def edition_context(context: dict, edition: str, suppress_below: int | None) -> dict:
    """The context of an edition: internal as computed, with no estimate resting on fewer at
    risk than the study's minimum (optionally suppressed), or sponsor."""
    from toolkit.disclosure import DEFAULT_THRESHOLD, estimable_only, sponsor_edition

    _check_edition(edition, suppress_below)
    if edition == "sponsor":
        return sponsor_edition(context, suppress_below or DEFAULT_THRESHOLD)
    if suppress_below is None:
        return estimable_only(context)
    return sponsor_edition(context, suppress_below, edition="internal")


DEMO_MARKER = ".toolkit-demo"
"""The file that marks a folder as the demo's own: its registry is rebuilt on every run."""


def run_demo(
    out_dir: Path, *, say: Callable[[str], None] = print, progress: Console | None = None
) -> ReportFiles:
    """Synthetic proclaim registry → validated, ingested database → report for its cutoff.

    The demo starts from a clean registry in ``out_dir``; it deletes only what an earlier demo
    run created there (the folder carries :data:`DEMO_MARKER`), never a registry of its own.
    ``say`` prints each submission's outcome; ``progress``: where the steps are drawn.
    """
    from toolkit.atomic import check_out_dir, make_out_dir, write_atomic, writing
    from toolkit.study import builtin_study_path
    from toolkit.synth import synthesise

    check_out_dir(out_dir, "--out")
    submissions = out_dir / "submissions"
    db_path = out_dir / "registry.duckdb"
    owned = (submissions, db_path, db_path.with_name(db_path.stem + "-archive"))
    if any(p.exists() for p in owned) and not (out_dir / DEMO_MARKER).exists():
        raise UsageError(
            f"--out {out_dir} holds a registry or submissions that the demo did not create; "
            "choose an empty folder"
        )
    make_out_dir(out_dir, "--out")
    with writing("--out", out_dir):
        write_atomic(
            out_dir / DEMO_MARKER, b"written by toolkit demo, which rebuilds this folder\n"
        )
        # The demo owns these: start from a clean registry so every run is the same run.
        for stale in (submissions, owned[2]):
            shutil.rmtree(stale, ignore_errors=True)
        db_path.unlink(missing_ok=True)
        db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)
        summary = synthesise(submissions, preset="proclaim")
    say(summary)
    folders = sorted(p for p in submissions.iterdir() if p.is_dir())
    with steps(progress, len(folders), f"ingesting {folders[0].name}") as done:
        for i, folder in enumerate(folders):
            outcome = ingest_submission(folder, db_path)
            if outcome.status == "rejected":
                raise SubmissionRejected(f"the demo submission {folder} was rejected")
            say(outcome.describe())
            done(f"ingesting {folders[i + 1].name}" if i + 1 < len(folders) else None)
    return build_report(db_path, builtin_study_path("proclaim"), None, out_dir, console=progress)
