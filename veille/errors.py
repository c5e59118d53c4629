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
