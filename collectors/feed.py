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
the HTML of titles and summaries becomes plain text (feedparser neither
sanitises it nor rewrites its links: the text is all veille keeps). An item without title
(Mastodon) is titled with the first words of its text. The outlet shown with
an item is the ``<source>`` it names, else the site a Google Alerts link
leads to, else the feed's own title. Relative links are read against the
feed's address; an entry without link or id is skipped (the source's warning
counts them); a date before 1970 or after 2100 is dropped.
"""

from __future__ import annotations

import calendar
import io
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urljoin

from pydantic import field_validator

from collectors.base import BaseCollector, Collection, Item, SourceState
from collectors.conditional import conditional_get
from collectors.text import (
    clean_label,
    excerpt,
    html_to_text,
    one_line,
    plausible_time,
    url_domain,
    web_url,
)
from veille.config import SourceConfig
from veille.errors import SourceError
from veille.urls import check_http_url, unwrap_redirect

if TYPE_CHECKING:
    from collectors.http import HttpClient

log = logging.getLogger(__name__)

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"


class FeedSource(SourceConfig):
    type: Literal["feed"] = "feed"
    url: str

    _check_url = field_validator("url")(check_http_url)


def read_feed(content: bytes, *, content_type: str = "", url: str = "") -> Any:
    """The feed as feedparser reads it; SourceError when it is not a feed.
    ``url``, where the feed was found, makes its relative links absolute."""
    # Where the feed was found is not given to feedparser: it would join it with itself
    # at every element (an eighth of its time); relative links are joined below instead.
    headers = {"content-type": content_type} if content_type else {}
    import feedparser  # here, not at the top: validating config.yaml does not need it

    # veille keeps only the text of titles and summaries (collectors.text drops every
    # tag): feedparser's HTML sanitiser and its pass over the links inside them are
    # work thrown away. Its XML safety stays: DOCTYPE and entity declarations are
    # replaced before parsing, external entities are never fetched.
    parsed = feedparser.parse(
        io.BytesIO(content),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    version = parsed.get("version", "")
    if not version and not parsed.entries:
        if content_type.startswith("text/html") or content.lstrip()[:15].lower().startswith(
            (b"<!doctype html", b"<html")
        ):
            raise SourceError("page HTML reçue au lieu d'un flux RSS/Atom")
        raise SourceError("contenu illisible : ce n'est pas un flux RSS/Atom")
    if url:
        for entry in parsed.entries:
            _absolute_links(entry, url)
    return parsed


def _absolute_links(entry: Any, base: str) -> None:
    """An entry's link, and its id when that is its permalink, read against ``base``
    (after the ``xml:base`` feedparser has applied), as feedparser would have."""
    fields = ("link", "id") if entry.get("guidislink") else ("link",)
    for field in fields:
        value = dict.get(entry, field)
        if isinstance(value, str) and value and "://" not in value[:12]:
            entry[field] = urljoin(base, value)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: FeedParserDict.get maps a missing "updated_parsed" to
        # "published_parsed" with a DeprecationWarning
        parsed = dict.get(entry, key) if isinstance(entry, dict) else None
        if parsed:
            try:
                when = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, OSError, TypeError, ValueError):
                continue
            if plausible_time(when):
                return when
    return None


def entry_body(entry: Any) -> str:
    """An entry's summary and contents as text, each once."""
    contents = entry.get("content")
    parts = (
        [_text(c.get("value")) for c in contents if isinstance(c, dict)]
        if isinstance(contents, list)
        else []
    )
    summary = _text(entry.get("summary"))
    if summary and all(summary not in part for part in parts):
        parts.insert(0, summary)
    return "\n".join(html_to_text(part) for part in parts if part)


def entry_outlet(entry: Any) -> str | None:
    """The outlet an entry names itself: its ``<source>`` (RSS) or ``<source><title>`` (Atom)."""
    source = entry.get("source")
    return clean_label(source.get("title")) if isinstance(source, dict) else None


def entry_item(
    entry: Any, *, source: str, outlet: str | None = None, body: str | None = None
) -> Item | None:
    """The item of one feed entry, or None when it has neither link nor id.

    A field of the wrong kind is dropped, a date outside 1970–2100 forgotten; an
    entry without title (Mastodon) is titled with the first words of its text.
    ``body`` replaces the text made of the summary and contents.
    """
    link = web_url(entry.get("link")) or ""
    guid = _text(entry.get("id")).strip() or None
    if not link and guid:
        link = web_url(guid) or ""
    if not link and not guid:
        return None
    text = entry_body(entry) if body is None else body
    title = one_line(html_to_text(_text(entry.get("title")))) or excerpt(text)
    return Item(
        source=source,
        url=link,
        title=title,
        text=text,
        guid=guid,
        published_at=_entry_time(entry),
        outlet=outlet,
    )


def _alert_outlet(link: str) -> str | None:
    """The site a Google Alerts redirect link leads to, else None."""
    try:
        target = unwrap_redirect(link)
    except ValueError:  # a malformed address: the pipeline rejects the item
        return None
    return url_domain(target) if target != link else None


def feed_items(document: Any, *, source: str) -> tuple[Item, ...]:
    """Items of a feed read by :func:`read_feed`. Outlet: the entry's own ``<source>``,
    else the site a Google Alerts link leads to, else the feed's title."""
    channel = clean_label(document.feed.get("title")) if isinstance(document.feed, dict) else None
    items = []
    for entry in document.entries:
        item = entry_item(entry, source=source)
        if item is None:
            continue
        outlet = entry_outlet(entry) or _alert_outlet(item.url) or channel
        items.append(replace(item, outlet=outlet))
    return tuple(items)


def parse_feed(content: bytes, *, source: str, content_type: str = "") -> tuple[Item, ...]:
    """Items of an RSS/Atom document; SourceError when it is not one."""
    return feed_items(read_feed(content, content_type=content_type), source=source)


def skipped_entries(count: int) -> tuple[str, ...]:
    """Why each of ``count`` unreadable entries was skipped (counted as rejected items)."""
    return ("entrée illisible ignorée (sans lien ni titre utilisable)",) * max(0, count)


def join_warnings(*warnings: str | None) -> str | None:
    return " ; ".join(w for w in warnings if w) or None


class FeedCollector(BaseCollector[FeedSource]):
    """Collects one RSS/Atom feed."""

    source_type: ClassVar[str] = "feed"
    options_model: ClassVar[type[SourceConfig]] = FeedSource
    group_label: ClassVar[str] = "Actualités, blogues et flux"

    async def collect(self, client: HttpClient, state: SourceState) -> Collection:
        answer = await conditional_get(
            client,
            self.options.url,
            state,
            every=self.options.every.total_seconds(),
            headers={"Accept": ACCEPT},
        )
        if answer.not_modified:
            return Collection(state=answer.state, not_modified=True)
        response = answer.response
        document = read_feed(
            response.content,
            content_type=response.headers.get("content-type", ""),
            url=response.url,
        )
        items = feed_items(document, source=self.name)
        return Collection(
            items=items,
            state=answer.state,
            bytes_received=len(response.content),
            rejected=skipped_entries(len(document.entries) - len(items)),
        )
