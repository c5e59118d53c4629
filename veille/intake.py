"""What comes in from the web, made safe before it is keyed, matched and stored.

Collectors parse formats that change without notice and pages written by
anyone. Before the pipeline uses an item, :func:`clean_item`:

- turns values of the wrong type into text (a list where a string was
  expected is joined) or refuses the item when its link is unusable;
- removes NUL, control and bidirectional-override characters;
- shortens titles to :data:`MAX_TITLE` characters and texts to :data:`MAX_TEXT`
  (:func:`veille.sanitize.shorten`: on a word, with « … »);
- takes a time without a zone as UTC and brings a time in the future (a year
  9999, a Reddit ``created_utc`` of 1e20) back to the time it was found.

A refused item raises :class:`RejectedItem` with a short French reason; the
pipeline skips it, logs it and counts it for ``veille sources`` (« éléments
rejetés »). :func:`newest` keeps at most :data:`MAX_ITEMS` items of one visit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from collectors.base import Item
from veille.sanitize import clean_text, one_line, shorten
from veille.urls import canonical_url, item_key

MAX_ITEMS = 1000  # items kept from one visit of one source (the newest)
MAX_TITLE = 500  # characters
MAX_TEXT = 100_000  # characters of an item's text, for matching and storage
MAX_OUTLET = 300
_OLDEST = datetime(1970, 1, 1, tzinfo=UTC)


class RejectedItem(ValueError):
    """An item that cannot be used; ``str(exc)`` is the French reason."""


def _as_text(value: object) -> str:
    """Text from what a parser gave: strings as they are, lists joined, None empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return " ".join(_as_text(part) for part in value)
    if isinstance(value, dict):
        return ""
    return str(value)


def clean_time(value: object, now: datetime) -> datetime | None:
    """An aware UTC time no later than ``now``; None when it is not a time."""
    if not isinstance(value, datetime):
        return None
    when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        when = when.astimezone(UTC)
    except (OverflowError, ValueError):
        return now
    if when > now:
        return now
    return when if when >= _OLDEST else None


def clean_item(item: Item, now: datetime) -> tuple[str, Item]:
    """The item's deduplication key and a cleaned copy; RejectedItem when unusable."""
    if not isinstance(item.url, str):
        raise RejectedItem("lien absent ou illisible")
    url = one_line(item.url)
    guid = one_line(_as_text(item.guid)) or None
    if not url and not guid:
        raise RejectedItem("ni lien ni identifiant")
    key = item.key if isinstance(item.key, str) and item.key else None
    try:
        if key is None:
            key = item_key(url, guid)  # the canonical URL (it parses), else the guid
        else:
            key = one_line(key)
            if url.startswith(("http://", "https://")):
                canonical_url(url)  # the store keeps the canonical URL: it must parse
    except (ValueError, UnicodeError) as exc:
        raise RejectedItem(f"lien invalide « {shorten(url, 80)} » ({exc})") from None
    outlet = shorten(one_line(_as_text(item.outlet)), MAX_OUTLET) or None
    cleaned = replace(
        item,
        url=url,
        guid=guid,
        title=shorten(one_line(_as_text(item.title)), MAX_TITLE),
        text=shorten(clean_text(_as_text(item.text)), MAX_TEXT),
        published_at=clean_time(item.published_at, now),
        outlet=outlet,
        key=key,
        author=shorten(one_line(_as_text(item.author)), MAX_OUTLET) or None,
        reply_to=shorten(one_line(_as_text(item.reply_to)), MAX_TITLE) or None,
    )
    return key, cleaned


def newest(items: Sequence[Item], limit: int = MAX_ITEMS) -> tuple[list[Item], int]:
    """The ``limit`` newest items (undated ones keep their place in the feed's order,
    after the dated ones), and how many were left out."""
    if len(items) <= limit:
        return list(items), 0
    ordered = sorted(items, key=lambda item: item.published_at or _OLDEST, reverse=True)
    return ordered[:limit], len(items) - limit
