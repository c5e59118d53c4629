"""``engine: searxng`` — a SearXNG instance's JSON search (no key).

``url:`` is required (your instance). Defaults: ``format=json``,
``language=fr-CA``, ``time_range=week``, ``categories=general,news``,
``safesearch=0``. The instance must list ``json`` under ``search: formats:`` in
its settings.yml (else it answers 403), and a private instance should set
``limiter: false`` (else it may answer 429 to programs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar

from collectors.base import Item
from collectors.engines.base import SearchRequest, SearchResult, endpoint, load_json, unexpected
from collectors.http import Response
from collectors.text import html_to_text


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SearXNG:
    name: ClassVar[str] = "searxng"
    default_base: ClassVar[str | None] = None

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest:
        defaults = {
            "format": "json",
            "language": "fr-CA",
            "time_range": "week",
            "categories": "general,news",
            "safesearch": "0",
        }
        return SearchRequest(
            endpoint(base, "/search", defaults, params, {"q": query}),
            headers={"Accept": "application/json, text/html;q=0.9"},
        )

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult:
        data = load_json(response, "SearXNG")
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise unexpected("SearXNG")
        items = []
        for result in results:
            if not isinstance(result, dict) or not result.get("url"):
                continue
            items.append(
                Item(
                    source=source,
                    url=str(result["url"]),
                    title=html_to_text(str(result.get("title") or "")),
                    text=html_to_text(str(result.get("content") or "")),
                    published_at=_when(result.get("publishedDate")),
                    author=result.get("author") or None,
                    outlet=result.get("engine") or None,
                )
            )
        down = data.get("unresponsive_engines") or []
        warning = None
        if down and not items:
            names = ", ".join(str(d[0]) for d in down if isinstance(d, list) and d)
            warning = f"moteurs de SearXNG sans réponse : {names}"
        return SearchResult(tuple(items), warning)
