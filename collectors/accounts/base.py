"""The small interface every platform of ``type: account`` implements.

A platform (one module: ``facebook.py``, ``youtube.py``…) knows its API: where
it lives (``origin`` + ``path``; a source's ``url:`` replaces the origin and
keeps the path, Graph API version included), which option names the account
(``identifier``), which secret it reads (``secret``: ``token_env``,
``api_key_env`` or none), how its requests are authorised (``auth``, shaped like
httpx's ``Auth.auth_flow``: a generator that yields requests and receives their
responses), what an error answer means (``check``), how the comments under the
account's recent posts are read (``read``), what a visit cost (``usage``) and
how one comment is hidden (``hide``).

One visit goes through an :class:`Api`: it sends each request through the auth
flow, counts the requests, hands every answer to the platform's ``check``
(which turns an error body, a rate-limit header or a 429 into this source's
:class:`~veille.errors.SourceError`, with ``retry_after`` when the source must
wait) and reads the JSON. Answers are untrusted: a comment of the wrong shape
is skipped and counted (``rejected``), never the whole source.

What the next visit needs is a :class:`Watermark` kept in the source's
``cursor``: the start of a window (comments at or before it were seen) and short
digests of the comments seen inside it, so that a comment published late
(federation, held for review) inside :data:`GRACE` seconds is still caught,
and none is returned twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeAlias

from collectors.base import MAX_CURSOR, Item
from collectors.engines.base import load_json, text_field, unexpected
from collectors.response import Response, status_error
from collectors.text import excerpt, one_line
from veille.errors import SourceError

if TYPE_CHECKING:
    from collectors.http import HttpClient

log = logging.getLogger(__name__)

GRACE = 86400.0  # seconds: a comment that shows up this late after its time is still caught
DIGEST = 10  # hex characters kept of a comment id's SHA-1 in the cursor


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A request a platform (or its auth flow) asks to send."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    method: Literal["GET", "POST"] = "GET"
    form: Mapping[str, str] | None = None  # a POST's form fields


AuthFlow: TypeAlias = Generator[ApiRequest, Response, None]
"""Yields the requests to send, receives each one's response (httpx's ``auth_flow``);
the response to the last request it yields is the answer."""


class Auth(Protocol):
    """How one source's requests to its platform are authorised."""

    def auth_flow(self, request: ApiRequest) -> AuthFlow: ...


class NoAuth:
    """A public API: the request is sent once, as it is."""

    def auth_flow(self, request: ApiRequest) -> AuthFlow:
        yield request


class HeaderAuth:
    """A secret carried by one header (``Authorization: Bearer …``, ``X-Goog-Api-Key``):
    never in the address, so never in a log or an error message."""

    def __init__(self, name: str, value: str):
        self._name = name
        self._value = value

    def auth_flow(self, request: ApiRequest) -> AuthFlow:
        yield replace(request, headers={**request.headers, self._name: self._value})


def bearer(token: str | None) -> Auth:
    return HeaderAuth("Authorization", f"Bearer {token}") if token else NoAuth()


@dataclass(frozen=True, slots=True)
class Account:
    """The account a source watches, as its platform needs it."""

    source: str  # the source's name (the items' source)
    id: str  # page_id, ig_user_id, channel_id, acct or handle
    base: str  # where the API lives: url: (or the public address) + the API's path
    posts: int  # recent posts to look under
    every: float  # seconds between two visits (the default wait of a back-off)
    secret_env: str | None = None  # the variable the secret came from (named in errors)


@dataclass(frozen=True, slots=True)
class Reading:
    """What one visit found: the new comments and what the next visit needs."""

    items: tuple[Item, ...]
    cursor: dict[str, Any]
    warning: str | None = None
    rejected: tuple[str, ...] = ()


