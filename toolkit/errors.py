"""Every exception the toolkit raises; the CLI turns each into a message and exit code."""

__all__ = [
    "ToolkitError",
    "UsageError",
    "SubmissionUnreadable",
    "SubmissionRejected",
    "DatabaseBusy",
    "AnalysisError",
    "InputError",
    "MissingSystemLibrary",
    "Interrupted",
]


class ToolkitError(Exception):
    """Base class: a problem the user can act on. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class UsageError(ToolkitError):
    """The command was called wrongly (missing path, bad option value)."""

    exit_code = 2


class SubmissionUnreadable(ToolkitError):
    """A submission cannot be opened at all (not a folder or zip, unsafe zip, missing manifest)."""


class SubmissionRejected(ToolkitError):
    """Validation found errors; nothing of the submission reaches the analysis tables."""


class DatabaseBusy(ToolkitError):
    """Another process holds the registry database."""


class AnalysisError(ToolkitError):
    """The analysis cannot be computed from the data as loaded (e.g. no eligible patients)."""


class InputError(ToolkitError):
    """A data file holds a value the analysis cannot use; the message names file, row, column."""

    exit_code = 2


class MissingSystemLibrary(ToolkitError):
    """A system library the toolkit needs (e.g. Pango for PDFs) is not installed."""


class Interrupted(ToolkitError):
    """The run was interrupted (Ctrl-C); the message says what was rolled back."""

    exit_code = 130
