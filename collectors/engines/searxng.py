"""``engine: searxng`` — a SearXNG instance's JSON search (no key).

``url:`` is required (your instance). Defaults: ``format=json``,
``language=fr-CA``, ``time_range=week``, ``categories=general,news``,
``safesearch=0``. The instance must list ``json`` under ``search: formats:`` in
its settings.yml (else it answers 403), and a private instance should set
``limiter: false`` (else it may answer 429 to programs).

A result's date is its ``publishedDate``, else (news results) its ``pubdate``;
its outlet is the site of its address (``engine`` names the search engine
that found it, not the medium). Engines the instance lists as unresponsive
are reported as a warning in ``veille sources``, results or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

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
from collectors.text import clean_label, html_to_text, iso_time, one_line, url_domain, web_url

MAX_REPORTED_ENGINES = 10


class SearXNG(BaseEngine):
    name: ClassVar[str] = "searxng"
    default_base: ClassVar[str | None] = None
    advice: ClassVar[Mapping[int, str]] = {
        403: "SearXNG refuse le format JSON : ajoutez json sous search: formats: dans settings.yml",
        429: "le limiteur de SearXNG bloque veille : mettez limiter: false "
        "pour une instance privée",
    }

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
            item = result_item(result, source=source) if isinstance(result, dict) else None
            if item is not None:
                items.append(item)
        return SearchResult(
            tuple(items),
            unresponsive_warning(data.get("unresponsive_engines")),
            rejected=skipped_entries(len(results) - len(items)),
        )


def result_item(result: Mapping[str, Any], *, source: str) -> Item | None:
    """The item of one result, or None without a usable address."""
    url = web_url(result.get("url"))
    if url is None:
        return None
    return Item(
        source=source,
        url=url,
        title=one_line(html_to_text(text_field(result.get("title")))),
        text=html_to_text(text_field(result.get("content"))),
        published_at=iso_time(result.get("publishedDate")) or iso_time(result.get("pubdate")),
        outlet=url_domain(url),
    )


def unresponsive_warning(engines: object) -> str | None:
    """ "moteurs de SearXNG sans réponse : google (timeout), bing (CAPTCHA)", or None."""
    if not isinstance(engines, list):
        return None
    names = []
    for entry in engines:
        parts = entry if isinstance(entry, list) else [entry]
        name = clean_label(text_field(parts[0])) if parts else None
        reason = clean_label(text_field(parts[1])) if len(parts) > 1 else None
        if name:
            names.append(f"{name} ({reason})" if reason else name)
    if not names:
        return None
    shown = ", ".join(names[:MAX_REPORTED_ENGINES])
    more = (
        f" et {len(names) - MAX_REPORTED_ENGINES} autre(s)"
        if len(names) > MAX_REPORTED_ENGINES
        else ""
    )
    return f"moteurs de SearXNG sans réponse : {shown}{more}"