class Platform(Protocol):
    """One platform of ``type: account``, keyed by ``platform:`` in config.yaml."""

    name: ClassVar[str]  # the key in config.yaml ("facebook")
    label: ClassVar[str]  # its display name, the items' outlet ("Facebook")
    origin: ClassVar[str | None]  # scheme and host of its API (None: the account's instance)
    path: ClassVar[str]  # the API's own path, kept under url: ("/v24.0")
    identifier: ClassVar[str]  # the option naming the account ("page_id")
    identifier_help: ClassVar[str]  # what that option holds, in French
    secret: ClassVar[Literal["token_env", "api_key_env"] | None]  # the reading secret
    secret_help: ClassVar[str]  # what that secret is, in French ("" without one)
    moderation: ClassVar[bool]  # whether hide() can work (write_token_env is meaningful)

    def auth(self, secret: str | None) -> Auth:
        """How a visit's requests are authorised with the reading secret (or none)."""
        ...

    def check(self, response: Response, api: Api) -> None:
        """Raise this source's SourceError when ``response`` says the visit must stop."""
        ...

    async def read(self, api: Api, account: Account, cursor: Mapping[str, Any]) -> Reading:
        """The new comments under the account's recent posts."""
        ...

    def usage(self, api: Api, account: Account) -> str:
        """What the visit cost, in French ("7 requêtes, 7 unités YouTube…")."""
        ...

    async def hide(
        self,
        client: HttpClient,
        *,
        base: str,
        comment_id: str,
        token: str | None,
        token_env: str | None = None,
        url: str | None = None,
    ) -> str:
        """Hide one comment; the platform's answer summarised in French, else SourceError
        (in French). ``token_env`` names the token's variable in messages; ``url`` is the
        comment's link, given to do it by hand where no API can."""
        ...


class Api:
    """The requests of one visit to one platform: authorised, counted, checked."""

    def __init__(
        self, client: HttpClient, platform: Platform, *, auth: Auth, account: Account
    ) -> None:
        self.client = client
        self.platform = platform
        self.auth = auth
        self.account = account
        self.requests = 0
        self.bytes_received = 0
        self.peak: float | None = None  # the highest usage a platform reported (percent)
        self.remaining: int | None = None  # requests left in the platform's window

    async def send(self, request: ApiRequest) -> Response:
        """Send ``request`` through the auth flow; the answer, unchecked."""
        flow = self.auth.auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                response = await self._send_one(outgoing)
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return response
        finally:
            flow.close()

    async def _send_one(self, request: ApiRequest) -> Response:
        self.requests += 1
        headers = {"Accept": "application/json", **request.headers}
        if request.method == "POST":
            response = await self.client.post(request.url, form=request.form or {}, headers=headers)
        else:
            response = await self.client.get(request.url, headers=headers)
        self.bytes_received += len(response.content)
        return response

    async def get(self, url: str, *, missing_ok: bool = False) -> Any:
        """GET ``url``: its JSON, once the platform found nothing wrong with the answer.
        With ``missing_ok``, None when the object is gone (deleted since it was listed)."""
        response = await self.send(ApiRequest(url))
        if missing_ok and is_missing(response):
            return None
        self.platform.check(response, self)
        return load_json(response, self.platform.label)


def is_missing(response: Response) -> bool:
    """Whether the answer says the object asked for does not exist (404, 410, or an
    XRPC ``{"error": "NotFound"}``)."""
    if response.status in (404, 410):
        return True
    if response.status != 400:
        return False
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("error") == "NotFound"


# --- reading answers ---------------------------------------------------------------


def field_of(data: object, *keys: str) -> Any:
    """``data[k1][k2]…``, or None as soon as a level is not an object or lacks the key."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def entries(data: object, key: str = "data") -> list[dict[str, Any]]:
    """The objects of the list ``data[key]`` (anything else in it is dropped); [] when
    there is no such list."""
    values = field_of(data, key)
    if not isinstance(values, list):
        return []
    return [value for value in values if isinstance(value, dict)]


def listing(data: object, key: str, label: str) -> list[dict[str, Any]]:
    """The objects of the list ``data[key]``, which the answer must have: without it,
    the answer is not the platform's format (SourceError)."""
    if not isinstance(field_of(data, key), list):
        raise unexpected(label)
    return entries(data, key)


def error_body(response: Response) -> dict[str, Any]:
    """The ``{"error": {...}}`` object of an error answer (Meta, Google), else {}."""
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def short(value: object, limit: int = 160) -> str:
    """A message from a server, on one line and short (it is untrusted text)."""
    return excerpt(text_field(value), limit)


def platform_error(label: str, response: Response, *, every: float) -> SourceError:
    """The platform's SourceError of an HTTP error status (a 429 or 503 waits)."""
    error = status_error(response, every=every)
    return SourceError(f"{label} : {error}", retry_after=error.retry_after)


def comment_item(
    account: Account,
    *,
    platform: str,
    outlet: str,
    comment_id: str,
    url: str,
    text: str,
    author: str | None,
    published_at: datetime | None,
    post_text: str | None,
) -> Item:
    """The item of one comment or reply: its link, id (for hiding), first words as title,
    author and the first words of the post it answers. Its key is the platform's id, so
    two comments under one link (Instagram) stay two items."""
    author = one_line(author or "") or None
    title = excerpt(text) or (f"Commentaire sans texte de {author}" if author else "")
    return Item(
        source=account.source,
        url=url,
        title=title or "Commentaire sans texte",
        text=text,
        guid=comment_id,
        published_at=published_at,
        outlet=outlet,
        key=f"{platform}:{comment_id}",
        dedup_by_title=False,  # "Bravo !" twice is two comments
        author=author,
        reply_to=excerpt(post_text or "") or None,
    )


