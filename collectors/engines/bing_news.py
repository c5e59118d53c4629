"""``engine: bing_news`` — Bing News as RSS (no key, unofficial, best effort).

Defaults: ``format=rss``, ``setmkt=fr-CA``, ``setlang=fr``. The outlet of an
item is its ``<News:Source>`` (often "X on MSN"). Bing often answers with only
the newest items; a channel without items is simply an empty result. An HTML
page (or anything but RSS) is "no items" with a warning shown in
``veille sources``, not a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from collectors.engines.base import BaseEngine, SearchRequest, SearchResult, endpoint
from collectors.feed import entry_item, read_feed, skipped_entries
from collectors.response import Response
from collectors.text import clean_label
from veille.errors import SourceError


class BingNews(BaseEngine):
    name: ClassVar[str] = "bing_news"
    default_base: ClassVar[str | None] = "https://www.bing.com"

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest:
        defaults = {"format": "rss", "setmkt": "fr-CA", "setlang": "fr"}
        return SearchRequest(endpoint(base, "/news/search", defaults, params, {"q": query}))

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult:
        try:
            document = read_feed(
                response.content, content_type=response.headers.get("content-type", "")
            )
        except SourceError as exc:
            return SearchResult((), warning=f"Bing n'a pas répondu en RSS ({exc}) : aucun élément")
        items = []
        for entry in document.entries:
            # <News:Source>: feedparser names an element of an unknown namespace by its prefix
            item = entry_item(entry, source=source, outlet=clean_label(entry.get("news_source")))
            if item is not None:
                items.append(item)
        return SearchResult(
            tuple(items), rejected=skipped_entries(len(document.entries) - len(items))
        )
