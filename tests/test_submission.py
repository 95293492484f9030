"""Opening submissions: folders and zips, fingerprints, and refusing unsafe archives."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from toolkit.errors import SubmissionUnreadable
from toolkit.submission import SUBMISSION_FILES, open_submission

MANIFEST = {"site_id": "S01", "contract_version": "1", "extracted_on": "2015-03-14"}
CSV = {
    "patients.csv": b"patient_id,site_id\n00123,S01\n",
    "treatments.csv": b"treatment_id\nT1\n",
    "adverse_events.csv": b"ae_id\n",
    "assessments.csv": b"patient_id\n",
}


def _files(manifest: bytes | None = None) -> dict[str, bytes]:
    raw = manifest if manifest is not None else json.dumps(MANIFEST).encode()
    return {"manifest.json": raw, **CSV}


def _folder(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_folder_keeps_raw_bytes_and_parses_manifest(tmp_path: Path) -> None:
    files = _files()
    files["patients.csv"] = b"\xef\xbb\xbf" + files["patients.csv"]
    submission = open_submission(_folder(tmp_path / "S01", files))
    assert submission.source == tmp_path / "S01"
    assert submission.files == files  # BOM and leading zeros kept as sent
    assert submission.manifest == MANIFEST


def test_folder_fingerprint_is_canonical_listing(tmp_path: Path) -> None:
    files = _files()
    submission = open_submission(_folder(tmp_path / "a", files))
    listing = "".join(
        f"{name}\t{hashlib.sha256(files[name]).hexdigest()}\n" for name in sorted(files)
    )
    assert submission.sha256 == hashlib.sha256(listing.encode()).hexdigest()
    other = _folder(tmp_path / "b", {**files, "notes.txt": b"ignored"})
    assert open_submission(other).sha256 == submission.sha256
    changed = _folder(tmp_path / "c", {**files, "treatments.csv": b"treatment_id\nT2\n"})
    assert open_submission(changed).sha256 != submission.sha256


def test_zip_flat_and_in_one_folder(tmp_path: Path) -> None:
    flat = _zip(tmp_path / "flat.zip", _files())
    nested = _zip(tmp_path / "nested.zip", {f"S01/{k}": v for k, v in _files().items()})
    for path in (flat, nested):
        submission = open_submission(path)
        assert set(submission.files) == set(SUBMISSION_FILES)
        assert submission.files["patients.csv"] == CSV["patients.csv"]
        assert submission.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_zip_ignores_macos_metadata_folder(tmp_path: Path) -> None:
    members = {f"S01/{k}": v for k, v in _files().items()}
    members["__MACOSX/S01/._patients.csv"] = b"junk"
    submission = open_submission(_zip(tmp_path / "mac.zip", members))
    assert submission.files["patients.csv"] == CSV["patients.csv"]


@pytest.mark.parametrize("bad", ["../patients.csv", "S01/../../evil.csv", "/etc/passwd"])
def test_zip_with_unsafe_member_is_refused(tmp_path: Path, bad: str) -> None:
    path = _zip(tmp_path / "evil.zip", {**_files(), bad: b"x"})
    with pytest.raises(SubmissionUnreadable, match="outside the archive"):
        open_submission(path)


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = {**_files(), "patients.csv": b"0" * (8 * 1024 * 1024)}
    with pytest.raises(SubmissionUnreadable, match="zip bomb"):
        open_submission(_zip(tmp_path / "bomb.zip", bomb))


def test_not_a_zip_and_missing_path(tmp_path: Path) -> None:
    text = tmp_path / "notes.zip"
    text.write_text("not a zip")
    with pytest.raises(SubmissionUnreadable, match="not a zip"):
        open_submission(text)
    with pytest.raises(SubmissionUnreadable, match="no such folder"):
        open_submission(tmp_path / "missing")


def test_folder_without_any_contract_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SubmissionUnreadable, match="none of the submission files"):
        open_submission(_folder(tmp_path / "empty", {"readme.txt": b"hello"}))


def test_manifest_with_bom_is_parsed_and_bad_manifest_is_none(tmp_path: Path) -> None:
    bom = _files(b"\xef\xbb\xbf" + json.dumps(MANIFEST).encode())
    assert open_submission(_folder(tmp_path / "bom", bom)).manifest == MANIFEST
    broken = _files(b"{site_id: S01")
    assert open_submission(_folder(tmp_path / "broken", broken)).manifest is None
    listed = _files(b"[1, 2]")
    assert open_submission(_folder(tmp_path / "listed", listed)).manifest is None


# --- regular files only ------------------------------------------------------------------------


def test_symbolic_link_in_a_folder_is_refused_and_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_bytes(CSV["assessments.csv"])
    folder = _folder(tmp_path / "S01", {k: v for k, v in _files().items() if "assess" not in k})
    (folder / "assessments.csv").symlink_to(outside)
    with pytest.raises(SubmissionUnreadable, match="assessments.csv is a symbolic link"):
        open_submission(folder)


def test_pipe_in_place_of_a_file_is_refused_without_blocking(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "S01", {k: v for k, v in _files().items() if "patients" not in k})
    os.mkfifo(folder / "patients.csv")
    with pytest.raises(SubmissionUnreadable, match="patients.csv is not a regular file"):
        open_submission(folder)


def test_folder_in_place_of_a_file_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "S01", {k: v for k, v in _files().items() if "patients" not in k})
    (folder / "patients.csv").mkdir()
    with pytest.raises(SubmissionUnreadable, match="patients.csv is not a regular file"):
        open_submission(folder)


def test_zip_member_stored_as_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in _files().items():
            if name != "patients.csv":
                archive.writestr(name, data)
        link = zipfile.ZipInfo("patients.csv")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(SubmissionUnreadable, match="patients.csv is a symbolic link"):
        open_submission(path)


def test_manifest_with_a_repeated_key_or_deep_nesting_gives_no_manifest(tmp_path: Path) -> None:
    repeated = _files(b'{"site_id": "S01", "site_id": "S02"}')
    assert open_submission(_folder(tmp_path / "repeated", repeated)).manifest is None
    nested = _files(b"[" * 100_000)
    assert open_submission(_folder(tmp_path / "nested", nested)).manifest is None
