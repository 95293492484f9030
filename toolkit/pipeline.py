"""The one place where the stages meet: submission → validate → ingest → cohort SQL →
survival → report context → HTML/PDF."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console

from toolkit.errors import SubmissionRejected, UsageError

__all__ = [
    "ingest_submission",
    "analysis_cohort",
    "build_report",
    "edition_context",
    "run_demo",
    "ReportFiles",
]


@dataclass(frozen=True)
class ReportFiles:
    results: Path
    html: Path | None
    pdf: Path | None


def ingest_submission(path: Path, db_path: Path):
    """Archive a submission's bytes, then validate it and record it; load it when accepted.

    Bytes seen before are not validated again: the outcome says they were already ingested.
    """
    from toolkit.errors import SubmissionUnreadable
    from toolkit.ingest import IngestOutcome, archive, load, previous_status
    from toolkit.submission import open_submission, receive
    from toolkit.validate import unreadable_findings, validate

    received = receive(path)
    archive_path = archive(received, db_path)
    seen = previous_status(db_path, received.sha256)
    if seen is not None:
        return IngestOutcome(received.sha256, f"already-{seen}", None, {}, 0, 0, archive_path)
    try:
        submission = open_submission(received)
    except SubmissionUnreadable as error:
        findings = unreadable_findings(received.source.name, str(error))
        return load(db_path, received, archive_path, findings, None, None)
    result = validate(submission)
    tables = result.tables if result.accepted else None
    return load(db_path, received, archive_path, result.findings, submission.manifest, tables)


def analysis_cohort(db_path: Path, study, cutoff: date, *, refreeze: bool = False):
    """Freeze the cutoff's submissions (first use, or on request) and build its cohort."""
    from toolkit.cohort import build_cohort, freeze_cutoff
    from toolkit.ingest import connect

    if not db_path.exists():
        raise UsageError(f"no registry database at {db_path}")
    con = connect(db_path)
    try:
        freeze_cutoff(con, study, cutoff, refreeze=refreeze)
        return build_cohort(con, study, cutoff)
    finally:
        con.close()


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
) -> ReportFiles:
    """Run the analysis for ``cutoff`` on the database and write results.json and the report.

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
    """
    from toolkit.render import write_report
    from toolkit.report_context import build_context
    from toolkit.study import load_study

    console = console or Console(stderr=True)
    study = load_study(study_path)
    cutoff = cutoff or study.study.default_cutoff
    out_dir.mkdir(parents=True, exist_ok=True)
    with console.status("building the cohort with SQL"):
        cohort = analysis_cohort(db_path, study, cutoff, refreeze=refreeze)
    with console.status("computing survival"):
        context = edition_context(build_context(cohort, study), edition, suppress_below)
    results = out_dir / "results.json"
    results.write_text(json.dumps(context, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with console.status("rendering " + " and ".join(formats)):
        written = write_report(context, out_dir, formats=formats, paper=paper)
    return ReportFiles(results, written.get("html"), written.get("pdf"))


def edition_context(context: dict, edition: str, suppress_below: int | None) -> dict:
    """The context of an edition: internal as computed (optionally suppressed), or sponsor."""
    from toolkit.disclosure import DEFAULT_THRESHOLD, sponsor_edition

    if edition not in ("internal", "sponsor"):
        raise UsageError(f"unknown edition {edition!r}; choose internal or sponsor")
    if suppress_below is not None and suppress_below < 1:
        raise UsageError("--suppress-below must be at least 1")
    if edition == "sponsor":
        return sponsor_edition(context, suppress_below or DEFAULT_THRESHOLD)
    if suppress_below is None:
        return context
    return sponsor_edition(context, suppress_below) | {
        "edition": "internal",
        "provenance": context["provenance"],
    }


def run_demo(out_dir: Path, *, console: Console | None = None) -> ReportFiles:
    """Synthetic proclaim registry → validated, ingested database → report for its cutoff."""
    from toolkit.study import builtin_study_path
    from toolkit.synth import synthesise

    console = console or Console(stderr=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    submissions = out_dir / "submissions"
    db_path = out_dir / "registry.duckdb"
    # The demo owns these: start from a clean registry so every run is the same run.
    for stale in (submissions, db_path.with_name(db_path.stem + "-archive")):
        shutil.rmtree(stale, ignore_errors=True)
    db_path.unlink(missing_ok=True)
    db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)

    console.print(synthesise(submissions, preset="proclaim"))
    for folder in sorted(p for p in submissions.iterdir() if p.is_dir()):
        outcome = ingest_submission(folder, db_path)
        console.print(outcome.describe())
        if outcome.status == "rejected":
            raise SubmissionRejected(f"the demo submission {folder} was rejected")
    return build_report(db_path, builtin_study_path("proclaim"), None, out_dir, console=console)
