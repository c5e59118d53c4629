"""``shorten``: the one way a title, a table cell, a subject or a stored text is cut."""

from __future__ import annotations

import pytest

from veille.sanitize import shorten

SENTENCE = "Le Cégep de Drummondville accueille des visiteurs"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        # a text that fits comes back as it is, white space and all
        ("", 5, ""),
        ("abc", 3, "abc"),
        ("  a\n b  ", 8, "  a\n b  "),
        # the « … » counts in the limit
        ("abcd", 3, "ab…"),
        ("abcdef", 2, "a…"),
        # limits of 1 or less
        ("abcdef", 1, "…"),
        ("abcdef", 0, ""),
        ("abcdef", -3, ""),
        ("", 0, ""),
        # on a word when the cut keeps more than half of the limit
        (SENTENCE, 20, "Le Cégep de…"),
        (SENTENCE, 27, "Le Cégep de Drummondville…"),  # the next character is a space
        (SENTENCE, 26, "Le Cégep de Drummondville…"),  # the cut falls right after a word
        # inside the word when dropping it would keep half or less: a link, a long word
        (SENTENCE, 24, "Le Cégep de Drummondvil…"),
        ("Voir https://journal.test/2026/11/cegep", 20, "Voir https://journa…"),
        ("x" * 100, 80, "x" * 79 + "…"),
        # the white space and punctuation left before the « … » go
        ("Le Cégep, de Drummondville", 10, "Le Cégep…"),
        ("Google Actualités — Cégep de Drummondville", 24, "Google Actualités…"),
        ("Attendez…… la suite du texte", 12, "Attendez…"),
        ("Le Cégep de     Drummondville", 16, "Le Cégep de…"),
        ("...........", 5, "…"),
        # any white space is between two words; what is kept inside is left alone
        ("ligne un\nligne deux\ntrois", 16, "ligne un\nligne…"),
        ("un\tdeux\ttrois quatre", 12, "un\tdeux…"),
    ],
)
def test_shorten(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected


@pytest.mark.parametrize("limit", range(1, 60))
def test_shorten_never_goes_over_the_limit_and_keeps_the_start(limit: int) -> None:
    text = SENTENCE + ", une première depuis la rénovation du pavillon."
    short = shorten(text, limit)
    assert len(short) <= limit
    assert short.endswith("…") and text.startswith(short[:-1])


def test_shorten_a_text_the_size_intake_keeps() -> None:
    assert shorten("x" * 200_000, 100_000) == "x" * 99_999 + "…"
    assert shorten("mot " * 50_000, 100_000) == ("mot " * 25_000).rstrip() + "…"
    assert shorten("." * 200_000, 100_000) == "…"
