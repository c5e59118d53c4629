"""robots.txt for the ``page`` collector: fetched politely, kept a day per host.

- a missing robots.txt (4xx) allows everything;
- a 5xx or unreachable robots.txt pauses the host (nothing is fetched there);
- the answer is kept for a day in the store, so cron runs do not ask each time;
- whatever the body is (not UTF-8, a byte-order mark, NUL bytes, megabytes of
  it), it is read as text without error: the first 500 KiB only, as Google does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from protego import Protego

from collectors.response import Fetch
from veille.errors import SourceError

log = logging.getLogger(__name__)

KEEP = timedelta(days=1)
PAUSE = 3600.0  # seconds a host is paused when its robots.txt answers 5xx
MAX_SIZE = 500 * 1024  # bytes of robots.txt read (RFC 9309: at least 500 KiB; Google: that)


@dataclass(frozen=True, slots=True)
class RobotsEntry:
    status: int
    body: str
    fetched_at: datetime


class CachedRobots(Protocol):
    """A robots.txt answer as a cache gives it back (the store keeps its own record)."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> str: ...

    @property
    def fetched_at(self) -> datetime: ...


class RobotsCache(Protocol):
    """Where answers are kept between runs: the store, which imports no collector."""

    def robots_get(self, host: str) -> CachedRobots | None: ...

    def robots_put(self, host: str, entry: CachedRobots) -> None: ...


class RobotsPolicy:
    """Answers "may veille fetch this URL?" for one user agent."""

    def __init__(
        self, *, user_agent: str, cache: RobotsCache | None, clock: Callable[[], datetime]
    ):
        self.user_agent = user_agent
        self.cache = cache
        self.clock = clock
        self._parsed: dict[str, tuple[Protego | None, datetime]] = {}

    async def allowed(self, fetch: Fetch, url: str) -> bool:
        """Whether ``url`` may be fetched; ``fetch`` GETs robots.txt when it is not known."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        known = self._parsed.get(origin)
        if known is None or self.clock() - known[1] > KEEP:  # the daemon lives for months
            known = self._parsed[origin] = (await self._load(fetch, origin), self.clock())
        rules = known[0]
        return True if rules is None else bool(rules.can_fetch(url, self.user_agent))

    async def _load(self, fetch: Fetch, origin: str) -> Protego | None:
        now = self.clock()
        entry = self.cache.robots_get(origin) if self.cache else None
        if entry is None or now - entry.fetched_at > KEEP:
            try:
                response = await fetch(origin + "/robots.txt")
                entry = RobotsEntry(response.status, _text(response.content), now)
            except SourceError as exc:
                raise SourceError(
                    f"robots.txt de {origin} inaccessible ({exc}) : site mis en pause",
                    retry_after=PAUSE,
                ) from None
            if self.cache and entry.status < 500:
                self.cache.robots_put(origin, entry)
        if entry.status >= 500:
            raise SourceError(
                f"robots.txt de {origin} en erreur {entry.status} : site mis en pause",
                retry_after=PAUSE,
            )
        if entry.status >= 400:
            return None  # no robots.txt: everything is allowed
        return Protego.parse(entry.body)


def _text(content: bytes) -> str:
    """robots.txt as text that any store keeps: UTF-8 with the byte-order mark
    dropped and bad bytes replaced, no NUL, cut after the last whole line
    within :data:`MAX_SIZE` (what follows is ignored, as Google ignores it)."""
    if len(content) > MAX_SIZE:
        end = max(content.rfind(b"\n", 0, MAX_SIZE), content.rfind(b"\r", 0, MAX_SIZE))
        content = content[: end + 1]
    return content.decode("utf-8-sig", errors="replace").replace("\x00", "")
