"""``engine: google_news`` — news.google.com RSS search (no key).

Defaults: ``hl=fr-CA``, ``gl=CA``, ``ceid=CA:fr`` (change all three together
with ``params:``, e.g. ``{hl: en-CA, ceid: "CA:en"}`` for English). Titles read
"Titre - Média": the medium (the item's ``<source>``) becomes the item's outlet.
Links stay Google's own (they cannot be resolved without a browser, so
``fetch_full`` does nothing here); the same story from the outlet's feed is
recognised by its title.

Clustered stories: an item's description is then a list of headlines, most of
them from *other* outlets, each with its own link and outlet. Each of those
secondary headlines becomes **its own item** (its headline, link and outlet,
no date), so that a headline naming the college is reported with its own
link, and never on the item that merely carries it. The item itself keeps
its own headline and, as text, only its own line of the list. The "full
coverage" line that may end the list is ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from collectors.base import Item
from collectors.engines.base import BaseEngine, SearchRequest, SearchResult, endpoint
from collectors.feed import entry_item, entry_outlet, read_feed, skipped_entries
from collectors.response import Response
from collectors.text import clean_label, html_to_text, one_line, web_url

if TYPE_CHECKING:
    from bs4 import Tag


def split_outlet(title: str, outlet: str | None) -> tuple[str, str | None]:
    """ "Titre - Média" → ("Titre", "Média").

    The title is cut on its last " - " only when what follows is the item's
    ``<source>``, or when there is none (a headline may hold " - " itself)."""
    head, sep, tail = title.rpartition(" - ")
    if not sep or not head.strip():
        return title, outlet
    named = clean_label(tail)
    if outlet is None:
        return (head.strip(), named) if named else (title, None)
    if named and named.casefold() == outlet.casefold():
        return head.strip(), outlet
    return title, outlet


@dataclass(frozen=True, slots=True)
class Headline:
    """One line of a clustered description: a linked headline and its outlet."""

    url: str
    title: str
    outlet: str | None
    text: str  # the whole line as text (headline and outlet)


def cluster(description: str) -> list[Headline] | None:
    """The headlines of a clustered description (``<ol>`` of ``<li>``), or None when
    the description is not a list. The "full coverage" line (a link to a
    /stories/ page) is left out."""
    if "<li" not in description.lower():
        return None
    from bs4 import BeautifulSoup, Tag  # imported when a cluster is read, not by config.yaml

    soup = BeautifulSoup(description, "html.parser")
    lines = soup.find_all("li")
    if not lines:
        return None
    return [line for line in (_headline(li) for li in lines if isinstance(li, Tag)) if line]


def _headline(li: Tag) -> Headline | None:
    from bs4 import Tag

    anchor = li.find("a", href=True)
    if not isinstance(anchor, Tag):
        return None
    font = li.find("font")
    url = web_url(anchor.get("href"))
    if url is None or "/stories/" in url:
        return None
    title = one_line(html_to_text(anchor.decode_contents()))
    if not title:
        return None
    return Headline(
        url=url,
        title=title,
        outlet=clean_label(html_to_text(font.decode_contents())) if font else None,
        text=one_line(html_to_text(li.decode_contents())),
    )


def _same(a: str, b: str) -> bool:
    return one_line(a).casefold() == one_line(b).casefold()


class GoogleNews(BaseEngine):
    name: ClassVar[str] = "google_news"
    default_base: ClassVar[str | None] = "https://news.google.com"
    fetch_full_allowed: ClassVar[bool] = False  # links lead to a "sorry" page, not the article
    advice: ClassVar[Mapping[int, str]] = {429: "Google limite le rythme : augmentez every"}

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest:
        defaults = {"hl": "fr-CA", "gl": "CA", "ceid": "CA:fr"}
        return SearchRequest(endpoint(base, "/rss/search", defaults, params, {"q": query}))

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult:
        document = read_feed(
            response.content, content_type=response.headers.get("content-type", "")
        )
        items: list[Item] = []
        secondary: list[Item] = []
        skipped = 0
        for entry in document.entries:
            found = list(self._items(entry, source))
            if not found:
                skipped += 1
                continue
            items.append(found[0])
            secondary.extend(found[1:])
        # a secondary headline already seen (as an item or in another cluster) adds nothing
        seen = {item.url for item in items}
        for item in secondary:
            if item.url not in seen:
                seen.add(item.url)
                items.append(item)
        return SearchResult(tuple(items), rejected=skipped_entries(skipped))

    def _items(self, entry: Any, source: str) -> Iterator[Item]:
        """The entry's own item, then one item per secondary headline of its cluster."""
        description = entry.get("summary")
        headlines = cluster(description) if isinstance(description, str) else None
        item = entry_item(entry, source=source, body="" if headlines is not None else None)
        if item is None:
            return
        title, outlet = split_outlet(item.title, entry_outlet(entry))
        headlines = headlines or []
        own = [h for h in headlines if h.url == item.url or _same(h.title, title)]
        if len(headlines) == 1:  # the one-link description is the item's own
            own = headlines
        text = own[0].text if own else item.text
        yield replace(item, title=title, outlet=outlet, text=text)
        for headline in headlines:
            if headline not in own:
                yield Item(
                    source=source,
                    url=headline.url,
                    title=headline.title,
                    text="",
                    outlet=headline.outlet,
                )
