"""Each engine and feed shape as real captures show it (2019–2026), served by a
local server and read through ``veille run`` (in-process) or the collector."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from collectors import search
from collectors.base import Collection, SourceState
from collectors.feed import FeedCollector, FeedSource
from collectors.http import HttpClient
from collectors.search import SearchCollector, SearchSource
from storage.packing import item_text
from tests.conftest import DATA, FeedServer, Result, Workspace
from veille.cli import main
from veille.config import HttpConfig

REAL = DATA / "engines" / "real"
JSON = "application/json"

Cli = Callable[..., Result]


@pytest.fixture
def cli(workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch) -> Iterator[Cli]:
    """``veille --config … ARGS`` in this process, as a user would type it."""
    monkeypatch.chdir(workspace.path)
    for name in [n for n in os.environ if n.startswith("VEILLE_")]:
        monkeypatch.delenv(name)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def run(*args: str) -> Result:
        code = main(["--config", str(workspace.config), *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    yield run
    root.handlers[:] = handlers  # main() configures logging for a whole process
    root.setLevel(level)


def _mentions(cli: Cli) -> dict[str, dict[str, Any]]:
    return {m["title"]: m for m in json.loads(cli("mentions", "--format", "json").out)}


def _sources(cli: Cli) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in json.loads(cli("sources", "--format", "json").out)}


def _search(name: str, engine: str, base: str, **options: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "search",
        "engine": engine,
        "query": "cegep",
        "url": base,
        **options,
    }


def _collect(collector: SearchCollector | FeedCollector) -> Collection:
    config = HttpConfig(timeout=timedelta(seconds=3), per_host_delay=timedelta(0))

    async def visit() -> Collection:
        async with HttpClient(config) as client:
            return await collector.collect(client, SourceState())

    return asyncio.run(visit())


# --- google_news --------------------------------------------------------------------------


def test_google_news_cluster_headlines_are_reported_on_their_own_link(
    feed_server: FeedServer, workspace: Workspace, cli: Cli
) -> None:
    feed_server.add_file("/rss/search", "engines/real/google_news_cluster.xml")
    workspace.write([_search("Google", "google_news", feed_server.base)], at="23:59")

    result = cli("run")

    assert result.code == 0, result.err
    found = _mentions(cli)
    # the primary story does not name the college: only a secondary headline does
    assert "Pénurie d'enseignants : les cégeps - à bout de souffle" not in found
    tribune = found["Le Cégep de Drummondville embauche 40 enseignants"]
    assert "CBMihgFBVV95cUxQX3RyaWJ1bmVf" in tribune["url"]  # its own link, not the cluster's
    assert "Rentrée scolaire au Centre-du-Québec" not in found
    assert "Rentrée au Cégep de Drummondville : record d'inscriptions" in found
    # " - " inside a headline stays; only the " - Média" naming the <source> goes
    assert "Drummondville - Le Cégep de Drummondville inaugure son centre sportif" in found
    assert "Cégep de Drummondville - Portes ouvertes samedi" in found
    assert _sources(cli)["Google"]["last_warning"] is None


def test_outlets_of_each_engine(feed_server: FeedServer) -> None:
    feed_server.add_file("/rss/search", "engines/real/google_news_cluster.xml")
    feed_server.add_file("/news/search", "engines/real/bing_news_msn.xml")
    feed_server.add_file("/search.json", "engines/real/reddit_listing.json", content_type=JSON)
    feed_server.add_file("/search", "engines/real/searxng_news.json", content_type=JSON)
    feed_server.add_file("/w/api.php", "engines/real/wikipedia_v1.json", content_type=JSON)
    feed_server.add_file("/feed.xml", "express.xml")
    base = feed_server.base

    def outlets(engine: str) -> dict[str, str | None]:
        source = SearchSource(**_search(engine, engine, base))
        return {i.title: i.outlet for i in _collect(SearchCollector(source)).items}

    google = outlets("google_news")
    assert google["Pénurie d'enseignants : les cégeps - à bout de souffle"] == "Le Nouvelliste"
    assert google["Le Cégep de Drummondville embauche 40 enseignants"] == "La Tribune"
    assert google["Cégep de Drummondville - Portes ouvertes samedi"] == "Vingt55"
    bing = outlets("bing_news")
    assert bing[
        "Le Cégep de Drummondville accueille un congrès sur l'intelligence artificielle"
    ] == ("Le Nouvelliste on MSN")
    assert bing["Un étudiant du Cégep de Drummondville remporte Science, on tourne!"] == "L'Express"
    reddit = outlets("reddit")
    assert reddit["Le Cégep de Drummondville inaugure son centre sportif"] == "journalexpress.ca"
    assert reddit["Programme de soins infirmiers au Cégep de Drummondville?"] == "r/drummondville"
    assert reddit["Coucher de soleil derrière le Cégep de Drummondville"] == "r/drummondville"
    searx = outlets("searxng")
    assert searx["Le Cégep de Drummondville présente son budget"] == "journalexpress.ca"
    assert set(outlets("wikipedia").values()) == {"Wikipédia"}
    feed = _collect(FeedCollector(FeedSource(name="J", type="feed", url=base + "/feed.xml")))
    assert {i.outlet for i in feed.items} == {"Journal test"}


def test_feed_links_are_made_absolute_and_entries_without_any_are_counted(
    feed_server: FeedServer,
) -> None:
    feed_server.add(
        "/feed.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>J</title>'
        "<item><title>Le Cégep de Drummondville</title><link>https://j.test/1</link></item>"
        "<item><title>Relatif</title><link>/article/2</link></item>"
        "<item><title>Sans lien</title><link>javascript:void(0)</link></item>"
        "<item><title>Rien</title></item></channel></rss>",
    )
    source = FeedSource(name="J", type="feed", url=feed_server.url("/feed.xml"))

    collection = _collect(FeedCollector(source))

    assert [i.url for i in collection.items] == ["https://j.test/1", feed_server.url("/article/2")]
    assert collection.warning is None and len(collection.rejected) == 2


def test_relative_permalinks_and_xml_base_are_read_against_the_feed(
    feed_server: FeedServer,
) -> None:
    feed_server.add(
        "/blog/rss.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>J</title>'
        "<item><title>Permalien relatif</title><guid>billet-1</guid></item>"
        '<item><title>Guid opaque</title><guid isPermaLink="false">id-7</guid>'
        "<link>../billet-2</link></item></channel></rss>",
    )
    feed_server.add(
        "/atom.xml",
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="/nouvelles/">'
        "<title>A</title><entry><title>Relative</title><id>urn:a:1</id>"
        '<link href="texte-1"/></entry>'
        '<entry xml:base="https://ailleurs.test/x/"><title>Absolue</title><id>urn:a:2</id>'
        '<link href="texte-2"/></entry></feed>',
    )

    rss = _collect(
        FeedCollector(FeedSource(name="R", type="feed", url=feed_server.url("/blog/rss.xml")))
    )
    atom = _collect(
        FeedCollector(FeedSource(name="A", type="feed", url=feed_server.url("/atom.xml")))
    )

    assert [(i.url, i.guid) for i in rss.items] == [
        (feed_server.url("/blog/billet-1"), feed_server.url("/blog/billet-1")),
        (feed_server.url("/billet-2"), "id-7"),
    ]
    assert [i.url for i in atom.items] == [
        feed_server.url("/nouvelles/texte-1"),
        "https://ailleurs.test/x/texte-2",
    ]


# --- bing_news ----------------------------------------------------------------------------


def test_bing_channel_without_items_is_an_empty_result(
    feed_server: FeedServer, workspace: Workspace, cli: Cli
) -> None:
    feed_server.add_file("/news/search", "engines/real/bing_news_empty.xml")
    workspace.write([_search("Bing", "bing_news", feed_server.base)], at="23:59")

    assert cli("run").code == 0

    state = _sources(cli)["Bing"]
    assert state["last_warning"] is None and state["consecutive_failures"] == 0
    assert state["last_success_at"] is not None


# --- reddit -------------------------------------------------------------------------------


def test_reddit_posts_with_odd_fields_do_not_fail_the_source(
    feed_server: FeedServer, workspace: Workspace, cli: Cli
) -> None:
    feed_server.add_file("/search.json", "engines/real/reddit_listing.json", content_type=JSON)
    workspace.write([_search("Reddit", "reddit", feed_server.base)], at="23:59")

    result = cli("run")

    assert result.code == 0, result.err
    found = _mentions(cli)
    assert found["Programme de soins infirmiers au Cégep de Drummondville?"]["published_at"]
    assert found["Coucher de soleil derrière le Cégep de Drummondville"]["published_at"] is None
    assert found["Date nulle au Cégep de Drummondville"]["published_at"] is None
    state = _sources(cli)["Reddit"]
    assert state["consecutive_failures"] == 0
    assert state["items_rejected"] == 3 and "illisible" in state["last_rejection"]


# --- searxng ------------------------------------------------------------------------------


def test_searxng_news_dates_and_unresponsive_engines(
    feed_server: FeedServer, workspace: Workspace, cli: Cli
) -> None:
    feed_server.add_file("/search", "engines/real/searxng_news.json", content_type=JSON)
    workspace.write([_search("SearXNG", "searxng", feed_server.base)], at="23:59")

    result = cli("run")

    assert result.code == 0, result.err
    found = _mentions(cli)
    budget = found["Le Cégep de Drummondville présente son budget"]
    assert budget["published_at"].startswith("2026-11-20T00:00:00")  # from pubdate
    assert found["Date naïve au Cégep de Drummondville"]["published_at"].startswith(
        "2026-11-23T10:00:00"
    )
    state = _sources(cli)["SearXNG"]
    assert state["consecutive_failures"] == 0 and state["last_error"] is None
    assert "google (timeout), bing (CAPTCHA)" in state["last_warning"]
    assert "avertissement" in cli("sources").out


# --- wikipedia ----------------------------------------------------------------------------


def test_wikipedia_formatversion_1_with_odd_fields(
    feed_server: FeedServer, workspace: Workspace, cli: Cli
) -> None:
    feed_server.add_file("/w/api.php", "engines/real/wikipedia_v1.json", content_type=JSON)
    workspace.write([_search("Wiki", "wikipedia", feed_server.base)], at="23:59")

    result = cli("run")

    assert result.code == 0, result.err
    found = _mentions(cli)
    assert "l'établissement d'enseignement" in found["Cégep de Drummondville"]["snippet"]
    assert found["Drummondville"]["published_at"] is None  # a number is not an ISO date
    assert _sources(cli)["Wiki"]["items_rejected"] == 2


# --- feeds: Mastodon, Google Alerts -------------------------------------------------------


def test_mastodon_and_google_alerts_feeds(
    feed_server: FeedServer, workspace: Workspace, cli: Cli
) -> None:
    feed_server.add_file("/tags/cegepdrummond.rss", "mastodon.rss")
    feed_server.add_file("/alerts", "alerts_escaped.atom", content_type="application/atom+xml")
    workspace.write(
        [
            {"name": "Mastodon", "type": "feed", "url": feed_server.url("/tags/cegepdrummond.rss")},
            {"name": "Alerte", "type": "feed", "url": feed_server.url("/alerts")},
        ],
        at="23:59",
    )

    result = cli("run")

    assert result.code == 0, result.err
    found = _mentions(cli)
    post = found["Bravo à l'équipe de robotique du #CegepDrummond pour sa première place au…"]
    assert post["url"] == "https://mastodon.example/@marie/113555000000000001"
    assert "@cegepdrummond" in post["snippet"] or "#CegepDrummond" in post["snippet"]
    assert "Court : Cégep, Drummond #cegepdrummond" in found
    alert = found["L'équipe du Cégep de Drummondville en finale ! - L'Express"]
    assert "&" not in alert["snippet"]
    assert found["Date impossible au Cégep de Drummondville"]["published_at"] is None


# --- full text of result pages ------------------------------------------------------------


def test_full_text_fetching_stops_at_the_time_budget(
    feed_server: FeedServer, workspace: Workspace, cli: Cli, monkeypatch
) -> None:
    monkeypatch.setattr(search, "FULL_TEXT_BUDGET", 1.2)
    results = [
        {
            "url": feed_server.url(f"/page/{n}"),
            "title": f"Résultat {n} sur le Cégep de Drummondville",
            "content": f"Extrait {n} : Cégep de Drummondville.",
            "engine": "bing",
            "publishedDate": None,
        }
        for n in range(1, 6)
    ]
    feed_server.add("/search", json.dumps({"results": results}), content_type=JSON)
    for n in range(1, 6):
        page = f"<html><body><p>TEXTECOMPLET de la page {n}.</p></body></html>"
        feed_server.add(f"/page/{n}", page, content_type="text/html", delay=0.5)
    workspace.write(
        [_search("SearXNG", "searxng", feed_server.base, fetch_full=True)],
        at="23:59",
        http="  allow_private_links: true\n",
    )

    result = cli("run")

    assert result.code == 0, result.err
    with workspace.connect() as db:
        rows = db.exec_driver_sql("select text, packed_text from items").all()
    texts = [item_text(*row) for row in rows]
    assert len(texts) == 5  # every result kept, with its snippet at least
    fetched = sum("TEXTECOMPLET" in text for text in texts)
    assert 1 <= fetched <= 2
    assert "/page/4" not in feed_server.started and "/page/5" not in feed_server.started
    warning = _sources(cli)["SearXNG"]["last_warning"]
    assert f"texte complet non récupéré pour {5 - fetched} page(s)" in warning
    assert "1.2 s" in warning
