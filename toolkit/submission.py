"""Open a site's submission, a folder or a ``.zip`` of it, without trusting what is inside.

Only the files the contract names (``manifest.json`` and the four CSV files) are read; anything
else in the folder or archive is ignored. Their bytes are kept exactly as sent: decoding,
BOM removal and parsing happen in validation. Every contract file must be a regular file: a
symbolic link, a device, a pipe or a folder in its place is refused, in a folder or in a zip, and
what a link points to is never read. A zip is refused (:class:`SubmissionUnreadable`)
when a member path is absolute or climbs out with ``..``, when members are encrypted or
duplicated, or when it would inflate beyond :data:`MAX_TOTAL_BYTES` or more than
:data:`MAX_RATIO` times its compressed size (zip bombs).

The fingerprint :attr:`Submission.sha256` is the SHA-256 of the zip file's bytes; for a folder
it is the SHA-256 of the canonical listing ``"<name>\\t<sha256 of its bytes>\\n"`` of the
contract files present, sorted by name.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from schemas import manifest_json
from schemas.codes import CSV_FILES, MANIFEST_FILE
from toolkit.errors import SubmissionUnreadable

__all__ = [
    "Received",
    "Submission",
    "receive",
    "open_submission",
    "SUBMISSION_FILES",
    "MAX_TOTAL_BYTES",
    "MAX_RATIO",
]

SUBMISSION_FILES: tuple[str, ...] = (MANIFEST_FILE, *CSV_FILES)
MAX_TOTAL_BYTES = 4 * 1024**3
"""Largest total uncompressed size of the contract files in a zip (4 GiB)."""
MAX_RATIO = 200
"""Largest uncompressed/compressed ratio of a zip member above 1 MiB."""
_RATIO_FLOOR = 1024**2


@dataclass(frozen=True)
class Submission:
    """One site's extract as sent.

    Attributes
    ----------
    source : Path
        The folder or zip file it was read from.
    files : dict of str to bytes
        Raw bytes of each contract file present, by file name.
    manifest : dict or None
        ``manifest.json`` parsed, when it is a JSON object; ``None`` when absent or unreadable
        (validation reports why).
    sha256 : str
        Hex SHA-256 fingerprint of the submission (see the module docstring).
    """

    source: Path
    files: dict[str, bytes] = field(repr=False)
    manifest: dict[str, Any] | None
    sha256: str


@dataclass(frozen=True)
class Received:
    """The bytes of a submission as they arrived, before anything is parsed.

    Attributes
    ----------
    source : Path
        The folder or zip file.
    blobs : dict of str to bytes
        What to archive: the zip file's bytes under its name, or a folder's contract files.
    sha256 : str
        The submission's fingerprint (see the module docstring).
    """

    source: Path
    blobs: dict[str, bytes] = field(repr=False)
    sha256: str

    @property
    def is_zip(self) -> bool:
        return not self.source.is_dir()


def receive(path: str | Path) -> Received:
    """Read a submission's bytes without interpreting them (no unzipping, no decoding)."""
    source = Path(path)
    if source.is_dir():
        files = _read_folder(source)
        return Received(source, files, _listing_sha256(files))
    if source.is_file():
        raw = source.read_bytes()
        return Received(source, {source.name: raw}, hashlib.sha256(raw).hexdigest())
    raise SubmissionUnreadable(f"{source}: no such folder or zip file")


def open_submission(path: str | Path | Received) -> Submission:
    """Read a submission folder or ``.zip``.

    Parameters
    ----------
    path : str, Path or Received
        A folder holding the contract files, or a zip archive holding them at its top level
        or inside one top-level folder; or what :func:`receive` read of one.

    Returns
    -------
    Submission
        The raw files, the parsed manifest and the fingerprint.

    Raises
    ------
    SubmissionUnreadable
        The path does not exist, is neither a folder nor a zip, the zip is unsafe or corrupt,
        or none of the contract files is in it.
    """
    received = path if isinstance(path, Received) else receive(path)
    source, digest = received.source, received.sha256
    files = _read_zip(source, received.blobs[source.name]) if received.is_zip else received.blobs
    if not files:
        expected = ", ".join(SUBMISSION_FILES)
        raise SubmissionUnreadable(f"{source}: none of the submission files found ({expected})")
    manifest = _parse_manifest(files.get(MANIFEST_FILE))
    return Submission(source=source, files=files, manifest=manifest, sha256=digest)


def _read_folder(folder: Path) -> dict[str, bytes]:
    files = {}
    for name in SUBMISSION_FILES:
        raw = _read_regular_file(folder, name)
        if raw is not None:
            files[name] = raw
    return files


