"""Cleaning text and links that came from the web before they are stored or shown.

- :func:`clean_text` removes NUL, control characters (tabs and line breaks
  kept) and bidirectional overrides, which can reorder what a reader sees
  ("Trojan Source") or break PostgreSQL (NUL);
- :func:`one_line` also folds line breaks, for titles in email subjects,
  terminal tables and logs;
- :func:`shorten` cuts a text to a length, between two words where it can, and
  says so with « … »: the one way a title, a cell, a subject or a stored text is
  made to fit;
- :func:`safe_link` lets only http and https links be clickable.
"""

from __future__ import annotations

import re

# C0 controls except the whitespace ones (\t \n \v \f \r), DEL, C1 controls, and the
# bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E-F, U+202A-E,
# U+2066-9).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"\s*[\r\n\v\f\u2028\u2029]+\s*")
# what a shortened text does not end with before its « … » (besides white space)
_LOOSE_ENDS = ",;:.-—–…"


def clean_text(text: str) -> str:
    """``text`` without NUL, control or bidirectional-override characters."""
    return _CONTROLS.sub("", text)


def one_line(text: str) -> str:
    """``text`` cleaned and on one line (line breaks become spaces)."""
    return _LINE_BREAKS.sub(" ", clean_text(text)).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` when it fits in ``limit`` characters, else its start and « … », the
    « … » counted in ``limit``.

    The cut falls between two words, unless that would keep half of ``limit`` or
    less (a link or a long word is then cut inside); the white space and the
    punctuation (``,;:.-—–…``) left before the « … » go. Nothing else changes: a
    text that fits comes back as it is, white space inside included (call
    :func:`one_line` first for one line). A limit of 1 leaves « … », of 0 or less "".
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…" if limit == 1 else ""
    cut = text[: limit - 1]
    if not (cut[-1].isspace() or text[limit - 1].isspace()):  # the cut splits a word
        space = len(cut) - len(cut.rsplit(maxsplit=1)[-1]) - 1  # before that word; -1: none
        if space > limit // 2:
            cut = cut[:space]
    end = len(cut)
    while end and (cut[end - 1].isspace() or cut[end - 1] in _LOOSE_ENDS):
        end -= 1
    return cut[:end] + "…"


def safe_link(url: str) -> str | None:
    """``url`` when it is an http(s) link, else None (``javascript:``, ``data:``…)."""
    candidate = clean_text(url).strip()
    scheme, sep, rest = candidate.partition(":")
    if sep and scheme.lower() in ("http", "https") and rest.startswith("//"):
        return candidate
    return None
