"""``type: page`` — a public web page, watched for new text about the college.

Options (config.yaml)::

    - name: Wikipédia — article du Cégep
      type: page
      url: https://fr.wikipedia.org/wiki/C%C3%A9gep_de_Drummondville
      selector: "#mw-content-text"   # optional CSS selector: only this part of the page
      follow: "a.article-link"       # optional: also visit these links (same site only)
      max_pages: 10                  # pages per visit at most, the first one included
      every: 1d

The visible text (no scripts or styles; no nav, header or footer unless a
``selector`` is given) is cut into paragraphs; each paragraph is an item whose
key is the page address plus a fingerprint of the paragraph. So a page that
still says the same thing is never reported again, while a new or changed
paragraph naming the college is. robots.txt is obeyed for every page
(``http.respect_robots``), and the per-host delay applies between pages.

The charset comes from the HTTP header, then ``<meta charset>``, then detection.
"""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from typing import TYPE_CHECKING, ClassVar, Literal
from urllib.parse import urljoin, urlsplit

from pydantic import Field, field_validator

from collectors.base import BaseCollector, Collection, Item, SourceState
from collectors.conditional import conditional_get
from collectors.response import Response
from collectors.text import tidy
from matchers.normalize import quick_fold
from veille.config import SourceConfig
from veille.errors import SourceError
from veille.urls import canonical_url, check_http_url

if TYPE_CHECKING:
    from bs4 import BeautifulSoup

    from collectors.http import HttpClient

log = logging.getLogger(__name__)

_INVISIBLE = ("script", "style", "noscript", "template", "svg", "iframe", "form")
_CHROME = ("nav", "header", "footer", "aside")
_BLOCKS = (
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "figcaption",
    "br",
    "hr",
    "caption",
    "address",
)
_PARAGRAPHS = re.compile(r"\n\s*\n")
_CHARSET = re.compile(r"charset=([\w.:-]+)", re.IGNORECASE)


class PageSource(SourceConfig):
    type: Literal["page"] = "page"
    url: str
    selector: str | None = None
    follow: str | None = None
    max_pages: int = Field(default=10, ge=1, le=200)

    _check_url = field_validator("url")(check_http_url)


def decode_html(response: Response) -> str:
    """The page as text: HTTP charset, else <meta charset>, else detection."""
    header = _CHARSET.search(response.headers.get("content-type", ""))
    known = [header.group(1)] if header else []
    from bs4 import UnicodeDammit  # imported when a page is read: config.yaml needs no bs4

    dammit = UnicodeDammit(response.content, known_definite_encodings=known, is_html=True)
    if dammit.unicode_markup is None:
        return response.content.decode("utf-8", errors="replace")
    return str(dammit.unicode_markup)


def _soup(markup: str) -> BeautifulSoup:
    from bs4 import BeautifulSoup  # imported when a page is read: config.yaml needs no bs4

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return BeautifulSoup(markup, "html.parser")


def page_text(response: Response, *, selector: str | None) -> tuple[str, str]:
    """(title, visible text with blank lines between blocks) of an HTML page."""
    return visible_text(_soup(decode_html(response)), selector=selector)


def visible_text(soup: BeautifulSoup, *, selector: str | None) -> tuple[str, str]:
    """Like :func:`page_text`, on a parsed page (which it strips: parse it for this only)."""
    title = tidy(soup.title.get_text(" ")) if soup.title else ""
    for tag in soup(_INVISIBLE):
        tag.decompose()
    roots = soup.select(selector) if selector else [soup.body or soup]
    if not selector:
        for tag in soup(_CHROME):
            tag.decompose()
    for root in roots:
        for tag in root.find_all(_BLOCKS):
            tag.insert_before("\n\n")
            tag.insert_after("\n\n")
    text = "\n\n".join(root.get_text("") for root in roots)
    paragraphs = (" ".join(p.split()) for p in _PARAGRAPHS.split(text))
    return title, "\n\n".join(p for p in paragraphs if p)


def paragraph_items(source: str, url: str, title: str, text: str) -> list[Item]:
    """One item per paragraph, keyed by the page address and the paragraph's fingerprint.

    The paragraphs of a page share its title: they are never merged by title."""
    page = canonical_url(url)
    items = []
    for paragraph in text.split("\n\n"):
        fingerprint = hashlib.sha256(quick_fold(paragraph).encode()).hexdigest()[:16]
        items.append(
            Item(
                source=source,
                url=url,
                title=title or url,
                text=paragraph,
                key=f"{page}#texte-{fingerprint}",
                dedup_by_title=False,  # every paragraph shares the page's title
            )
        )
    return items


class PageCollector(BaseCollector[PageSource]):
    """Visits one page (and the links ``follow`` selects) and returns its paragraphs."""

    source_type: ClassVar[str] = "page"
    options_model: ClassVar[type[SourceConfig]] = PageSource
    group_label: ClassVar[str] = "Pages Web"

    async def collect(self, client: HttpClient, state: SourceState) -> Collection:
        url = self.options.url
        if not await client.allowed_by_robots(url):
            raise SourceError("robots.txt du site interdit cette page à veille")
        answer = await conditional_get(client, url, state, every=self.options.every.total_seconds())
        if answer.not_modified:
            return Collection(state=answer.state, not_modified=True)
        response = answer.response
        if "html" not in response.content_type and response.content_type not in ("", "text/plain"):
            raise SourceError(f"ce n'est pas une page Web ({response.content_type})")
        soup = _soup(decode_html(response))
        links = self._links(soup, response.url)  # before visible_text strips nav and footer
        title, text = visible_text(soup, selector=self.options.selector)
        items = paragraph_items(self.name, response.url, title, text)
        size = len(response.content)
        skipped = 0
        for link in links[: self.options.max_pages - 1]:
            if not await client.allowed_by_robots(link):
                skipped += 1
                continue
            try:
                page = await client.get(link)
            except SourceError as exc:
                log.info("%s : lien %s non visité (%s)", self.name, link, exc)
                continue
            if page.status >= 400 or "html" not in page.content_type:
                continue
            size += len(page.content)
            page_title, page_body = page_text(page, selector=self.options.selector)
            items.extend(paragraph_items(self.name, page.url, page_title, page_body))
        warning = f"{skipped} lien(s) non visité(s) : interdits par robots.txt" if skipped else None
        return Collection(
            items=tuple(items), state=answer.state, bytes_received=size, warning=warning
        )

    def _links(self, soup: BeautifulSoup, page: str) -> list[str]:
        """Links chosen by ``follow`` on the same host, without duplicates."""
        if not self.options.follow:
            return []
        host = urlsplit(page).netloc.lower()
        links: list[str] = []
        for anchor in soup.select(self.options.follow):
            href = anchor.get("href")
            if not isinstance(href, str):
                continue
            try:
                link = urljoin(page, href).split("#")[0]
            except ValueError:  # a hostile href such as "http://[x"
                continue
            parts = urlsplit(link)
            same_site = parts.scheme in ("http", "https") and parts.netloc.lower() == host
            if same_site and link not in links and link != page:
                links.append(link)
        return links
