"""``engine: wikipedia`` — MediaWiki full-text search (no key).

Defaults (fr.wikipedia.org): ``srwhat=text``, ``srlimit=50``,
``srsort=last_edit_desc``. A regional or other wiki: ``url:
https://en.wikipedia.org``. A page already reported comes back only when its
snippet about the college changes (the snippet is part of the item's key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar
from urllib.parse import quote

from collectors.base import Item
from collectors.engines.base import SearchRequest, SearchResult, endpoint, load_json, unexpected
from collectors.http import Response
from collectors.text import html_to_text


class Wikipedia:
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
        items = []
        for result in results:
            title = str(result.get("title", ""))
            if not title:
                continue
            url = f"{base.rstrip('/')}/wiki/{quote(title.replace(' ', '_'))}"
            snippet = html_to_text(str(result.get("snippet", "")))
            digest = hashlib.sha256(snippet.encode()).hexdigest()[:16]
            stamp = result.get("timestamp")
            items.append(
                Item(
                    source=source,
                    url=url,
                    title=title,
                    text=snippet,
                    guid=f"wikipedia:{result.get('pageid', title)}",
                    published_at=datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                    if isinstance(stamp, str) and stamp
                    else None,
                    outlet="Wikipédia",
                    key=f"{url}#extrait-{digest}",
                )
            )
        return SearchResult(tuple(items))
