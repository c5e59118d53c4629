"""``engine: wikipedia`` — MediaWiki full-text search (no key).

Defaults (fr.wikipedia.org): ``srwhat=text``, ``srlimit=50``,
``srsort=last_edit_desc``. A regional or other wiki: ``url:
https://en.wikipedia.org``. A page already reported comes back only when its
snippet about the college changes (the snippet is part of the item's key).
The outlet is "Wikipédia"; a result without title is skipped, a timestamp
that is not ISO 8601 is left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from collectors.base import Item
from collectors.engines.base import (
    BaseEngine,
    SearchRequest,
    SearchResult,
    endpoint,
    load_json,
    text_field,
    unexpected,
)
from collectors.feed import skipped_entries
from collectors.response import Response
from collectors.text import html_to_text, iso_time, one_line, web_url


class Wikipedia(BaseEngine):
    name: ClassVar[str] = "wikipedia"
    default_base: ClassVar[str | None] = "https://fr.wikipedia.org"

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest:
        defaults = {
            "action": "query",
            "list": "search",
            "srwhat": "text",
            "srlimit": "50",
            "srprop": "snippet|timestamp|sectiontitle",
            "srsort": "last_edit_desc",
            "format": "json",
            "formatversion": "2",
        }
        return SearchRequest(endpoint(base, "/w/api.php", defaults, params, {"srsearch": query}))

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult:
        data = load_json(response, "Wikipédia")
        try:
            results = data["query"]["search"]
        except (KeyError, TypeError):
            if isinstance(data, dict) and "error" in data:
                info = (
                    data["error"].get("info", "erreur") if isinstance(data["error"], dict) else ""
                )
                raise unexpected(f"Wikipédia ({info})") from None
            raise unexpected("Wikipédia") from None
        if not isinstance(results, list):
            raise unexpected("Wikipédia")
        items = []
        for result in results:
            item = page_item(result, source=source, base=base) if isinstance(result, dict) else None
            if item is not None:
                items.append(item)
        return SearchResult(tuple(items), rejected=skipped_entries(len(results) - len(items)))


def page_item(result: Mapping[str, Any], *, source: str, base: str) -> Item | None:
    """The item of one search result, or None without a usable title."""
    title = one_line(text_field(result.get("title")))
    if not title:
        return None
    url = web_url(f"{base.rstrip('/')}/wiki/{quote(title.replace(' ', '_'))}")
    if url is None:
        return None
    snippet = html_to_text(text_field(result.get("snippet")))
    digest = hashlib.sha256(snippet.encode()).hexdigest()[:16]
    page_id = text_field(result.get("pageid")) or title
    return Item(
        source=source,
        url=url,
        title=title,
        text=snippet,
        guid=f"wikipedia:{page_id}",
        published_at=iso_time(result.get("timestamp")),
        outlet="Wikipédia",
        key=f"{url}#extrait-{digest}",
    )
