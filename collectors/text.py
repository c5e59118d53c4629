"""Turning the HTML that sources send into plain text."""

from __future__ import annotations

import html
import re

from bs4 import BeautifulSoup

_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_INVISIBLE = ("script", "style", "noscript", "template", "svg")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, entities decoded, spaces tidied.

    Block elements become line breaks so that words of two paragraphs never
    run together; plain text (no tag) is only unescaped.
    """
    if "<" not in markup:
        return tidy(html.unescape(markup))
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(_INVISIBLE):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    return tidy(soup.get_text(" "))


def tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
