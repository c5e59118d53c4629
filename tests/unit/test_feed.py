"""The feed collector and the shared HTTP client against a real local server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from collectors.base import SourceState
from collectors.feed import FeedCollector, FeedSource, parse_feed
from collectors.http import HttpClient
from collectors.page import PageCollector, PageSource
from tests.conftest import DATA, FeedServer
from veille.config import HttpConfig
from veille.errors import SourceError


def test_windows_1252_and_latin1_feeds_decode() -> None:
    items = parse_feed((DATA / "cp1252.xml").read_bytes(), source="b")
    assert items[0].text == (
        "Belle journée au Cégep de Drummondville : l’agora était pleine — « merci » à tous."
    )
    items = parse_feed((DATA / "latin1.xml").read_bytes(), source="a", content_type="text/xml")
    assert "Collège d'enseignement général et professionnel" in items[0].text
    assert items[0].title == "Appel d'offres : réfection de la toiture"


def test_rss_091_atom_and_html_summaries() -> None:
    old = parse_feed((DATA / "rss091.xml").read_bytes(), source="o")
    assert old[0].title == "Le CEGEP de Drummondville au salon de l'emploi"
    atom = parse_feed((DATA / "alerts.atom").read_bytes(), source="g")
    assert atom[1].title == "Le Cégep de Drummondville dévoile son plan stratégique"
    assert atom[0].published_at is not None and atom[0].published_at.tzinfo is not None
    express = parse_feed((DATA / "express.xml").read_bytes(), source="e")
    assert express[0].text == "La direction du Cégep présente ses orientations."
    assert express[0].guid == "t-1"
    assert "<" not in express[0].text


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"\x00\x01\x02 garbage", "application/octet-stream", "illisible"),
        (b"<!DOCTYPE html><html><body>Captcha</body></html>", "text/html", "page HTML"),
        (b"", "application/rss+xml", "illisible"),
    ],
)
def test_not_a_feed_is_a_source_error(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(SourceError, match=reason):
        parse_feed(body, source="x", content_type=content_type)


def _client(**options: object) -> HttpClient:
    values = {"timeout": timedelta(seconds=2), "per_host_delay": timedelta(0)}
    values.update(options)
    return HttpClient(HttpConfig(**values))


def test_max_bytes_is_enforced_while_streaming(feed_server: FeedServer) -> None:
    url = feed_server.add("/huge", stream_bytes=60_000_000)
    client = _client(max_bytes=1_000_000)

    async def fetch() -> None:
        async with client:
            await client.get(url)

    with pytest.raises(SourceError, match="trop volumineuse"):
        asyncio.run(fetch())
    assert client.bytes_received < 1_500_000


def test_declared_content_length_over_the_cap_is_refused_before_reading(
    feed_server: FeedServer,
) -> None:
    url = feed_server.add("/big", b"x" * 3_000_000)
    client = _client(max_bytes=1_000_000)

    async def fetch() -> None:
        async with client:
            await client.get(url)

    with pytest.raises(SourceError, match="3 Mo"):
        asyncio.run(fetch())
    assert client.bytes_received == 0


def test_user_agent_and_conditional_get(feed_server: FeedServer) -> None:
    url = feed_server.add_file("/f.xml", "express.xml", etag='"abc"')
    collector = FeedCollector(FeedSource(name="F", type="feed", url=url))
    client = _client(user_agent="veille-test/1.0 (+https://cegep.example)")

    async def twice():
        async with client:
            first = await collector.collect(client, SourceState())
            second = await collector.collect(client, first.state)
            return first, second

    first, second = asyncio.run(twice())
    assert len(first.items) == 7 and first.state.etag == '"abc"'
    assert second.not_modified and second.items == ()
    hits = feed_server.hits_for("/f.xml")
    assert hits[0].headers["User-Agent"] == "veille-test/1.0 (+https://cegep.example)"
    assert hits[1].headers["If-None-Match"] == '"abc"'


def test_page_conditional_get_keeps_the_stored_validators_on_304(feed_server: FeedServer) -> None:
    url = feed_server.add_file(
        "/page.html",
        "page.html",
        content_type="text/html; charset=utf-8",
        etag='"p1"',
        last_modified="Wed, 21 Oct 2015 07:28:00 GMT",
    )
    collector = PageCollector(PageSource(name="P", type="page", url=url))
    client = _client(respect_robots=False)

    async def twice():
        async with client:
            first = await collector.collect(client, SourceState())
            return first, await collector.collect(client, first.state)

    first, second = asyncio.run(twice())
    assert first.items and first.state == SourceState(
        etag='"p1"', last_modified="Wed, 21 Oct 2015 07:28:00 GMT"
    )
    assert second.not_modified and second.items == () and second.state == first.state
    sent = feed_server.hits_for("/page.html")[1].headers
    assert sent["If-None-Match"] == '"p1"'
    assert sent["If-Modified-Since"] == "Wed, 21 Oct 2015 07:28:00 GMT"


def test_per_host_delay_spaces_requests(feed_server: FeedServer) -> None:
    url = feed_server.add("/x", b"ok", content_type="text/plain")
    client = _client(per_host_delay=timedelta(milliseconds=300), concurrency=4)

    async def three() -> float:
        loop = asyncio.get_running_loop()
        async with client:
            start = loop.time()
            await asyncio.gather(*(client.get(url) for _ in range(3)))
            return loop.time() - start

    assert asyncio.run(three()) >= 0.6
