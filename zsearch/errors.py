"""Errors zsearch raises at its users.

Every error that a user can cause (a missing file, an unknown id, the wrong model, a
network fault) is a :class:`ZsearchError`. The CLI's one error boundary
(:func:`zsearch.cli.main`) prints its message on one line and exits with its
``exit_code``; library callers catch the class they care about.
"""

from __future__ import annotations


class ZsearchError(Exception):
    """Base class: a message written for the user, and the exit code the CLI uses."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(ZsearchError):
    """The command was asked something it cannot do (bad option value, bad range)."""

    exit_code = 2


class NotFound(ZsearchError):
    """A file, paper id or saved search that does not exist."""

    exit_code = 3


class EmptyDatabase(ZsearchError):
    """A search or export on a database that holds no papers yet."""

    exit_code = 4


class ModelMismatch(ZsearchError):
    """The database was embedded with another model than the one asked for."""

    exit_code = 5


class ModelLoadError(ZsearchError):
    """A model that cannot be loaded (not cached, no network, bad path)."""

    exit_code = 6


class SourceError(ZsearchError):
    """A remote source (arXiv, PubMed) failed after retries, or sent something unreadable."""

    exit_code = 7


class RecordError(ZsearchError):
    """One input record (a PDF, an XML citation, a JSON line) that cannot be read.

    Batch ingests catch this per record, report it, and go on. Sources may also *yield*
    an instance instead of a Paper, so a generator can report a bad record and continue.
    """

    exit_code = 8

    def __init__(self, message: str, *, record: str = "", hint: str | None = None):
        super().__init__(message, hint=hint)
        self.record = record  # the file, line or id that failed


class LockBusy(ZsearchError):
    """Another maintenance job holds the database's writer lock."""

    exit_code = 75  # EX_TEMPFAIL: cron wrappers treat it as "try again later"
