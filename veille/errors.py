"""Exceptions raised by veille.

The hierarchy::

    VeilleError                 base of everything veille raises on purpose
    ├── ConfigError             config.yaml is missing, unreadable or invalid (exit 2)
    ├── UsageError              a command-line argument is wrong (exit 2)
    ├── SourceError             one source failed; caught per source, the run goes on
    ├── DeliveryError           an email could not be handed to SMTP or the outbox
    └── StorageError            the store cannot be opened, migrated or written (exit 3)

Every message is French and fits on one line: it is what the user reads.
Bugs are not ``VeilleError`` and keep their traceback.
"""

from __future__ import annotations

import errno

# The exit statuses of ``veille`` (a public interface, listed in the README): 0 success;
# 1 ``run`` worked but some sources (or an email) failed, or ``digest`` could not send;
# 2 a user mistake (command line, config.yaml, a second daemon); 3 the store cannot be
# used (StorageError); 130 interrupted.
EXIT_OK, EXIT_SOURCES_FAILED, EXIT_USAGE, EXIT_STORAGE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class VeilleError(Exception):
    """Base class; ``str(exc)`` is a one-line French message for the user."""


class ConfigError(VeilleError):
    """The configuration is invalid; the message names the file and line."""


class UsageError(VeilleError):
    """A command-line argument is wrong."""


class SourceError(VeilleError):
    """A source could not be collected; the message is the short reason.

    ``retry_after`` (seconds) asks that this source alone not be visited again
    before then (HTTP 429/503 with Retry-After, a paused host).
    """

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryError(VeilleError):
    """An email could not be delivered (SMTP refused, unreachable, outbox unwritable).

    ``too_large``: the server refused the message for its size (552): the same
    mentions may go out in smaller parts. ``outcome_unknown``: the connection was
    lost after the whole message was sent, so the server may have accepted it: it
    is sent again later, unchanged and with the same Message-ID.
    """

    def __init__(self, message: str, *, too_large: bool = False, outcome_unknown: bool = False):
        super().__init__(message)
        self.too_large = too_large
        self.outcome_unknown = outcome_unknown


class StorageError(VeilleError):
    """The store could not be opened, migrated or written."""


class CycleStopped(VeilleError):
    """A cycle was asked to stop (the daemon got SIGTERM) while it fetched: the
    sources already stored stay stored, the others are visited next time."""


_OS_REASONS = {
    errno.EACCES: "permission refusée",
    errno.EPERM: "permission refusée",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota de disque dépassé",
    errno.ENOENT: "dossier introuvable",
    errno.EEXIST: "un fichier porte déjà ce nom",
    errno.ENOTDIR: "ce n'est pas un dossier",
    errno.EISDIR: "c'est un dossier",
}


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in French when the reason is a common one."""
    return _OS_REASONS.get(exc.errno or 0) or exc.strerror or exc.__class__.__name__
