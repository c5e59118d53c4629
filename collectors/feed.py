"""``type: feed`` — any RSS 0.9x–2.0 or Atom feed.

News sites, blogs, YouTube channel feeds, Mastodon tag feeds, RSSHub or
RSS-Bridge feeds of Facebook/Instagram pages, and the feed of an existing
Google Alert (its redirect links are unwrapped when items are stored).

Options (config.yaml)::

    - name: L'Express de Drummondville   # unique name shown in the digest
      type: feed
      url: https://www.journalexpress.ca/feed/
      every: 30m                          # how often to visit (default 1h)

The feed is fetched with conditional GET (ETag / Last-Modified), decoded by
feedparser from its declared charset (UTF-8, windows-1252, ISO-8859-1…), and
the HTML of titles and summaries becomes plain text.
"""

from __future__ import annotations

import calendar
import io
import logging
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import feedparser
from pydantic import field_validator

from collectors.base import Collection, ConfiguredCollector, Item, SourceState
from collectors.http import HttpClient, status_reason
from collectors.text import html_to_text
from veille.config import SourceConfig
from veille.errors import SourceError

log = logging.getLogger(__name__)


def check_http_url(value: str) -> str:
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError(
            f"adresse invalide « {value} » : elle doit commencer par http:// ou https://"
        )
    return value


class FeedSource(SourceConfig):
    type: Literal["feed"] = "feed"
    url: str

    _check_url = field_validator("url")(check_http_url)


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError):
                continue
    return None


def _entry_body(entry: Any) -> str:
    parts = [c.get("value", "") for c in entry.get("content", []) or []]
    summary = entry.get("summary", "")
    if summary and all(summary not in part for part in parts):
        parts.insert(0, summary)
    return "\n".join(html_to_text(part) for part in parts if part)


def parse_feed(content: bytes, *, source: str, content_type: str = "") -> tuple[Item, ...]:
    """Items of an RSS/Atom document; SourceError when it is not one."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    version = parsed.get("version", "")
    if not version and not parsed.entries:
        if content_type.startswith("text/html") or content.lstrip()[:15].lower().startswith(
            (b"<!doctype html", b"<html")
        ):
            raise SourceError("page HTML reçue au lieu d'un flux RSS/Atom")
        raise SourceError("contenu illisible : ce n'est pas un flux RSS/Atom")
    items = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        guid = entry.get("id") or None
        if not link and guid and guid.startswith(("http://", "https://")):
            link = guid
        title = html_to_text(entry.get("title", "")).replace("\n", " ")
        if not link and not guid:
            continue
        items.append(
            Item(
                source=source,
                url=link,
                title=title,
                text=_entry_body(entry),
                guid=guid,
                published_at=_entry_time(entry),
                author=entry.get("author") or None,
                outlet=(entry.get("source") or {}).get("title") or None,
            )
        )
    return tuple(items)


class FeedCollector(ConfiguredCollector[FeedSource]):
    """Collects one RSS/Atom feed."""

    source_type: ClassVar[str] = "feed"
    options_model: ClassVar[type[SourceConfig]] = FeedSource

    async def collect(self, client: HttpClient, state: SourceState) -> Collection:
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
        }
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        response = await client.get(self.options.url, headers=headers)
        if response.status == 304:
            return Collection(state=state, not_modified=True)
        if response.status >= 400:
            raise SourceError(status_reason(response.status))
        items = parse_feed(
            response.content,
            source=self.name,
            content_type=response.headers.get("content-type", ""),
        )
        new_state = SourceState(
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )
        return Collection(items=items, state=new_state, bytes_received=len(response.content))
