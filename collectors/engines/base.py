"""The small interface every search engine implements.

An engine turns a query into a request (``request``) and a response into items
(``parse``). ``base`` is where the endpoint lives: the engine's public address,
or the source's ``url:`` (scheme, host and an optional path prefix), to which
the engine adds its own path.

Answers are untrusted: ``parse`` reads each result on its own, cleans a field
of the wrong kind (:func:`text_field`) and skips a result it cannot use, so
one bad result never fails the source; only an answer that is not the
engine's format at all is a :class:`~veille.errors.SourceError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import urlencode

from collectors.base import Item
from collectors.http import Response
from veille.errors import SourceError


@dataclass(frozen=True, slots=True)
class SearchRequest:
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchResult:
    items: tuple[Item, ...]
    warning: str | None = None
    rejected: tuple[str, ...] = ()  # why each unreadable result was skipped


class Engine(Protocol):
    name: ClassVar[str]
    default_base: ClassVar[str | None]
    # False when result links cannot be fetched for their full text (Google News)
    fetch_full_allowed: ClassVar[bool]

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest: ...

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult: ...


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
