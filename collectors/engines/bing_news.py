"""``engine: bing_news`` — Bing News as RSS (no key, unofficial, best effort).

Defaults: ``format=rss``, ``setmkt=fr-CA``, ``setlang=fr``. Bing often answers
with only the newest items, or with an HTML page: that is "no items" with a
warning shown in ``veille sources``, not a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from collectors.engines.base import SearchRequest, SearchResult, endpoint
from collectors.feed import parse_feed
from collectors.http import Response
from veille.errors import SourceError


class BingNews:
    name: ClassVar[str] = "bing_news"
    default_base: ClassVar[str | None] = "https://www.bing.com"

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest:
        defaults = {"format": "rss", "setmkt": "fr-CA", "setlang": "fr"}
        return SearchRequest(endpoint(base, "/news/search", defaults, params, {"q": query}))

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult:
        try:
            items = parse_feed(
                response.content,
                source=source,
                content_type=response.headers.get("content-type", ""),
            )
        except SourceError as exc:
            return SearchResult((), warning=f"Bing n'a pas répondu en RSS ({exc}) : aucun élément")
        if not items:
            return SearchResult((), warning="Bing a répondu sans aucun élément")
        return SearchResult(items)
