"""One bad item never stops anything: hostile feeds and pages against `veille run`,
in process, with the real local HTTP server and the real store (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update

from tests.conftest import FeedServer, Workspace
from veille.cli import main

NAMED = "Le Cégep de Drummondville inaugure son pavillon des sciences appliquées"


def _rss(items: str, channel: str = "Le Journal") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{channel}</title><link>https://journal.test/</link>{items}</channel></rss>"
    )


def _item(title: str, link: str, *, date: str = "Sat, 28 Nov 2026 10:00:00 GMT") -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate>"
        f"<description>{title}</description></item>"
    )


def _run(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], *args: str, bug: bool = False
) -> tuple[int, str]:
    code = main(["--config", str(workspace.config), *args])
    out = capsys.readouterr()
    assert bug or "Traceback" not in out.err  # a bug keeps its traceback in the log
    return code, out.out + out.err


def _rows(workspace: Workspace, query: str) -> list[tuple[object, ...]]:
    with workspace.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def test_a_page_paragraph_after_a_heading_is_a_mention(
    feed_server: FeedServer, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (
        "<html><head><title>Collation des grades 2026 — Ville de Drummondville</title></head>"
        "<body><main><h1>Collation des grades 2026</h1>"
        "<p>La cérémonie a eu lieu samedi au Centrexpo.</p>"
        "<p>La cérémonie des finissants du Cégep de Drummondville a réuni 600 personnes.</p>"
        "</main></body></html>"
    )
    feed_server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    feed_server.add("/collation", page, content_type="text/html; charset=utf-8")
    workspace.write([{"name": "Ville", "type": "page", "url": feed_server.url("/collation")}])

    code, _ = _run(workspace, capsys, "run")

    assert code == 0
    titles = _rows(workspace, "select matched from mentions")
    assert titles == [("Cégep de Drummondville",)]


def test_bad_items_are_skipped_counted_and_the_rest_is_stored(
    feed_server: FeedServer, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    def result(title: str, url: str, date: str | None = "2026-11-28T10:00:00") -> dict[str, object]:
        return {"url": url, "title": title, "content": title, "publishedDate": date}

    answer = {
        "query": "cegep",
        "results": [
            result("Portes ouvertes du Cégep de Drummondville", "https://journal.test:99999/po"),
            result(
                "Nul\x00 part\x01 ailleurs\u202e qu'au Cégep de Drummondville",
                "https://journal.test/nul",
            ),
            result(
                "Le Cégep de Drummondville en l'an 9999",
                "https://journal.test/futur",
                "9999-12-31T23:00:00",
            ),
            result(NAMED, "https://journal.test/pavillon", None),
        ],
        "unresponsive_engines": [],
    }
    feed_server.add("/search", json.dumps(answer), content_type="application/json")
    workspace.write(
        [
            {
                "name": "SearXNG",
                "type": "search",
                "engine": "searxng",
                "query": "Cégep de Drummondville",
                "url": feed_server.base,
            }
        ]
    )

    code, _ = _run(workspace, capsys, "run")

    assert code == 0
    stored = dict(_rows(workspace, "select url, title from mentions"))
    assert stored["https://journal.test/pavillon"] == NAMED
    # NUL, control and bidi-override characters are removed, the text kept
    assert stored["https://journal.test/nul"] == "Nul part ailleurs qu'au Cégep de Drummondville"
    assert "https://journal.test:99999/po" not in stored
    # a date in the future is brought back to the time the item was found
    ((published, found),) = _rows(
        workspace, "select published_at, found_at from mentions where url like '%futur'"
    )
    assert published in (found, None)  # clamped here, or refused by the engine's parser
    ((rejected, reason),) = _rows(workspace, "select items_rejected, last_rejection from sources")
    assert rejected == 1
    assert "lien invalide" in str(reason) and "99999" in str(reason)


def test_a_feed_of_many_items_is_cut_to_the_newest(
    feed_server: FeedServer, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    items = "".join(
        _item(
            f"Nouvelle numéro {n} du Cégep de Drummondville",
            f"https://journal.test/n{n}",
            date=(start + timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        )
        for n in range(1200)
    )
    feed_server.add("/gros.xml", _rss(items))
    workspace.write([{"name": "Gros", "type": "feed", "url": feed_server.url("/gros.xml")}])

    code, _ = _run(workspace, capsys, "run")

    assert code == 0
    ((count, oldest),) = _rows(workspace, "select count(*), min(key) from items")
    assert count == 1000
    keys = {row[0] for row in _rows(workspace, "select key from items")}
    assert "https://journal.test/n1199" in keys and "https://journal.test/n199" not in keys
    ((warning,),) = _rows(workspace, "select last_warning from sources")
    assert "200 élément(s) laissé(s) de côté" in str(warning)


def test_a_bug_on_one_sources_data_is_that_sources_failure(
    feed_server: FeedServer,
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from veille import pipeline

    real = pipeline.ItemMatcher.new_item

    def new_item(self: pipeline.ItemMatcher, key: str, item: object, **options: bool) -> object:
        if "piege" in key:
            raise RuntimeError("a bug in the matcher")
        return real(self, key, item, **options)  # type: ignore[arg-type]

    def save_batch_bug(*args: object, **kwargs: object) -> list[int]:
        raise KeyError("a bug in the store")

    feed_server.add("/a.xml", _rss(_item(NAMED, "https://journal.test/piege")))
    feed_server.add("/b.xml", _rss(_item(NAMED, "https://autre.test/b")))
    workspace.write(
        [
            {"name": "A", "type": "feed", "url": feed_server.url("/a.xml")},
            {"name": "B", "type": "feed", "url": feed_server.url("/b.xml")},
        ]
    )
    monkeypatch.setattr(pipeline.ItemMatcher, "new_item", new_item)

    code, _ = _run(workspace, capsys, "run", bug=True)

    # the matcher's bug on one item: that item is rejected, the source and the run go on
    assert code == 0
    assert dict(_rows(workspace, "select name, items_rejected from sources")) == {"A": 1, "B": 0}
    assert _rows(workspace, "select url from mentions") == [("https://autre.test/b",)]

    # a bug while storing one source's items: that source fails, in French, the run goes on
    feed_server.add("/a.xml", _rss(_item(NAMED, "https://journal.test/autre")))
    monkeypatch.setattr(pipeline.MentionStore, "save_batch", save_batch_bug)
    code, output = _run(workspace, capsys, "run", "--all", bug=True)
    assert code == 1
    errors = dict(_rows(workspace, "select name, last_error from sources"))
    assert "erreur interne pendant l'enregistrement (KeyError)" in str(errors["A"])


def test_a_source_whose_news_always_comes_first_elsewhere_is_not_silent(
    feed_server: FeedServer, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from collectors import options_models
    from storage.db import open_database
    from storage.models import ItemRow
    from storage.store import MentionStore
    from veille.config import load_config
    from veille.digest import is_stale

    def step_back_35_days() -> None:
        then = (datetime.now(UTC) - timedelta(days=35)).replace(tzinfo=None)
        with workspace.connect() as connection:
            connection.execute(
                text("update sources set last_new_item_at = :t, first_success_at = :t"), {"t": then}
            )
            connection.execute(update(ItemRow).values(seen_at=then.replace(tzinfo=UTC)))

    old = _item(NAMED, "https://journal.test/pavillon")
    feed_server.add("/rapide.xml", _rss(old))
    feed_server.add("/lent.xml", _rss(old))
    workspace.write(
        [
            {"name": "Rapide", "type": "feed", "url": feed_server.url("/rapide.xml")},
            {"name": "Lent", "type": "feed", "url": feed_server.url("/lent.xml")},
        ]
    )
    assert _run(workspace, capsys, "run")[0] == 0
    config = load_config(workspace.config, source_types=options_models())
    store = MentionStore(open_database(config.storage.url))
    lent = config.sources[1]

    # 35 days later, both relay a new story, always found first through Rapide
    step_back_35_days()
    new = _item("Le Cégep de Drummondville accueille un colloque", "https://journal.test/colloque")
    feed_server.add("/rapide.xml", _rss(new + old))
    feed_server.add("/lent.xml", _rss(new + old))
    assert _run(workspace, capsys, "run", "--all")[0] == 0
    assert not is_stale(lent, store.sources()["Lent"], datetime.now(UTC))

    # a feed that only repeats what it already said for 35 days is silent
    step_back_35_days()
    assert _run(workspace, capsys, "run", "--all")[0] == 0
    assert is_stale(lent, store.sources()["Lent"], datetime.now(UTC))


def test_no_snippet_starts_with_a_dash_for_a_post_without_title(
    feed_server: FeedServer, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    post = (
        "<item><link>https://mastodon.test/@ville/1</link><guid>https://mastodon.test/@ville/1</guid>"
        "<pubDate>Sat, 28 Nov 2026 10:00:00 GMT</pubDate>"
        "<description>&lt;p&gt;Bravo aux finissantes du Cégep de Drummondville!&lt;/p&gt;"
        "</description></item>"
    )
    feed_server.add("/tags.rss", _rss(post, channel="#CegepDrummond"))
    workspace.write([{"name": "Mastodon", "type": "feed", "url": feed_server.url("/tags.rss")}])

    assert _run(workspace, capsys, "run")[0] == 0

    ((snippet,),) = _rows(workspace, "select snippet from mentions")
    assert not str(snippet).lstrip().startswith("—")
    assert str(snippet).startswith("Bravo aux finissantes")


def test_mentions_json_has_the_outlet(
    feed_server: FeedServer,
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    item = (
        f"<item><title>{NAMED}</title><link>https://journal.test/o</link>"
        '<source url="https://www.lenouvelliste.ca">Le Nouvelliste</source></item>'
    )
    feed_server.add("/o.xml", _rss(item))
    workspace.write([{"name": "Agrégateur", "type": "feed", "url": feed_server.url("/o.xml")}])
    assert _run(workspace, capsys, "run")[0] == 0

    code, output = _run(workspace, capsys, "mentions", "--format", "json")

    assert code == 0
    (mention,) = json.loads(output)
    assert mention["outlet"] == "Le Nouvelliste"


def test_a_feed_answering_429_waits_as_it_asks_capped_at_a_day(
    feed_server: FeedServer, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.add("/a.xml", "", status=429, headers={"Retry-After": "120"})
    feed_server.add("/b.xml", "", status=503, headers={"Retry-After": "300000000000"})
    workspace.write(
        [
            {"name": "A", "type": "feed", "url": feed_server.url("/a.xml")},
            {"name": "B", "type": "feed", "url": feed_server.url("/b.xml")},
        ]
    )
    before = datetime.now(UTC)

    code, _ = _run(workspace, capsys, "run")

    assert code == 1
    waits = {
        name: (when if isinstance(when, datetime) else datetime.fromisoformat(str(when)))
        for name, when in _rows(workspace, "select name, next_attempt_at from sources")
    }
    waited = {name: (when.replace(tzinfo=UTC) - before) for name, when in waits.items()}
    assert timedelta(seconds=110) < waited["A"] < timedelta(seconds=130)
    assert timedelta(hours=23) < waited["B"] <= timedelta(hours=24, seconds=5)
