"""Outputs that appear whole or not at all, in folders a run may write.

Every file a user sees (reports, ``results.json``, exports, the steward's files, the data
dictionary) is written as ``<name>.partial`` beside its final name, synced to disk, and renamed
into place only when every file of the set was written: a full disk, a read-only file system or
Ctrl-C leaves the earlier outputs exactly as they were, with no partial file behind. Writers
of one folder take turns (an exclusive ``flock`` on the folder while a set is renamed into
place), so two runs into the same folder leave one run's whole set, not a mixture.

:func:`check_out_dir` refuses an output folder before any work is done (a file, a folder
inside the raw-bytes archive); :func:`writing` turns the operating system's refusal into a
one-line error that names the option and the path.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from toolkit.errors import ToolkitError, UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

__all__ = [
    "Content",
    "PARTIAL_SUFFIX",
    "write_atomic",
    "write_files",
    "check_out_dir",
    "make_out_dir",
    "writing",
    "output_error",
    "os_error_text",
]

PARTIAL_SUFFIX = ".partial"
"""What a file being written is called until it is complete: ``<name>.partial``."""

Content = bytes | Callable[[Path], object]
"""A file's bytes, or a function that writes the file at the path it is given."""

_USAGE_ERRNOS = {errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG}


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write one file whole or not at all (see :func:`write_files`)."""
    target = Path(path)
    write_files({target: data})
    return target


def write_files(files: Mapping[Path, Content]) -> list[Path]:
    """Write a set of files so that either all of them are replaced or none is.

    Each file is written as ``<name>.partial`` and synced; once all are written they are
    renamed into place and their folders synced. On any failure (or Ctrl-C) every partial
    file is removed and the files already there are left untouched.

    Parameters
    ----------
    files : mapping of pathlib.Path to bytes or callable
        Final path → its bytes, or a function that writes the file at the path it is given
        (e.g. ``lambda p: frame.write_parquet(p)``). The folders must exist.

    Returns
    -------
    list of pathlib.Path
        The paths written, in the mapping's order.

    Raises
    ------
    OSError
        When a file cannot be written (no space left, read-only file system, …).
    """
    targets = [Path(path) for path in files]
    folders = sorted({target.parent for target in targets})
    partials: list[Path] = []
    with _locked(folders):
        try:
            for target, content in zip(targets, files.values(), strict=True):
                partials.append(target.with_name(target.name + PARTIAL_SUFFIX))
                _write_partial(partials[-1], content)
            for target, partial in zip(targets, partials, strict=True):
                os.replace(partial, target)
            for folder in folders:
                _fsync_path(folder)
        finally:
            for partial in partials:
                _remove_quietly(partial)
    return targets


def _write_partial(partial: Path, content: Content) -> None:
    """Write one partial file and sync it to disk."""
    if isinstance(content, bytes | bytearray | memoryview):
        with open(partial, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        return
    content(partial)
    _fsync_path(partial)


def _fsync_path(path: Path) -> None:
    """``fsync`` a file or a folder by path."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_quietly(path: Path) -> None:
    """Remove a leftover partial file; a failure to remove it must not hide the real error."""
    with suppress(OSError):
        path.unlink(missing_ok=True)


@contextmanager
def _locked(folders: list[Path]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on each folder (in sorted order, so writers never deadlock)."""
    with ExitStack() as stack:
        for folder in folders if fcntl is not None else ():
            descriptor = os.open(folder, os.O_RDONLY)
            stack.callback(os.close, descriptor)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield


# --- output folders ----------------------------------------------------------------------------


def check_out_dir(path: Path, option: str, protected: Mapping[Path, str] | None = None) -> None:
    """Refuse an output folder that cannot or must not be written; create nothing.

    Parameters
    ----------
    path : pathlib.Path
        The folder asked for (it may not exist yet).
    option : str
        How the user named it (``"--out"``), for the message.
    protected : mapping of pathlib.Path to str, optional
        Paths the folder may be neither equal to nor inside, with what each is
        (``{archive: "the raw-bytes archive"}``); symlinks and ``..`` are resolved first.

    Raises
    ------
    UsageError
        When ``path`` or one of its parents is a file, or it lies inside a protected path.
    """
    resolved = path.resolve()
    for other, what in (protected or {}).items():
        target = other.resolve()
        if resolved == target:
            raise UsageError(f"{option} {path} is {what} ({other}); choose another folder")
        if resolved.is_relative_to(target):
            raise UsageError(f"{option} {path} is inside {what} ({other}); choose another folder")
    for folder in (path, *path.parents):
        if folder.is_dir():
            return
        if folder.exists() or folder.is_symlink():
            kind = "a file, not a folder" if folder.is_file() else "not a folder"
            if folder == path:
                raise UsageError(f"{option} {path} is {kind}")
            raise UsageError(f"{option} {path} cannot be created: {folder} is {kind}")


def make_out_dir(path: Path, option: str) -> Path:
    """Create an output folder (and its parents); a refusal is a one-line error."""
    with writing(option, path):
        path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def writing(option: str, path: Path) -> Iterator[None]:
    """Turn an ``OSError`` raised meanwhile into :func:`output_error` for ``option path``."""
    try:
        yield
    except OSError as error:
        raise output_error(error, option, path) from None


def output_error(error: OSError, option: str, path: Path) -> ToolkitError:
    """A one-line error for an output that could not be written.

    A path problem (a file where a folder is needed) is a usage error (exit 2); anything else
    (no space left, read-only file system, permission denied) a runtime failure (exit 1).
    """
    text = f"cannot write {option} {path}: {os_error_text(error)}"
    if error.errno in _USAGE_ERRNOS:
        return UsageError(text)
    return ToolkitError(text + "; earlier files there were left as they were")


def os_error_text(error: OSError) -> str:
    """``strerror`` in lower case, with the file it concerns when that is known."""
    reason = (error.strerror or str(error)).rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    return f"{reason} ({error.filename})" if error.filename else reason
