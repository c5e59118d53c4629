"""What comes back over HTTP and what it means for a source, without the client.

:class:`Response` is the complete, size-checked answer :class:`~collectors.http.HttpClient`
returns; :func:`status_error` and :func:`retry_after` turn an error status and its
headers into the source's :class:`~veille.errors.SourceError` and its wait. The
engines and collectors read answers through this module alone, so that validating
config.yaml (``veille check``) never imports httpx.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from veille.errors import SourceError

MAX_BACKOFF = 86400.0  # seconds: no server makes a source wait longer than a day


@dataclass(frozen=True, slots=True)
class Response:
    """A complete, size-checked, decoded HTTP answer.

    ``headers`` has lower-case names; values are the bytes received read as
    Latin-1 (as WSGI does), so any value, even non-ASCII, can be sent back
    byte for byte in a later request (``If-None-Match``).
    """

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


Fetch = Callable[[str], Awaitable[Response]]
"""A plain GET, as :meth:`HttpClient.get` does it."""


class RobotsRules(Protocol):
    """What the client asks before a page is fetched (see :mod:`collectors.robots`)."""

    async def allowed(self, fetch: Fetch, url: str) -> bool: ...


def retry_after(headers: Mapping[str, str], default: float) -> float:
    """Seconds asked by a Retry-After header (seconds or HTTP date), or by an
    X-Ratelimit-Reset one (Reddit: seconds until the window resets), else ``default``.

    Whatever the server wrote, the answer is a number between 0 and
    :data:`MAX_BACKOFF`.
    """
    value = headers.get("retry-after", "").strip()
    wait = _retry_after(value) if value else _seconds(headers.get("x-ratelimit-reset", ""))
    if wait is None or math.isnan(wait):
        wait = default
    return min(max(0.0, wait), MAX_BACKOFF)


def _retry_after(value: str) -> float | None:
    if re.fullmatch(r"[0-9]+", value):
        return float(value)  # a huge number of digits gives inf, capped by the caller
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": a UTC time whose origin is unknown
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def _seconds(value: str) -> float | None:
    try:
        return float(value.strip())
    except ValueError:
        return None


def status_reason(status: int) -> str:
    """A short French reason for an HTTP error status."""
    names = {
        401: "authentification requise",
        403: "accès refusé",
        404: "page introuvable",
        410: "page supprimée",
        429: "trop de requêtes",
        500: "erreur du serveur",
        502: "passerelle en erreur",
        503: "service indisponible",
        504: "délai de la passerelle dépassé",
    }
    return f"erreur HTTP {status}" + (f" ({names[status]})" if status in names else "")


def status_error(response: Response, *, every: float) -> SourceError:
    """The SourceError of an HTTP error answer. A 429 or 503 asks this source alone to
    wait: its Retry-After (or X-Ratelimit-Reset), else ``every`` seconds."""
    if response.status in (429, 503):
        wait = retry_after(response.headers, every)
        return SourceError(
            f"{status_reason(response.status)} (nouvel essai dans {wait:.0f} s)", retry_after=wait
        )
    return SourceError(status_reason(response.status))