def _read_regular_file(folder: Path, name: str) -> bytes | None:
    """The bytes of ``folder / name``; ``None`` when absent; refused unless a regular file.

    The file is opened without following a symbolic link and without blocking on a pipe, and
    checked on the open descriptor, so what is read is what was checked.
    """
    path = folder / name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SubmissionUnreadable(
                f"{folder}: refused, {name} is a symbolic link; send regular files only"
            ) from None
        raise SubmissionUnreadable(f"{folder}: {name} cannot be read ({exc.strerror})") from exc
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        os.close(fd)
        raise
    if not regular:
        os.close(fd)
        raise SubmissionUnreadable(
            f"{folder}: refused, {name} is not a regular file; send regular files only"
        )
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _listing_sha256(files: dict[str, bytes]) -> str:
    listing = "".join(
        f"{name}\t{hashlib.sha256(files[name]).hexdigest()}\n" for name in sorted(files)
    )
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def _read_zip(source: Path, raw: bytes) -> dict[str, bytes]:
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise SubmissionUnreadable(f"{source}: not a folder and not a zip archive")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = _contract_members(source, archive.infolist())
            _refuse_bombs(source, members.values())
            return {name: archive.read(info) for name, info in members.items()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise SubmissionUnreadable(f"{source}: the zip archive is corrupt ({exc})") from exc
    except RuntimeError as exc:  # raised by zipfile for encrypted members
        raise SubmissionUnreadable(f"{source}: the zip archive cannot be read ({exc})") from exc


def _contract_members(source: Path, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The contract files, by name, found at the top level or in the one top-level folder."""
    paths = {}
    for info in infos:
        paths[info.filename] = _safe_parts(source, info.filename)
    files = [
        info
        for info in infos
        if not info.is_dir() and paths[info.filename][:1] not in ((), ("__MACOSX",))
    ]
    contract = [
        paths[info.filename] for info in files if paths[info.filename][-1] in SUBMISSION_FILES
    ]
    prefix: tuple[str, ...] = ()
    if not any(len(parts) == 1 for parts in contract):
        prefix = _one_folder(source, {parts[:-1] for parts in contract if len(parts) == 2})
    members: dict[str, zipfile.ZipInfo] = {}
    for info in files:
        parts = paths[info.filename]
        if parts[:-1] != prefix or parts[-1] not in SUBMISSION_FILES:
            continue
        if parts[-1] in members:
            raise SubmissionUnreadable(f"{source}: the zip holds {parts[-1]} more than once")
        if info.flag_bits & 0x1:
            raise SubmissionUnreadable(f"{source}: {info.filename} is encrypted")
        _refuse_special(source, info)
        members[parts[-1]] = info
    return members


def _one_folder(source: Path, folders: set[tuple[str, ...]]) -> tuple[str, ...]:
    """The one top-level folder holding contract files; refuse a choice between several."""
    if len(folders) > 1:
        listed = ", ".join(sorted(folder[0] + "/" for folder in folders))
        raise SubmissionUnreadable(
            f"{source}: refused, the zip holds the submission files in several folders "
            f"({listed}); send one submission per zip, its files at the top level or in one "
            "folder"
        )
    return folders.pop() if folders else ()


def _safe_parts(source: Path, name: str) -> tuple[str, ...]:
    """Path components of a member name; refuse absolute paths and ``..``."""
    normalised = name.replace("\\", "/")
    pure = PurePosixPath(normalised)
    drive = len(normalised) > 1 and normalised[1] == ":"
    if pure.is_absolute() or drive or ".." in pure.parts:
        raise SubmissionUnreadable(
            f"{source}: refused, the zip member {name!r} points outside the archive folder"
        )
    return tuple(part for part in pure.parts if part not in ("", "."))


def _refuse_special(source: Path, info: zipfile.ZipInfo) -> None:
    """Refuse a member stored as a symbolic link, or as any other file type than regular.

    The Unix mode sits in the high 16 bits of ``external_attr``; a zip written elsewhere sets
    no file type there, and its members are plain files.
    """
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise SubmissionUnreadable(
            f"{source}: refused, {info.filename} is a symbolic link; send regular files only"
        )
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        raise SubmissionUnreadable(
            f"{source}: refused, {info.filename} is not a regular file; send regular files only"
        )


def _refuse_bombs(source: Path, members: Any) -> None:
    total = 0
    for info in members:
        total += info.file_size
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise SubmissionUnreadable(
                f"{source}: refused, {info.filename} would inflate {info.file_size} bytes from "
                f"{info.compress_size} (more than {MAX_RATIO} times; a zip bomb?)"
            )
    if total > MAX_TOTAL_BYTES:
        raise SubmissionUnreadable(
            f"{source}: refused, the files would inflate to {total} bytes "
            f"(more than {MAX_TOTAL_BYTES})"
        )


def _parse_manifest(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        document = manifest_json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, manifest_json.RepeatedKey):
        return None
    return document if isinstance(document, dict) else None