# --- where the next visit starts ----------------------------------------------------


def load_cursor(text: str | None, account_id: str) -> dict[str, Any]:
    """The stored cursor of this account, or {} (none, unreadable, or another account's)."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        log.warning("curseur illisible ignoré : %.80s", text)
        return {}
    if not isinstance(data, dict) or data.get("a") != account_id:
        return {}
    return data


def dump_cursor(data: Mapping[str, Any]) -> str | None:
    """The cursor as compact JSON, at most MAX_CURSOR characters (else None: start afresh)."""
    if not data:
        return None
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_CURSOR else None


def _digest(comment_id: str) -> str:
    return hashlib.sha1(comment_id.encode("utf-8")).hexdigest()[:DIGEST]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


class Watermark:
    """Which comments were already seen, from the cursor.

    ``t`` is the time of the newest comment seen: an API with ``since`` is asked
    for nothing older (:attr:`since`), and paging newest first stops at the first
    comment older than it (:meth:`behind`). ``w`` is the start of a window that
    ends at ``t``: a comment at or before ``w`` was seen (or is too late to matter);
    ``s`` holds digests of the comments seen after ``w``, so that a comment that
    shows up late (federation, held for review), within :data:`GRACE` seconds, is
    still new to an API read whole, and no comment is new twice.

    A visit asks :meth:`is_new` of every comment it reads (new or not) and
    :meth:`dump` gives the next cursor: the window ends at the newest comment seen
    and starts GRACE seconds before (never before the previous start), listing as
    many comments as fit (the start moves up when they do not all fit).
    """

    def __init__(self, cursor: Mapping[str, Any], *, budget: int = MAX_CURSOR - 300):
        self.newest = _number(cursor.get("t"))
        self.start = _number(cursor.get("w"))
        if self.start is None or self.newest is None:
            self.newest = self.start = None
        listed = cursor.get("s")
        values = listed if isinstance(listed, list) else []
        self.seen = frozenset(value for value in values if isinstance(value, str))
        self.budget = budget  # characters of the cursor the digests may take
        self._read: dict[str, float | None] = {}

    @property
    def since(self) -> int | None:
        """The newest comment's time as a Unix time (a ``since=`` parameter), or None."""
        return None if self.newest is None else math.floor(self.newest)

    def behind(self, when: datetime | None) -> bool:
        """Whether a comment of this time is older than the newest one seen (paging
        newest first with ``since`` can stop there)."""
        return when is not None and self.newest is not None and when.timestamp() < self.newest

    def is_new(self, when: datetime | None, comment_id: str) -> bool:
        """Whether this comment was not seen before (nor earlier in this visit); it counts
        as seen from now on."""
        stamp = when.timestamp() if when is not None else None
        digest = _digest(comment_id)
        if digest in self._read:
            return False
        self._read[digest] = stamp
        if self.start is None:
            return True
        if stamp is not None and stamp <= self.start:
            return False
        return digest not in self.seen

    def dump(self) -> dict[str, Any]:
        """The next cursor's ``t``, ``w`` and ``s``."""
        dated = [stamp for stamp in self._read.values() if stamp is not None]
        if not dated:
            if self.start is None or self.newest is None:
                return {}
            return {"t": self.newest, "w": self.start, "s": sorted(self.seen)}
        newest = max(dated) if self.newest is None else max(*dated, self.newest)
        start = newest - GRACE if self.start is None else max(newest - GRACE, self.start)
        inside = sorted(
            ((newest if stamp is None else stamp, digest) for digest, stamp in self._read.items()),
            reverse=True,
        )
        inside = [(stamp, digest) for stamp, digest in inside if stamp > start]
        room = self.budget // (DIGEST + 3)
        if len(inside) > room:
            cut = inside[room][0]  # the first left out: its time, and all before, are seen
            inside = [(stamp, digest) for stamp, digest in inside if stamp > cut]
            start = cut
        return {"t": round(newest, 3), "w": round(start, 3), "s": [d for _, d in inside]}


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 requête", "7 requêtes"."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def thousands(number: int) -> str:
    return f"{number:,}".replace(",", " ")
