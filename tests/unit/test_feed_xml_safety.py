"""Feeds are XML from anyone: no entity is expanded into a bomb, no external one fetched
(feedparser without its HTML sanitiser keeps these guarantees)."""

from __future__ import annotations

from pathlib import Path

from collectors.feed import parse_feed


def _feed(doctype: str, title: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}<rss version="2.0"><channel>'
        f"<title>Flux</title><item><title>{title}</title>"
        "<link>https://journal.test/a/</link><description>Texte</description></item>"
        "</channel></rss>"
    ).encode()


def test_nested_entities_are_not_expanded() -> None:
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10 if n else "ha"}">' for n in range(9))
    [item] = parse_feed(_feed(f"<!DOCTYPE rss [{laughs}]>", "&l8;"), source="S")
    assert len(item.title) < 100 and item.text == "Texte"


def test_external_entities_are_not_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("MOT-DE-PASSE", encoding="utf-8")
    doctype = f'<!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
    [item] = parse_feed(_feed(doctype, "Avant &x; après"), source="S")
    assert "MOT-DE-PASSE" not in item.title and item.title.startswith("Avant")
