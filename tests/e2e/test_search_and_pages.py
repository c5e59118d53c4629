"""Search engines, public pages, untrusted links and layered deduplication,
against a local server answering in each engine's real format."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from tests.conftest import DATA, FeedServer, SmtpServer, Workspace

ENGINES = DATA / "engines"
PAGES = DATA / "pages"


def _query(hit_path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(hit_path).query).items()}


def _forget_robots(workspace: Workspace) -> None:
    with workspace.connect() as db:
        db.exec_driver_sql("delete from robots")


def _mentions(veille) -> dict[str, dict]:
    return {m["title"]: m for m in json.loads(veille("mentions", "--format", "json").out)}


def test_each_engine_is_asked_and_read_in_its_own_format(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add("/rss/search", (ENGINES / "google_news.xml").read_bytes())
    feed_server.add("/news/search", (ENGINES / "bing_news.xml").read_bytes())
    feed_server.add(
        "/search.json", (ENGINES / "reddit.json").read_bytes(), content_type="application/json"
    )
    feed_server.add(
        "/search", (ENGINES / "searxng.json").read_bytes(), content_type="application/json"
    )
    feed_server.add(
        "/w/api.php", (ENGINES / "wikipedia.json").read_bytes(), content_type="application/json"
    )
    base = feed_server.base
    workspace.write(
        [
            {
                "name": "Google",
                "type": "search",
                "engine": "google_news",
                "query": '"Cégep de Drummondville"',
                "url": base,
            },
            {
                "name": "Bing",
                "type": "search",
                "engine": "bing_news",
                "query": "cegep",
                "url": base,
            },
            {
                "name": "Reddit",
                "type": "search",
                "engine": "reddit",
                "query": "cegep drummond",
                "url": base,
            },
            {
                "name": "SearXNG",
                "type": "search",
                "engine": "searxng",
                "query": "cegep",
                "url": base,
                "params": {"time_range": "day"},
            },
            {
                "name": "Wiki",
                "type": "search",
                "engine": "wikipedia",
                "query": "Cégep",
                "url": base,
            },
        ],
        at="23:59",
    )

    result = veille("run")

    assert result.code == 0, result.err
    google = _query(feed_server.hits_for("/rss/search")[0].path)
    assert google == {"hl": "fr-CA", "gl": "CA", "ceid": "CA:fr", "q": '"Cégep de Drummondville"'}
    assert _query(feed_server.hits_for("/news/search")[0].path)["setmkt"] == "fr-CA"
    reddit_hit = feed_server.hits_for("/search.json")[0]
    assert _query(reddit_hit.path)["sort"] == "new"
    assert reddit_hit.headers["User-Agent"].startswith("veille/")
    searx_hit = feed_server.hits_for("/search")[0]
    assert _query(searx_hit.path)["time_range"] == "day"  # overridden per source
    assert _query(searx_hit.path)["format"] == "json"
    assert "application/json" in searx_hit.headers["Accept"]
    assert _query(feed_server.hits_for("/w/api.php")[0].path)["srwhat"] == "text"

    found = _mentions(veille)
    google_item = found["Des étudiants du Cegep Drummondville primés à Québec"]
    assert google_item["source"] == "Google" and google_item["source_type"] == "search"
    assert "La Ville de Drummondville adopte son budget 2027" not in found
    assert found["Résidences au Cégep de Drummondville?"]["url"] == (
        f"{base}/r/drummondville/comments/abc123/residences/"
    )
    assert "Meilleur garage à Drummondville" not in found
    assert found["Portes ouvertes"]["source"] == "SearXNG"
    assert found["Cégep de Drummondville"]["url"] == f"{base}/wiki/C%C3%A9gep_de_Drummondville"
    assert found["Drummondville"]["source"] == "Wiki"
    # Google's title lost its " - L'Express"; Bing found the same story: one mention
    plan = found["Le Cégep de Drummondville dévoile son plan stratégique"]
    assert plan["source"] == "Google" and plan["also_seen"] == ["Bing"]


def test_same_story_from_three_sources_is_one_mention_seen_on_all(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace, veille
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    feed_server.add("/rss/search", (ENGINES / "google_news.xml").read_bytes())
    feed_server.add("/news/search", (ENGINES / "bing_news.xml").read_bytes())
    base = feed_server.base
    workspace.write(
        [
            {"name": "L'Express", "type": "feed", "url": feed_server.url("/express.xml")},
            {
                "name": "Google",
                "type": "search",
                "engine": "google_news",
                "query": "c",
                "url": base,
            },
            {"name": "Bing", "type": "search", "engine": "bing_news", "query": "c", "url": base},
        ],
        smtp=smtp_server,
    )

    assert veille("run").code == 0

    plans = [
        m
        for m in json.loads(veille("mentions", "--format", "json").out)
        if m["title"] == "Le Cégep de Drummondville dévoile son plan stratégique"
    ]
    assert len(plans) == 1
    assert plans[0]["source"] == "L'Express"
    assert sorted(plans[0]["also_seen"]) == ["Bing", "Google"]
    text = smtp_server.digests()[0].get_body(("plain",)).get_content()
    assert text.count("dévoile son plan stratégique\r\n") == 1
    assert "Aussi vu sur : Google, Bing" in text or "Aussi vu sur : Bing, Google" in text

    coverage = {
        r["name"]: r
        for r in json.loads(
            veille("sources", "--coverage", "--since", "30d", "--format", "json").out
        )
    }
    assert coverage["L'Express"]["mentions"] == 4
    assert coverage["Google"] == {"name": "Google", "type": "search", "mentions": 2, "only": 1}
    assert coverage["Bing"]["mentions"] == 1 and coverage["Bing"]["only"] == 0
    table = veille("sources", "--coverage").out
    assert "Seule à les trouver" in table


def test_429_honours_retry_after_for_that_source_only(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add(
        "/search.json",
        b"{}",
        status=429,
        content_type="application/json",
        headers={"Retry-After": "3600"},
    )
    feed_server.add_file("/express.xml", "express.xml")
    workspace.write(
        [
            {
                "name": "Reddit",
                "type": "search",
                "engine": "reddit",
                "query": "c",
                "url": feed_server.base,
            },
            {"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")},
        ],
        at="23:59",
    )

    first = veille("run")
    again = veille("run", "--all")

    assert first.code == 1 and again.code == 0
    assert len(feed_server.hits_for("/search.json")) == 1
    assert len(feed_server.hits_for("/express.xml")) == 2
    state = {r["name"]: r for r in json.loads(veille("sources", "--format", "json").out)}
    assert "429" in state["Reddit"]["last_error"] and "3600 s" in state["Reddit"]["last_error"]
    assert state["Reddit"]["next_attempt_at"] is not None


def test_engine_faults_are_explained(feed_server: FeedServer, workspace: Workspace, veille) -> None:
    feed_server.add("/search", b"Forbidden", status=403, content_type="text/plain")
    feed_server.add(
        "/news/search",
        b"<!DOCTYPE html><html><body>captcha</body></html>",
        content_type="text/html",
    )
    feed_server.add("/w/api.php", b"<html>maintenance</html>", content_type="text/html")
    base = feed_server.base
    workspace.write(
        [
            {"name": "SearXNG", "type": "search", "engine": "searxng", "query": "c", "url": base},
            {"name": "Bing", "type": "search", "engine": "bing_news", "query": "c", "url": base},
            {"name": "Wiki", "type": "search", "engine": "wikipedia", "query": "c", "url": base},
        ],
        at="23:59",
    )
    assert veille("run").code == 1
    state = {r["name"]: r for r in json.loads(veille("sources", "--format", "json").out)}
    assert "settings.yml" in state["SearXNG"]["last_error"]
    assert state["Bing"]["consecutive_failures"] == 0
    assert "RSS" in state["Bing"]["last_warning"]
    assert "HTML" in state["Wiki"]["last_error"]
    assert "avertissement" in veille("sources").out


def test_searxng_needs_an_instance_address(workspace: Workspace, veille) -> None:
    workspace.write([{"name": "S", "type": "search", "engine": "searxng", "query": "c"}])
    result = veille("check")
    assert result.code == 2
    assert "le moteur searxng demande url:" in result.err


def test_untrusted_result_links_to_private_addresses_are_not_fetched(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    body = (
        (ENGINES / "searxng.json")
        .read_text(encoding="utf-8")
        .replace("http://127.0.0.1:1/interne", feed_server.url("/interne"))
    )
    feed_server.add("/search", body, content_type="application/json")
    feed_server.add("/interne", b"<html><body>secret</body></html>", content_type="text/html")
    workspace.write(
        [
            {
                "name": "SearXNG",
                "type": "search",
                "engine": "searxng",
                "query": "c",
                "url": feed_server.base,
                "fetch_full": True,
            }
        ],
        at="23:59",
    )

    assert veille("run").code == 0

    assert feed_server.hits_for("/interne") == []
    titles = set(_mentions(veille))
    assert {"Portes ouvertes", "Lien interne", "Métadonnées"} <= titles  # snippets still count


def test_page_robots_charset_selector_follow_and_change_detection(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add("/robots.txt", (PAGES / "robots.txt").read_bytes(), content_type="text/plain")
    feed_server.add(
        "/nouvelles.html", (PAGES / "page-1252.html").read_bytes(), content_type="text/html"
    )  # no charset: <meta charset="windows-1252">
    feed_server.add(
        "/page-2.html",
        (PAGES / "page-2.html").read_bytes(),
        content_type="text/html; charset=utf-8",
    )
    feed_server.add(
        "/prive/secret.html", b"<p>Cegep de Drummondville</p>", content_type="text/html"
    )
    sources = [
        {
            "name": "Ville",
            "type": "page",
            "url": feed_server.url("/nouvelles.html"),
            "follow": "a.suite",
            "max_pages": 5,
        }
    ]
    workspace.write(sources, at="23:59")

    assert veille("run").code == 0

    found = json.loads(veille("mentions", "--format", "json").out)
    snippets = sorted(m["snippet"] for m in found)
    assert len(found) == 2, snippets
    assert any("accueillera le colloque régional « Réussir »" in s for s in snippets)
    assert any("CÉGEP de Drummondville ont présenté" in s for s in snippets)
    assert not any("script" in s or "menu" in s or "Pied de page" in s for s in snippets)
    assert feed_server.hits_for("/prive/secret.html") == []
    assert len(feed_server.hits_for("/robots.txt")) == 1
    state = json.loads(veille("sources", "--format", "json").out)[0]
    assert "robots.txt" in state["last_warning"]

    # same page again: nothing new; robots.txt comes from the store (kept a day)
    assert veille("run", "--all").code == 0
    assert len(json.loads(veille("mentions", "--format", "json").out)) == 2
    assert len(feed_server.hits_for("/robots.txt")) == 1

    # a new paragraph naming the college is reported; unrelated changes are not
    changed = (
        (PAGES / "page-1252.html")
        .read_bytes()
        .replace(
            b"<p>La biblioth",
            "<p>Nouveau : le Cégep de Drummondville ouvre une garderie.</p><p>La biblioth".encode(
                "cp1252"
            ),
        )
    )
    changed = changed.replace(b"heures", b"horaires")
    feed_server.add("/nouvelles.html", changed, content_type="text/html")
    assert veille("run", "--all").code == 0
    found = json.loads(veille("mentions", "--format", "json").out)
    assert len(found) == 3
    assert "ouvre une garderie" in found[0]["snippet"]


def test_page_selector_and_robots_refusals(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add("/robots.txt", b"User-agent: *\nDisallow: /\n", content_type="text/plain")
    feed_server.add(
        "/nouvelles.html", (PAGES / "page-1252.html").read_bytes(), content_type="text/html"
    )
    workspace.write(
        [
            {
                "name": "Ville",
                "type": "page",
                "url": feed_server.url("/nouvelles.html"),
                "selector": "nav",
            }
        ],
        at="23:59",
    )
    assert veille("run").code == 1
    state = json.loads(veille("sources", "--format", "json").out)[0]
    assert "robots.txt" in state["last_error"]
    assert feed_server.hits_for("/nouvelles.html") == []

    _forget_robots(workspace)  # as if a day had passed
    feed_server.add("/robots.txt", b"oops", status=503, content_type="text/plain")
    workspace.write(
        [
            {
                "name": "Ville 2",
                "type": "page",
                "url": feed_server.url("/nouvelles.html"),
                "selector": "nav",
            }
        ],
        at="23:59",
    )
    assert veille("run").code == 1
    state = {r["name"]: r for r in json.loads(veille("sources", "--format", "json").out)}
    assert "mis en pause" in state["Ville 2"]["last_error"]
    assert state["Ville 2"]["next_attempt_at"] is not None

    feed_server.routes.pop("/robots.txt")  # 404: everything allowed
    _forget_robots(workspace)
    workspace.write(
        [
            {
                "name": "Ville 3",
                "type": "page",
                "url": feed_server.url("/nouvelles.html"),
                "selector": "nav",
            }
        ],
        at="23:59",
    )
    assert veille("run").code == 0
    found = json.loads(veille("mentions", "--format", "json").out)
    assert len(found) == 1  # only the nav, as the selector asks
    assert found[0]["snippet"].endswith("— Accueil Cégep de Drummondville (menu)")
