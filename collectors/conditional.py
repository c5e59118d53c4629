"""Conditional GET: a source that has not changed since the last visit is not read again.

The ETag and Last-Modified of the previous answer (kept in :class:`SourceState`)
go back as ``If-None-Match`` and ``If-Modified-Since``, byte for byte; a 304
means nothing changed and the stored validators stay; any other answer brings
the validators to keep for the next visit. An error status is the source's
:class:`~veille.errors.SourceError` (a 429 or 503 honours Retry-After).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from collectors.base import SourceState
from collectors.response import Response, status_error

if TYPE_CHECKING:
    from collectors.http import HttpClient


@dataclass(frozen=True, slots=True)
class ConditionalResponse:
    """An answer to a conditional GET and the validators to remember."""

    response: Response
    state: SourceState  # the stored validators on a 304, else the answer's

    @property
    def not_modified(self) -> bool:
        return self.response.status == 304


async def conditional_get(
    client: HttpClient,
    url: str,
    state: SourceState,
    *,
    every: float,
    headers: Mapping[str, str] | None = None,
) -> ConditionalResponse:
    """GET ``url`` with the validators of ``state``; an error status raises the
    source's SourceError (a 429 or 503 waits Retry-After, else ``every`` seconds)."""
    sent = dict(headers or {})
    if state.etag:
        sent["If-None-Match"] = state.etag
    if state.last_modified:
        sent["If-Modified-Since"] = state.last_modified
    response = await client.get(url, headers=sent)
    if response.status == 304:
        return ConditionalResponse(response, state)
    if response.status >= 400:
        raise status_error(response, every=every)
    validators = SourceState(
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )
    return ConditionalResponse(response, validators)
