"""The small interface every search engine implements.

An engine turns a query into a request (``request``) and a response into items
(``parse``). ``base`` is where the endpoint lives: the engine's public address,
or the source's ``url:`` (scheme, host and an optional path prefix), to which
the engine adds its own path.

Answers are untrusted: ``parse`` reads each result on its own, cleans a field
of the wrong kind (:func:`text_field`) and skips a result it cannot use, so
one bad result never fails the source; only an answer that is not the
engine's format at all is a :class:`~veille.errors.SourceError`.

An engine also owns its quirks, so that the ``search`` collector never names
one:

- ``advice``: what to do about an HTTP error status, in French (added to the
  source's error);
- ``may_fetch(url)``: whether a result link may be fetched for its full text
  (``fetch_full``; ``fetch_full_allowed`` is False when none ever can);
- ``auth(base, credentials)``: how a source's requests are authorised, an
  :class:`Auth` whose ``auth_flow`` is shaped like httpx's ``Auth.auth_flow``:
  a generator that yields requests and receives their responses; the response
  to the last request it yields is the answer. Without credentials, the flow
  yields the request once (:class:`NoAuth`). ``credentials_for`` says what
  ``client_id_env`` and ``client_secret_env`` stand for with this engine, or
  None when it takes none.

:class:`BaseEngine` gives the defaults: no advice, every web link fetchable
except those of :data:`NO_ARTICLE_HOSTS`, no authorisation.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, TypeAlias
from urllib.parse import urlencode, urlsplit

from collectors.base import Item
from collectors.response import Response
from veille.errors import SourceError

# hosts whose links never lead to the article but to a consent or "sorry" page,
# whichever engine found them (Google News article links)
NO_ARTICLE_HOSTS = frozenset({"news.google.com"})


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A request an engine (or its auth flow) asks to send."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    method: Literal["GET", "POST"] = "GET"
    form: Mapping[str, str] | None = None  # a POST's form fields


@dataclass(frozen=True, slots=True)
class SearchResult:
    items: tuple[Item, ...]
    warning: str | None = None
    rejected: tuple[str, ...] = ()  # why each unreadable result was skipped


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """The names of the environment variables holding a client id and secret
    (``client_id_env``, ``client_secret_env``), never the values themselves."""

    id_env: str
    secret_env: str


AuthFlow: TypeAlias = Generator[SearchRequest, Response, None]
"""Yields the requests to send, receives each one's response (httpx's ``auth_flow``)."""


class Auth(Protocol):
    """How one source's requests to its engine are authorised."""

    @property
    def api_base(self) -> str:
        """Where the engine's requests go (an authorised API may live elsewhere)."""
        ...

    def auth_flow(self, request: SearchRequest) -> AuthFlow: ...


class NoAuth:
    """No authorisation: the request is sent once, as it is."""

    def __init__(self, base: str):
        self._base = base

    @property
    def api_base(self) -> str:
        return self._base

    def auth_flow(self, request: SearchRequest) -> AuthFlow:
        yield request


class Engine(Protocol):
    name: ClassVar[str]
    default_base: ClassVar[str | None]
    # False when no result link can be fetched for its full text (Google News)
    fetch_full_allowed: ClassVar[bool]
    advice: ClassVar[Mapping[int, str]]  # HTTP status → what to do, in French
    credentials_for: ClassVar[str | None]  # what client_id_env/client_secret_env are for

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest: ...

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult: ...

    def may_fetch(self, url: str) -> bool:
        """Whether a result link may be fetched for its full text."""
        ...

    def auth(self, base: str, credentials: ClientCredentials | None) -> Auth:
        """How a source's requests are authorised; ``base`` is the source's own."""
        ...


class BaseEngine:
    """Defaults of an engine: no advice, no credentials, links fetchable."""

    fetch_full_allowed: ClassVar[bool] = True
    advice: ClassVar[Mapping[int, str]] = {}
    credentials_for: ClassVar[str | None] = None

    def may_fetch(self, url: str) -> bool:
        return self.fetch_full_allowed and leads_to_article(url)

    def auth(self, base: str, credentials: ClientCredentials | None) -> Auth:
        return NoAuth(base)


def leads_to_article(url: str) -> bool:
    """False for a link without host or on one of :data:`NO_ARTICLE_HOSTS`."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return bool(host) and host not in NO_ARTICLE_HOSTS


def endpoint(
    base: str,
    path: str,
    defaults: Mapping[str, str],
    overrides: Mapping[str, str],
    query: Mapping[str, str],
) -> str:
    """``base`` + ``path`` + the defaults, overridden per source, then the query."""
    values = {**defaults, **overrides, **query}
    return f"{base.rstrip('/')}{path}?{urlencode(values)}"


def load_json(response: Response, what: str) -> Any:
    if response.content_type == "text/html" or response.content.lstrip()[:1] == b"<":
        raise SourceError(f"page HTML reçue au lieu de la réponse JSON de {what}")
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        raise SourceError(f"réponse JSON illisible de {what}") from None


def text_field(value: object) -> str:
    """A JSON field meant to be a string: a number becomes its digits; a list, an
    object, null or a boolean becomes "" (the result is read without it)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def unexpected(what: str) -> SourceError:
    return SourceError(f"format de réponse inattendu de {what} (le service a peut-être changé)")
