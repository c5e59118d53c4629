"""``engine: reddit`` — Reddit search as JSON (no key needed).

Defaults: ``sort=new``, ``t=week``, ``limit=100``, ``raw_json=1``. One
subreddit: ``params: {restrict_sr: "on"}`` with ``url:
https://www.reddit.com/r/NOM``. Reddit asks for a descriptive User-Agent
(``http.user_agent``) and answers 403/429 to data-centre addresses or bursts:
the source then backs off and the reason says what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar

from collectors.base import Item
from collectors.engines.base import SearchRequest, SearchResult, endpoint, load_json, unexpected
from collectors.http import Response
from collectors.text import html_to_text


class Reddit:
    name: ClassVar[str] = "reddit"
    default_base: ClassVar[str | None] = "https://www.reddit.com"

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest:
        defaults = {"sort": "new", "t": "week", "limit": "100", "raw_json": "1"}
        return SearchRequest(endpoint(base, "/search.json", defaults, params, {"q": query}))

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult:
        data = load_json(response, "Reddit")
        try:
            children = data["data"]["children"]
        except (KeyError, TypeError):
            raise unexpected("Reddit") from None
        site = "https://www.reddit.com" if "reddit.com" in base else base.split("/r/")[0]
        items = []
        for child in children:
            post = child.get("data", {}) if isinstance(child, dict) else {}
            permalink = post.get("permalink")
            if not permalink:
                continue
            created = post.get("created_utc")
            items.append(
                Item(
                    source=source,
                    url=site.rstrip("/") + permalink,
                    title=html_to_text(str(post.get("title", ""))),
                    text=html_to_text(str(post.get("selftext", ""))),
                    guid=f"reddit:{post.get('id') or permalink}",
                    published_at=datetime.fromtimestamp(float(created), UTC) if created else None,
                    author=post.get("author"),
                    outlet=f"r/{post['subreddit']}" if post.get("subreddit") else "Reddit",
                )
            )
        return SearchResult(tuple(items))
