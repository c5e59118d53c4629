"""Links found in search results never reach private addresses."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import timedelta

import pytest

from collectors.http import HttpClient, is_public
from tests.conftest import FeedServer
from veille.config import HttpConfig
from veille.errors import SourceError


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def _client(**options: object) -> HttpClient:
    return HttpClient(
        HttpConfig(timeout=timedelta(seconds=2), per_host_delay=timedelta(0), **options)
    )


def _get(client: HttpClient, url: str):
    async def fetch():
        async with client:
            return await client.get_untrusted(url)

    return asyncio.run(fetch())


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
        "http://10.0.0.1/",
        "http://localhost:9/",
        "ftp://example.test/x",
        "file:///etc/passwd",
    ],
)
def test_private_or_odd_links_are_refused_before_any_connection(url: str) -> None:
    with pytest.raises(SourceError, match="refusé|introuvable"):
        _get(_client(), url)


def test_loopback_link_is_refused_and_never_fetched(feed_server: FeedServer) -> None:
    url = feed_server.add("/secret", b"secret", content_type="text/plain")
    with pytest.raises(SourceError, match="non publique"):
        _get(_client(), url)
    assert feed_server.hits_for("/secret") == []
    # the same link is fetched when the admin allows private links (tests on 127.0.0.1)
    assert _get(_client(allow_private_links=True), url).content == b"secret"


def test_redirect_to_a_private_address_is_refused(feed_server: FeedServer) -> None:
    target = f"http://[::1]:{feed_server.port}/secret"
    url = feed_server.add("/go", redirect=target)
    client = _client()
    # pretend the test server's address is public: only the redirect is then private
    client.address_allowed = lambda address: str(address) == "127.0.0.1"
    with pytest.raises(SourceError, match=r"non publique \(::1\)"):
        _get(client, url)
    assert len(feed_server.hits_for("/go")) == 1
