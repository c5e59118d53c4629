"""HTML → text: the fast path for plain markup reads exactly what html.parser reads."""

from __future__ import annotations

import random

import pytest

from collectors import text as text_module
from collectors.text import _plain_markup_text, _TextParser, html_to_text

PIECES = (
    "Cégep",
    " de ",
    "Drummondville",
    "  ",
    "\n",
    "\t",
    "\u00a0",
    "&amp;",
    "&nbsp;",
    "&#8217;",
    "&#39;",
    "&eacute;",
    "&amp;nbsp;",
    "&am",
    "p;",
    "&",
    ";",
    "<p>",
    "</p>",
    "<P>",
    "<br>",
    "<br/>",
    "<br />",
    "</br>",
    "<b>",
    "</b>",
    '<a href="https://x.test/a?b=1&amp;c=2" target="_blank">',
    "<a href='x'>",
    "<a href=x>",
    "<a href=x/>",
    '<a\nhref = "x>y">',
    "</a>",
    '<img src="i.jpg" alt="a > b" />',
    "<span class=h-card>",
    "</span >",
    "<div>",
    "</div>",
    "<li>",
    "<o:p>",
    "</p foo>",
    '<a href="x"alt="y">',
    "<script>",
    "</script>",
    "<style>",
    "<title>",
    "<textarea>",
    "<!-- note -->",
    "<![CDATA[x]]>",
    "<!DOCTYPE html>",
    "<?xml?>",
    "a < b",
    "<3",
    "<",
    ">",
    "</",
    "<a",
    "<>",
)


def _parsed(markup: str) -> str:
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def test_the_fast_path_reads_what_the_parser_reads() -> None:
    rng = random.Random(13)
    fast = 0
    for _ in range(20_000):
        markup = "".join(rng.choices(PIECES, k=rng.randint(1, 12)))
        text = _plain_markup_text(markup)
        if text is None:
            continue
        fast += 1
        try:
            expected = _parsed(markup)
        except AssertionError:  # html_to_text's own fallback: never a plain fragment
            raise AssertionError(markup) from None
        assert text == expected, markup
    assert fast > 2_000  # the fast path is taken, not always declined


@pytest.mark.parametrize(
    "markup",
    [
        "<p>R&amp;D</p><!-- x --><p>b</p>",
        "<script>var a = '<b>';</script>Texte",
        "<![CDATA[Cégep]]>",
        "a < b <b>c</b>",
        "<title>x</title>y",
    ],
)
def test_what_is_not_plain_goes_to_the_parser(markup: str) -> None:
    assert _plain_markup_text(markup) is None


def test_plain_markup_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(text_module, "_TextParser", refuse)
    markup = (
        '<img src="i.jpg" alt="x" /><br /><p>Le <a href="https://x.test/">Cégep</a> '
        "de <strong>Drummondville</strong>&nbsp;!</p><p>L&#8217;article</p>"
    )
    assert html_to_text(markup) == "Le Cégep de Drummondville !\n\nL’article"
