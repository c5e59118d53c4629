"""``engine: google_news`` — news.google.com RSS search (no key).

Defaults: ``hl=fr-CA``, ``gl=CA``, ``ceid=CA:fr`` (change all three together
with ``params:``, e.g. ``{hl: en-CA, ceid: "CA:en"}`` for English). Titles read
"Titre - Média": the medium becomes the item's outlet. Links stay Google's own
(they cannot be resolved without a browser); the same story from the outlet's
feed is recognised by its title.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from collectors.engines.base import SearchRequest, SearchResult, endpoint
from collectors.feed import parse_feed
from collectors.http import Response


def split_outlet(title: str, outlet: str | None) -> tuple[str, str | None]:
    """ "Titre - Média" → ("Titre", "Média")."""
    head, sep, tail = title.rpartition(" - ")
    if sep and head and (outlet is None or tail.strip() == outlet.strip()):
        return head.strip(), tail.strip()
    return title, outlet


class GoogleNews:
    name: ClassVar[str] = "google_news"
    default_base: ClassVar[str | None] = "https://news.google.com"

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest:
        defaults = {"hl": "fr-CA", "gl": "CA", "ceid": "CA:fr"}
        return SearchRequest(endpoint(base, "/rss/search", defaults, params, {"q": query}))

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult:
        items = []
        for item in parse_feed(
            response.content, source=source, content_type=response.headers.get("content-type", "")
        ):
            title, outlet = split_outlet(item.title, item.outlet)
            items.append(replace(item, title=title, outlet=outlet))
        return SearchResult(tuple(items))
