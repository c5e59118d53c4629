"""What sources really send (SOURCES.md, "What real captures show"), read by the
parse functions: HTML to text, outlets, titles, dates, and fields of the wrong kind."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from pydantic import ValidationError

from collectors import REGISTRY, group_label, options_models
from collectors import text as text_module
from collectors.engines import ENGINES
from collectors.engines.base import load_json
from collectors.engines.bing_news import BingNews
from collectors.engines.google_news import GoogleNews, cluster, split_outlet
from collectors.engines.reddit import Reddit
from collectors.engines.searxng import SearXNG
from collectors.engines.wikipedia import Wikipedia
from collectors.feed import entry_item, feed_items, parse_feed, read_feed
from collectors.page import paragraph_items
from collectors.response import Response
from collectors.search import SearchSource
from collectors.text import clean_label, epoch_time, excerpt, html_to_text, iso_time
from tests.conftest import DATA
from veille.config import load_config
from veille.errors import ConfigError, SourceError

REAL = DATA / "engines" / "real"


def _response(name: str, content_type: str = "application/json") -> Response:
    return Response(
        "http://127.0.0.1/x", 200, {"content-type": content_type}, (REAL / name).read_bytes()
    )


def _json_response(data: Any) -> Response:
    return Response(
        "http://127.0.0.1/x", 200, {"content-type": "application/json"}, json.dumps(data).encode()
    )


# --- HTML to text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (
            '<a href="https://m.test/tags/x" class="mention hashtag">'
            "#<span>CegepDrummond</span></a>",
            "#CegepDrummond",
        ),
        (
            '<span class="h-card"><a href="https://m.test/@u" class="u-url mention">'
            "@<span>user</span></a></span>",
            "@user",
        ),
        ("an interface<i></i>, used", "an interface, used"),
        ("an <em>interface</em>, used", "an interface, used"),
        ("<b>Cégep</b>, Drummond", "Cégep, Drummond"),
        ('Le <span class="searchmatch">Cégep</span> de', "Le Cégep de"),
        (
            '<a href="https://x.test/long"><span class="invisible">https://</span>'
            '<span class="ellipsis">x.test/lo</span><span class="invisible">ng</span></a>',
            "https://x.test/long",
        ),
    ],
)
def test_inline_elements_add_no_space(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Cégep</p><p>Drummond</p>",
        "Cégep<br>Drummond",
        "Cégep<br/>Drummond",
        "<ul><li>Cégep</li><li>Drummond</li></ul>",
        "<div>Cégep</div><div>Drummond</div>",
        "<table><tr><td>Cégep</td><td>Drummond</td></tr></table>",
    ],
)
def test_block_elements_still_separate_words(markup: str) -> None:
    assert html_to_text(markup).split() == ["Cégep", "Drummond"]


def test_entities_scripts_and_double_escapes() -> None:
    assert html_to_text("<p>R&amp;D &eacute;t&eacute; &#8212; l&#39;&eacute;cole</p>") == (
        "R&D été — l'école"
    )
    assert (
        html_to_text("<script>var x = '<b>Cégep</b>';</script><style>p{}</style>Texte") == "Texte"
    )
    assert html_to_text("<noscript>Activez JavaScript</noscript><p>Texte</p>") == "Texte"
    # Google Alerts: entities escaped twice come out as a space and an apostrophe
    assert html_to_text("L&amp;#39;équipe du <b>Cégep</b>&amp;nbsp;!") == "L'équipe du Cégep !"
    assert html_to_text("L&amp;#39;équipe&amp;nbsp;!") == "L'équipe !"
    assert html_to_text("x\x00y\x1b z\x85") == "xy z"


@pytest.mark.parametrize(
    "markup",
    ["<![if x]>a", "<!DOCTYPE", "</", "<a href='x", "<<>>", "<![CDATA[x", "&#99999999;<p>"],
)
def test_malformed_markup_never_raises(markup: str) -> None:
    assert isinstance(html_to_text(markup), str)


def test_text_without_tags_is_not_parsed(monkeypatch) -> None:
    def refuse() -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(text_module, "_TextParser", refuse)
    assert html_to_text("Merci &amp; bravo au Cégep") == "Merci & bravo au Cégep"


def test_excerpt_and_labels() -> None:
    words = "Bravo à l'équipe de robotique du #CegepDrummond pour sa première place au concours"
    title = excerpt(words)
    assert title.endswith("…") and len(title) <= 81 and words.startswith(title[:-1])
    assert excerpt("Court message") == "Court message"
    assert excerpt("x" * 100) == "x" * 80 + "…"
    assert clean_label(" Le Nouvelliste |\n") == "Le Nouvelliste"
    assert clean_label("La\x00 Presse") == "La Presse"
    assert clean_label(["liste"]) is None and clean_label(" | ") is None
    assert clean_label("x" * 500) == "x" * 300


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T12:00:00Z", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20T12:00:00", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20 00:00:00", datetime(2026, 11, 20, tzinfo=UTC)),
        ("2026-11-20T07:00:00-05:00", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("demain", None),
        ("9999-12-31T00:00:00", None),
        ("1900-01-01T00:00:00", None),
        (None, None),
        (1795000000, None),
        (["2026-11-20"], None),
    ],
)
def test_iso_time(value: object, expected: datetime | None) -> None:
    assert iso_time(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1795000000.0, datetime.fromtimestamp(1795000000, UTC)),
        (1795000000, datetime.fromtimestamp(1795000000, UTC)),
        (1e20, None),
        (float("nan"), None),
        (float("inf"), None),
        (-1e10, None),
        ("abc", None),
        ("1795000000", None),
        (None, None),
        (True, None),
    ],
)
def test_epoch_time(value: object, expected: datetime | None) -> None:
    assert epoch_time(value) == expected


# --- feeds --------------------------------------------------------------------------------


def test_mastodon_posts_are_titled_with_their_first_words() -> None:
    items = parse_feed((DATA / "mastodon.rss").read_bytes(), source="m")
    first, second, empty = items
    assert first.title == (
        "Bravo à l'équipe de robotique du #CegepDrummond pour sa première place au…"
    )
    assert first.text.startswith(
        "Bravo à l'équipe de robotique du #CegepDrummond pour sa première place au concours "
        "provincial, avec @cegepdrummond et toute la région!\n"
    )
    assert "Photos : https://photos.example/robotique-2026" in first.text
    assert second.title == "Court : Cégep, Drummond #cegepdrummond"
    assert not empty.title.startswith("http")
    assert {i.outlet for i in items} == {"#cegepdrummond"}  # the channel's title


def test_google_alerts_double_escapes_outlet_and_impossible_dates() -> None:
    finale, impossible = parse_feed((DATA / "alerts_escaped.atom").read_bytes(), source="g")
    assert finale.title == "L'équipe du Cégep de Drummondville en finale ! - L'Express"
    assert finale.text == (
        "L'équipe de volleyball du Cégep de Drummondville jouera la finale "
        '"provinciale" samedi ...'
    )
    assert finale.outlet == "journalexpress.ca"  # where the alert's link leads, not "Alerte Google"
    assert impossible.published_at is None  # 9999, then 1901: neither is kept


def test_feed_outlet_is_the_item_source_else_the_channel_title() -> None:
    document = read_feed(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Agr\xc3\xa9gateur |</title>'
        b"<item><title>a</title><link>https://a.test/1</link>"
        b'<source url="https://journal.test/rss">Le Journal</source></item>'
        b"<item><title>b</title><link>https://a.test/2</link></item></channel></rss>"
    )
    assert [i.outlet for i in feed_items(document, source="s")] == ["Le Journal", "Agrégateur"]


def test_feed_entry_fields_of_the_wrong_kind() -> None:
    entry = feedparser.FeedParserDict(
        link=["https://a.test/1"],
        id=42,
        title=["t"],
        summary={"x": 1},
        author=7,
        published_parsed=(9999, 12, 31, 0, 0, 0, 0, 365, 0),
    )
    assert entry_item(entry, source="s") is None  # no usable link nor id
    entry["id"] = "https://a.test/1"
    item = entry_item(entry, source="s")
    assert item is not None
    assert (item.url, item.title, item.text, item.published_at) == (
        "https://a.test/1",
        "",
        "",
        None,
    )
    entry["link"] = "http://[::1/no-host"
    assert entry_item(entry, source="s").url == "https://a.test/1"  # type: ignore[union-attr]


# --- google_news --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "source", "expected"),
    [
        ("Titre - L'Express", "L'Express", ("Titre", "L'Express")),
        (
            "Drummondville - Le Cégep grandit - L'Express",
            "L'Express",
            ("Drummondville - Le Cégep grandit", "L'Express"),
        ),
        (
            "Le centre-ville - deux chantiers - Le Quotidien",
            "Le Soleil",
            ("Le centre-ville - deux chantiers - Le Quotidien", "Le Soleil"),
        ),
        ("Titre - Vingt55 |", "Vingt55", ("Titre", "Vingt55")),
        ("Titre - journalexpress.ca", "journalexpress.ca", ("Titre", "journalexpress.ca")),
        ("Titre - La Tribune", None, ("Titre", "La Tribune")),
        ("Sans média", None, ("Sans média", None)),
        (" - Média", None, (" - Média", None)),
    ],
)
def test_split_outlet(title: str, source: str | None, expected: tuple[str, str | None]) -> None:
    assert split_outlet(title, source) == expected


def test_clustered_story_keeps_its_own_headline_and_emits_the_others() -> None:
    result = GoogleNews().parse(
        _response("google_news_cluster.xml", "application/rss+xml"), source="G", base=""
    )
    items = {i.title: i for i in result.items}
    primary = items["Pénurie d'enseignants : les cégeps - à bout de souffle"]
    assert "Drummondville" not in primary.text  # a secondary headline is not the item's text
    assert primary.text == "Pénurie d'enseignants : les cégeps - à bout de souffle Le Nouvelliste"
    tribune = items["Le Cégep de Drummondville embauche 40 enseignants"]
    assert tribune.outlet == "La Tribune" and tribune.url != primary.url
    assert tribune.url.startswith("https://news.google.com/rss/articles/CBMihgFBVV95cUxQX3RyaWJ1")
    assert tribune.published_at is None and tribune.text == ""
    # a cluster whose lines are all other outlets': the item keeps its headline only
    assert items["Rentrée scolaire au Centre-du-Québec"].text == ""
    # the same secondary headline in two clusters is one item; "full coverage" is none
    assert [i.title for i in result.items].count(
        "Les cégeps manquent de profs partout au Québec"
    ) == 1
    assert not any("couverture complète" in i.title for i in result.items)
    assert len(result.items) == 8
    assert result.warning is None


def test_cluster_reads_only_lists() -> None:
    assert cluster("Budget municipal") is None
    assert cluster('<a href="https://n.test/a">Titre</a>&nbsp;<font>Média</font>') is None
    (line,) = (
        cluster('<ol><li><a href="https://n.test/a">Titre</a><font>Média |</font></li></ol>') or []
    )
    assert (line.url, line.title, line.outlet) == ("https://n.test/a", "Titre", "Média")


def test_google_news_links_are_never_fetched_for_full_text() -> None:
    assert GoogleNews.fetch_full_allowed is False
    assert all(e.fetch_full_allowed for name, e in ENGINES.items() if name != "google_news")
    assert not GoogleNews().may_fetch("https://www.journalexpress.ca/a")
    source = SearchSource(name="G", type="search", engine="google_news", query="q", fetch_full=True)
    assert any("fetch_full" in w for w in source.warnings())


@pytest.mark.parametrize(
    ("url", "fetched"),
    [
        ("https://www.journalexpress.ca/2026/cegep", True),
        ("https://news.google.com/rss/articles/CBMiX?oc=5", False),  # whichever engine found it
        ("https://NEWS.google.com/articles/x", False),
        ("http://[x/broken", False),
        ("mailto:x@y.test", False),
    ],
)
def test_which_result_links_other_engines_fetch(url: str, fetched: bool) -> None:
    assert {name: e.may_fetch(url) for name, e in ENGINES.items() if name != "google_news"} == {
        name: fetched for name in ENGINES if name != "google_news"
    }


def test_unknown_engine_lists_the_known_ones_in_french() -> None:
    with pytest.raises(ValidationError) as caught:
        SearchSource(name="G", type="search", engine="googel_news", query="q")
    message = str(caught.value)
    assert "moteur inconnu « googel_news »" in message
    assert "vouliez-vous dire « google_news » ?" in message
    assert "moteurs possibles : bing_news, google_news, reddit, searxng, wikipedia" in message


def test_unknown_engine_in_config_yaml_is_one_located_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "brand:\n  name: Cégep de Drummondville\nsources:\n"
        "  - name: Recherche\n    type: search\n    engine: yahoo\n    query: cegep\n"
        "digest:\n  to: [communications@cegep.example]\n  from: veille@cegep.example\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, source_types=options_models())
    assert str(caught.value) == (
        f"{path}: ligne 6 : sources[0].engine (Recherche) : moteur inconnu « yahoo » "
        "(moteurs possibles : bing_news, google_news, reddit, searxng, wikipedia)"
    )


# --- bing_news ----------------------------------------------------------------------------


def test_bing_outlet_and_empty_channel() -> None:
    result = BingNews().parse(
        _response("bing_news_msn.xml", "application/rss+xml"), source="B", base=""
    )
    assert [i.outlet for i in result.items] == ["Le Nouvelliste on MSN", "L'Express"]
    empty = BingNews().parse(
        _response("bing_news_empty.xml", "application/rss+xml"), source="B", base=""
    )
    assert empty.items == () and empty.warning is None
    html = Response("u", 200, {"content-type": "text/html"}, b"<!DOCTYPE html><html>captcha</html>")
    page = BingNews().parse(html, source="B", base="")
    assert page.items == () and page.warning is not None and "RSS" in page.warning


# --- reddit -------------------------------------------------------------------------------


def test_reddit_fields_of_the_wrong_kind() -> None:
    result = Reddit().parse(
        _response("reddit_listing.json"), source="R", base="https://www.reddit.com"
    )
    items = {i.url.split("/comments/")[1].split("/")[0]: i for i in result.items}
    assert sorted(items) == ["b1", "b2", "i1", "l1", "s1"]
    assert items["s1"].text == "Quelqu'un a des échos du programme?\n\nMerci & bonne journée <3"
    assert items["s1"].published_at == datetime.fromtimestamp(1795001000, UTC)
    assert items["l1"].outlet == "journalexpress.ca"  # a link post: the article's site
    assert items["s1"].outlet == items["i1"].outlet == "r/drummondville"  # i.redd.it is Reddit
    assert items["i1"].published_at is None  # "abc"
    assert items["b1"].published_at is None and items["b1"].title == ""  # 1e20; a list
    assert items["b1"].outlet == "Reddit"
    assert items["b2"].published_at is None  # null
    assert result.warning is None and len(result.rejected) == 3  # counted as rejected


# --- searxng ------------------------------------------------------------------------------


def test_searxng_pubdate_outlet_and_unresponsive_engines() -> None:
    result = SearXNG().parse(_response("searxng_news.json"), source="S", base="")
    items = {i.url: i for i in result.items}
    budget = items["https://www.journalexpress.ca/2026/11/20/cegep-budget/"]
    assert budget.published_at == datetime(2026, 11, 20, tzinfo=UTC)  # publishedDate null
    assert budget.outlet == "journalexpress.ca"  # not "bing news"
    stage = items["https://www.lanouvelle.net/cegep-stage"]
    assert stage.published_at == datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
    odd = items["https://blogue.example.org/drummond"]
    assert (odd.title, odd.text) == ("12345", "")
    assert odd.published_at == datetime(2026, 11, 22, 13, tzinfo=UTC)  # "demain", then pubdate
    assert items["https://naif.example/cegep"].published_at == datetime(
        2026, 11, 23, 10, tzinfo=UTC
    )
    assert len(result.items) == 4  # an address in a list, a javascript: address: skipped
    assert result.warning is not None
    assert result.warning.startswith(
        "moteurs de SearXNG sans réponse : google (timeout), bing (CAPTCHA), wikidata (HTTP error)"
    )
    assert len(result.rejected) == 2  # counted as rejected, not in the warning


@pytest.mark.parametrize(
    ("engines", "warning"),
    [
        ([], None),
        (None, None),
        ("google", None),
        ([["google"]], "moteurs de SearXNG sans réponse : google"),
        (["qwant", ["brave", 429]], "moteurs de SearXNG sans réponse : qwant, brave (429)"),
        ([[], [None, "x"], {"a": 1}], None),
    ],
)
def test_searxng_unresponsive_engines_shapes(engines: object, warning: str | None) -> None:
    data = {"results": [], "unresponsive_engines": engines}
    assert SearXNG().parse(_json_response(data), source="S", base="").warning == warning


# --- wikipedia ----------------------------------------------------------------------------


def test_wikipedia_formatversion_1_and_odd_fields() -> None:
    result = Wikipedia().parse(
        _response("wikipedia_v1.json"), source="W", base="https://fr.wikipedia.org"
    )
    items = {i.title: i for i in result.items}
    assert sorted(items) == [
        "Cégep de Drummondville",
        "Drummondville",
        "Liste des cégeps du Québec",
    ]
    college = items["Cégep de Drummondville"]
    assert (
        college.text == "Le Cégep de Drummondville est l'établissement d'enseignement \"collégial\""
    )
    assert college.published_at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert items["Liste des cégeps du Québec"].published_at is None  # "le 20 novembre"
    assert items["Liste des cégeps du Québec"].text == ""  # a list
    assert items["Drummondville"].published_at is None  # a number
    assert items["Drummondville"].guid == "wikipedia:Drummondville"  # pageid in a list
    assert {i.outlet for i in result.items} == {"Wikipédia"}
    assert result.warning is None and len(result.rejected) == 2


# --- any JSON engine: no field of the wrong kind fails the source -------------------------

ODD_VALUES = [["liste", 1], 3.5, 12, None, {"x": "y"}, True, "", "\x00\x1b"]
JSON_ENGINES = [
    (Reddit(), "reddit_listing.json", "https://www.reddit.com"),
    (SearXNG(), "searxng_news.json", "https://searx.test"),
    (Wikipedia(), "wikipedia_v1.json", "https://fr.wikipedia.org"),
]


def _records(engine_name: str, data: Any) -> list[dict[str, Any]]:
    if engine_name == "reddit":
        return [
            c["data"]
            for c in data["data"]["children"]
            if isinstance(c, dict) and isinstance(c.get("data"), dict)
        ]
    if engine_name == "searxng":
        return data["results"]
    return data["query"]["search"]


@pytest.mark.parametrize(
    ("engine", "name", "base"), JSON_ENGINES, ids=lambda v: getattr(v, "name", "")
)
@pytest.mark.parametrize("odd", ODD_VALUES, ids=repr)
def test_any_field_of_the_wrong_kind_never_fails_the_source(
    engine: Any, name: str, base: str, odd: object
) -> None:
    original = json.loads((REAL / name).read_text(encoding="utf-8"))
    fields = {key for record in _records(engine.name, original) for key in record}
    for field in sorted(fields):
        data = copy.deepcopy(original)
        for record in _records(engine.name, data):
            record[field] = odd
        result = engine.parse(_json_response(data), source="x", base=base)
        for item in result.items:
            assert isinstance(item.title, str) and isinstance(item.text, str)
            assert item.url.startswith(("http://", "https://"))
            assert item.outlet is None or (isinstance(item.outlet, str) and len(item.outlet) <= 300)
            assert "\x00" not in item.title + item.text + (item.outlet or "")


@pytest.mark.parametrize(
    ("engine", "name", "base"), JSON_ENGINES, ids=lambda v: getattr(v, "name", "")
)
@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"{}",
        b"null",
        b'"texte"',
        b"12",
        b'{"data": []}',
        b'{"query": {"search": 5}}',
        b"[" * 100_000,
    ],
)
def test_an_answer_of_the_wrong_shape_raises_only_source_error(
    engine: Any, name: str, base: str, body: bytes
) -> None:
    response = Response("u", 200, {"content-type": "application/json"}, body)
    with contextlib.suppress(SourceError):  # an empty result is fine too
        engine.parse(response, source="x", base=base)


def test_deeply_nested_json_is_unreadable_not_a_crash() -> None:
    with pytest.raises(SourceError, match="illisible"):
        load_json(Response("u", 200, {"content-type": "application/json"}, b"[" * 100_000), "X")


# --- pages --------------------------------------------------------------------------------


def test_paragraph_items_are_never_merged_by_title() -> None:
    items = paragraph_items("P", "https://ville.test/a", "Nouvelles", "Premier.\n\nSecond.")
    assert len(items) == 2
    assert all(item.title == "Nouvelles" and item.dedup_by_title is False for item in items)


def test_a_hostile_follow_link_is_skipped() -> None:
    from bs4 import BeautifulSoup

    from collectors.page import PageCollector, PageSource

    collector = PageCollector(
        PageSource(name="P", type="page", url="https://site.test/", follow="a")
    )
    soup = BeautifulSoup('<a href="http://[x">x</a><a href="/ok">ok</a>', "html.parser")
    assert collector._links(soup, "https://site.test/") == ["https://site.test/ok"]


# --- registry -----------------------------------------------------------------------------


def test_each_collector_type_names_its_digest_heading() -> None:
    assert {kind: group_label(kind) for kind in REGISTRY} == {
        "feed": "Actualités, blogues et flux",
        "search": "Moteurs de recherche",
        "page": "Pages Web",
        "account": "Sur nos comptes officiels",
    }
    assert group_label("ancien_type") == "ancien_type"
