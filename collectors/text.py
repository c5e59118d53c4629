"""Cleaning what sources send: HTML into plain text, short labels, dates.

Every collector turns titles and bodies into text with :func:`html_to_text`:

- entities are decoded, scripts, styles and other invisible elements dropped;
- inline elements (``a``, ``b``, ``span``, ``font``…) add nothing, so
  ``<a>#<span>CegepDrummond</span></a>`` reads "#CegepDrummond" and
  ``<b>Cégep</b>, Drummond`` reads "Cégep, Drummond";
- block elements (``p``, ``br``, ``li``, ``div``…) end a line, so the words of
  two paragraphs never run together;
- an entity escaped twice (Google Alerts' ``&amp;nbsp;``, ``&amp;#39;``) is
  decoded too: visible text never shows "&nbsp;";
- text without a tag is only unescaped (no parse); markup made only of plain
  tags (a name, quoted or bare attributes: what feeds send) is cut at its tags
  by one regular expression and gives exactly what :mod:`html.parser` would
  give, four times faster; anything else (comments, CDATA, scripts, a stray
  "<") goes through the parser.

:func:`clean_label` tidies a short name (an outlet), :func:`excerpt` makes a
title of a post that has none, :func:`web_url` keeps only http(s)
addresses, and the ``*_time`` helpers turn what a source calls a date into an
aware datetime, or None when it is not a plausible one.
"""

from __future__ import annotations

import html
import math
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

from veille.sanitize import clean_text, shorten

# runs of spaces to fold into one (a single space is left alone: nothing to do)
_SPACES = re.compile(r"[ \t\f\v\u00a0]{2,}|[\t\f\v\u00a0]")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# a well-formed entity left in visible text: it was escaped twice
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TAG = re.compile(r"<[^>]*>")
# an end tag, or a start tag with attributes quoted or bare: what html.parser reads as
# such whatever its version (group 1 or 2: the name)
_PLAIN_TAG = re.compile(
    r"</([a-zA-Z][a-zA-Z0-9]*)\s*>|<([a-zA-Z][a-zA-Z0-9]*)"
    r"(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*"
    r"\s*/?>"
)

_INVISIBLE = frozenset({"script", "style", "noscript", "template", "svg", "head", "iframe"})
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)

# elements whose content html.parser may read as raw text (by version): left to it
_RAW_TEXT = _INVISIBLE | {"textarea", "title", "xmp", "noembed", "noframes", "plaintext"}

LABEL_LIMIT = 300  # characters kept of a label (an outlet's name)
TITLE_EXCERPT = 80  # characters of a post's text that make its title when it has none
# dates outside these years are a source's placeholder or mistake, not a publication date
EARLIEST_YEAR = 1970
LATEST_YEAR = 2100


class _TextParser(HTMLParser):
    """Collects visible text: inline elements add nothing, blocks end a line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0  # depth inside invisible elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:  # <br/>, <hr/>; a self-closed <svg/> hides nothing
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA[") and not self.hidden:
            self.parts.append(data[6:])


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, entities decoded, spaces tidied (see the module)."""
    if "<" not in markup:
        return tidy(_decode_leftovers(html.unescape(markup)))
    text = _plain_markup_text(markup)
    if text is not None:
        return tidy(_decode_leftovers(text))
    parser = _TextParser()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    except AssertionError:  # html.parser's answer to some malformed declarations
        text = html.unescape(_TAG.sub(" ", markup))
    return tidy(_decode_leftovers(text))


def _plain_markup_text(markup: str) -> str | None:
    """What :class:`_TextParser` collects from ``markup`` when it holds only plain tags
    of visible elements; None for anything else (a comment, a declaration, a script, a
    "<" that starts no plain tag), which the parser reads."""
    parts = []
    last = 0
    for tag in _PLAIN_TAG.finditer(markup):
        data = markup[last : tag.start()]
        if "<" in data:
            return None
        parts.append(html.unescape(data))
        name = (tag.group(1) or tag.group(2)).lower()
        if name in _RAW_TEXT:
            return None
        if name in _BLOCKS:
            parts.append("\n")
        last = tag.end()
    data = markup[last:]
    if "<" in data:
        return None
    parts.append(html.unescape(data))
    return "".join(parts)


def _decode_leftovers(text: str) -> str:
    if "&" not in text or ";" not in text:
        return text
    return _ENTITY.sub(lambda match: html.unescape(match.group(0)), text)


def tidy(text: str) -> str:
    """Control and bidi characters dropped, spaces collapsed, lines trimmed, one blank line
    at most."""
    text = clean_text(text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def one_line(text: str) -> str:
    """``text`` on one line, words separated by single spaces, no control character."""
    return " ".join(clean_text(text).split())


def clean_label(value: object) -> str | None:
    """A short name as a source gives it ("Le Nouvelliste |", " L'Express\\n"), tidied:
    one line, no control character, no trailing "|", at most LABEL_LIMIT characters.
    None when it is not a string or nothing is left."""
    if not isinstance(value, str):
        return None
    label = one_line(value).strip(" |")
    return label[:LABEL_LIMIT].rstrip() or None


def web_url(value: object) -> str | None:
    """``value`` when it is a string holding an http(s) address with a host, else None.
    (Finer checks, such as a port out of range, are the pipeline's: it rejects such
    an item and counts it.)"""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url.lower().startswith(("http://", "https://")):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:  # "http://[::1" and the like
        return None
    return url if host else None


def url_domain(url: str) -> str | None:
    """The host of ``url`` without "www." ("journalexpress.ca"), or None."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return clean_label(host.removeprefix("www."))


def excerpt(text: str, limit: int = TITLE_EXCERPT) -> str:
    """The first words of ``text`` on one line, at most ``limit`` characters and the "…"
    that says they were cut (:func:`veille.sanitize.shorten`): the title of a post that
    has none (Mastodon)."""
    return shorten(one_line(text), limit + 1)


def plausible_time(value: datetime | None) -> datetime | None:
    """``value`` as an aware datetime (naive means UTC), or None outside 1970–2100."""
    if value is None or not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso_time(value: object) -> datetime | None:
    """An ISO 8601 date ("2026-11-20T12:00:00Z", "2026-11-20 00:00:00", with or
    without zone; naive means UTC), or None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return plausible_time(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def epoch_time(value: object) -> datetime | None:
    """Seconds since 1970 (a number), or None for anything else or out of range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    try:
        return plausible_time(datetime.fromtimestamp(value, UTC))
    except (OverflowError, OSError, ValueError):
        return None
