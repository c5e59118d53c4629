"""The shared HTTP client against hostile servers, on a real local server.

Rate-limit headers out of range, non-ASCII validators, compression bombs,
DNS rebinding and dirty robots.txt files each end as a SourceError or as a
normal answer, never as a traceback, an overflow or gigabytes in memory.
"""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import ssl
import subprocess
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from collectors.base import SourceState
from collectors.feed import FeedCollector, FeedSource
from collectors.http import HttpClient, is_public
from collectors.response import MAX_BACKOFF
from collectors.robots import MAX_SIZE, RobotsEntry, RobotsPolicy
from collectors.search import SearchCollector, SearchSource
from tests.conftest import DATA, FeedServer
from veille.config import HttpConfig
from veille.errors import SourceError

MB = 1_000_000


def _client(**options: Any) -> HttpClient:
    transport = options.pop("transport", None)
    values: dict[str, Any] = {"timeout": timedelta(seconds=5), "per_host_delay": timedelta(0)}
    values.update(options)
    return HttpClient(HttpConfig(**values), transport=transport)


def _run(client: HttpClient, work: Any) -> Any:
    async def inside() -> Any:
        async with client:
            return await work(client)

    return asyncio.run(inside())


# --- 1. Retry-After and X-Ratelimit-Reset -----------------------------------------------


def _in_hours(hours: float, zone: str) -> str:
    when = datetime.now(UTC) + timedelta(hours=hours)
    return format_datetime(when, usegmt=True).replace("GMT", zone)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "300000000000"}, MAX_BACKOFF),
        ({"Retry-After": "9" * 400}, MAX_BACKOFF),
        ({"Retry-After": "120"}, 120.0),
        ({"Retry-After": "inf"}, 3600.0),
        ({"Retry-After": "nan"}, 3600.0),
        ({"Retry-After": "-5"}, 3600.0),
        ({"Retry-After": "²"}, 3600.0),
        ({"Retry-After": "n'importe quoi"}, 3600.0),
        ({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, MAX_BACKOFF),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 -0000"}, 0.0),
        ({"Retry-After": "in 2 hours, zone -0000"}, 7200.0),  # written when the test runs
        ({"X-Ratelimit-Reset": "inf"}, MAX_BACKOFF),
        ({"X-Ratelimit-Reset": "1e400"}, MAX_BACKOFF),
        ({"X-Ratelimit-Reset": "nan"}, 3600.0),
        ({"X-Ratelimit-Reset": "-40"}, 0.0),
        ({"X-Ratelimit-Reset": "90000000"}, MAX_BACKOFF),
    ],
)
def test_rate_limit_headers_give_a_bounded_back_off(
    feed_server: FeedServer, headers: dict[str, str], expected: float
) -> None:
    if headers.get("Retry-After") == "in 2 hours, zone -0000":
        headers = {"Retry-After": _in_hours(2, "-0000")}
    feed_server.add("/search", b"{}", status=429, content_type="application/json", headers=headers)
    collector = SearchCollector(
        SearchSource(name="S", type="search", engine="searxng", query="cegep", url=feed_server.base)
    )
    with pytest.raises(SourceError) as caught:
        _run(_client(), lambda client: collector.collect(client, SourceState()))
    wait = caught.value.retry_after
    assert wait is not None and 0.0 <= wait <= MAX_BACKOFF
    assert wait == pytest.approx(expected, abs=60)
    assert "\n" not in str(caught.value) and "trop de requêtes" in str(caught.value)
    assert "limiter: false" in str(caught.value)  # the engine's advice for a 429


# --- 2. Non-ASCII ETag and Last-Modified --------------------------------------------------

# what the test server sends is the Latin-1 encoding of these strings (http.server's rule)
UTF8_ETAG = '"é-€"'.encode().decode("latin-1")
LATIN1_ETAG = '"café"'
RAW_DATE = "Wed, 21 Oct 2015 07:28:00 GMT \xe9\xff"


@pytest.mark.parametrize(
    "validators",
    [
        {"etag": UTF8_ETAG},
        {"etag": LATIN1_ETAG},
        {"last_modified": RAW_DATE},
    ],
    ids=["etag-utf8", "etag-latin1", "last-modified-raw"],
)
def test_non_ascii_validators_come_back_byte_for_byte(
    feed_server: FeedServer, validators: dict[str, str]
) -> None:
    url = feed_server.add_file("/f.xml", "express.xml", **validators)
    collector = FeedCollector(FeedSource(name="F", type="feed", url=url))

    async def twice(client: HttpClient) -> Any:
        first = await collector.collect(client, SourceState())
        return first, await collector.collect(client, first.state)

    first, second = _run(_client(), twice)
    assert len(first.items) == 7
    assert second.not_modified  # the server recognised its own bytes: 304
    sent = feed_server.hits_for("/f.xml")[1].headers
    if "etag" in validators:
        assert sent["If-None-Match"] == validators["etag"]
    else:
        assert sent["If-Modified-Since"] == validators["last_modified"]


def test_outgoing_header_values_that_are_not_latin1_go_as_utf8(feed_server: FeedServer) -> None:
    url = feed_server.add("/x", b"ok", content_type="text/plain")
    response = _run(
        _client(user_agent="veille (Cégep — Drummondville)"),
        lambda client: client.get(url, headers={"If-None-Match": '"€"'}),
    )
    assert response.content == b"ok"
    sent = feed_server.hits_for("/x")[0].headers
    assert sent["If-None-Match"] == '"€"'.encode().decode("latin-1")
    assert sent["User-Agent"] == "veille (Cégep — Drummondville)".encode().decode("latin-1")


# --- 3. Compression: bounded while decoding -----------------------------------------------


def _gzip_stream(chunks: Iterator[bytes]) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join(packer.compress(chunk) for chunk in chunks) + packer.flush()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """200 MB of zeros gzipped twice: a few kilobytes on the wire."""
    inner = _gzip_stream(b"\0" * MB for _ in range(200))
    return _gzip_stream(iter([inner]))


def _peak_memory(work: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        try:
            result: Any = work()
        except SourceError as exc:
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_gzip_bomb_is_stopped_at_max_bytes_of_decoded_content(
    feed_server: FeedServer, bomb: bytes
) -> None:
    assert len(bomb) < 20_000
    url = feed_server.add(
        "/bomb", bomb, content_type="text/html", headers={"Content-Encoding": "gzip, gzip"}
    )
    client = _client(max_bytes=2 * MB)
    result, peak = _peak_memory(lambda: _run(client, lambda c: c.get(url)))
    assert isinstance(result, SourceError)
    assert str(result) == "réponse trop volumineuse (plus de 2 Mo)"
    assert peak < 100 * MB, f"{peak / MB:.0f} Mo en mémoire"
    assert 0 < client.bytes_received <= len(bomb)  # bytes on the wire, not decoded ones
    assert feed_server.hits_for("/bomb")[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_bomb_in_the_body_of_a_redirect_is_never_decoded(
    feed_server: FeedServer, bomb: bytes
) -> None:
    target = feed_server.add("/target", b"ok", content_type="text/plain")
    url = feed_server.add(
        "/moved",
        bomb,
        status=302,
        content_type="text/html",
        headers={"Location": target, "Content-Encoding": "gzip, gzip"},
    )
    result, peak = _peak_memory(lambda: _run(_client(max_bytes=2 * MB), lambda c: c.get(url)))
    assert not isinstance(result, SourceError), result
    assert result.content == b"ok" and result.url == target
    assert peak < 100 * MB, f"{peak / MB:.0f} Mo en mémoire"


def _deflate(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


BODY = (DATA / "express.xml").read_bytes() * 40  # some 60 KB, several decoding pieces


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", lambda b: _deflate(b, zlib.MAX_WBITS | 16)),
        ("x-gzip", lambda b: _deflate(b, zlib.MAX_WBITS | 16)),
        ("deflate", lambda b: _deflate(b, zlib.MAX_WBITS)),
        ("deflate", lambda b: _deflate(b, -zlib.MAX_WBITS)),  # raw deflate, as IIS sends
        ("GZIP, identity", lambda b: _deflate(b, zlib.MAX_WBITS | 16)),
        ("gzip, deflate", lambda b: _deflate(_deflate(b, zlib.MAX_WBITS | 16), zlib.MAX_WBITS)),
        ("deflate, gzip", lambda b: _deflate(_deflate(b, zlib.MAX_WBITS), zlib.MAX_WBITS | 16)),
    ],
    ids=[
        "gzip",
        "x-gzip",
        "zlib",
        "raw-deflate",
        "case",
        "gzip-deflate",
        "deflate-gzip",
    ],
)
def test_compressed_bodies_still_decode(feed_server: FeedServer, coding: str, encode: Any) -> None:
    url = feed_server.add(
        "/z", encode(BODY), content_type="text/xml", headers={"Content-Encoding": coding}
    )
    client = _client()
    response = _run(client, lambda c: c.get(url))
    assert response.content == BODY
    assert client.bytes_received == len(encode(BODY))


@pytest.mark.parametrize(
    ("coding", "body", "reason"),
    [
        ("br", b"\x1b\x00", "encodage de contenu non pris en charge « br »"),
        ("gzip", b"plain text, not gzip", "contenu compressé illisible (gzip)"),
        ("gzip, gzip, gzip, gzip", b"x", "trop d'encodages de contenu empilés (4)"),
    ],
)
def test_unknown_or_broken_coding_is_a_french_source_error(
    feed_server: FeedServer, coding: str, body: bytes, reason: str
) -> None:
    url = feed_server.add(
        "/c", body, content_type="text/html", headers={"Content-Encoding": coding}
    )
    with pytest.raises(SourceError) as caught:
        _run(_client(), lambda c: c.get(url))
    assert str(caught.value) == reason


# --- 4. SSRF: public addresses only, and the one that was checked -------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("192.0.2.1", False),
        ("224.0.1.1", False),  # multicast, even "global" scope
        ("255.255.255.255", False),
        ("::", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fec0::1", False),  # site-local, deprecated but never the Internet
        ("ff0e::1", False),  # global-scope multicast
        ("2001:db8::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("::7f00:1", False),  # IPv4-compatible ::127.0.0.1
        ("::a9fe:a9fe", False),  # IPv4-compatible ::169.254.169.254
        ("::808:808", True),
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::808:808", True),
        ("64:ff9b:1::808:808", False),  # local-use NAT64 (RFC 8215)
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
        ("2002:808:808::1", True),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("2001:0:808:808:0:f227:80ff:fffe", False),  # Teredo, client 127.0.0.1
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


class FakeDns:
    """The system resolver, answering for ``*.test`` names from a script.

    ``answers[name]`` is the list of successive answers; the last one repeats.
    IP literals (what httpx connects to once pinned) go to the real resolver,
    which does not touch the network for them; any other name is unknown.
    """

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers
        self.asked: list[str] = []
        self._real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            try:
                ipaddress.ip_address(name)
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            return self._real(host, port, *args, **kwargs)
        self.asked.append(name)
        script = self.answers[name]
        address = script.pop(0) if len(script) > 1 else script[0]
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port or 0), 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for *.test, and a client context trusting it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl introuvable")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=rebind.test", "-addext", "subjectAltName=DNS:rebind.test,DNS:start.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def _servers(tls: ssl.SSLContext | None) -> tuple[FeedServer, FeedServer]:
    """The "public" server on 127.0.0.1 and an internal one on 127.0.0.2, same port."""
    public = FeedServer(tls=tls)
    try:
        internal = FeedServer(host="127.0.0.2", port=public.port, tls=tls)
    except OSError:
        public.close()
        pytest.skip("127.0.0.2 n'est pas disponible ici")
    return public, internal


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_dns_rebinding_cannot_reach_the_internal_address(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, scheme: str
) -> None:
    server_tls, client_tls = request.getfixturevalue("tls") if scheme == "https" else (None, None)
    public, internal = _servers(server_tls)
    try:
        port = public.port
        # the first hop redirects to a name whose second DNS answer is internal
        for server in (public, internal):
            server.add("/go", redirect=f"{scheme}://rebind.test:{port}/page")
            server.add("/page", f"page of {server.base}", content_type="text/html")
        dns = FakeDns(
            {
                "start.test": ["127.0.0.1", "127.0.0.2"],
                "rebind.test": ["127.0.0.1", "127.0.0.2"],
                "other.test": ["127.0.0.1"],  # not on the certificate
            }
        )
        monkeypatch.setattr(socket, "getaddrinfo", dns)

        def client() -> HttpClient:
            transport = httpx.AsyncHTTPTransport(verify=client_tls) if client_tls else None
            client = _client(transport=transport)
            client.address_allowed = lambda address: str(address) == "127.0.0.1"  # "public"
            return client

        response = _run(client(), lambda c: c.get_untrusted(f"{scheme}://start.test:{port}/go"))
        if scheme == "https":  # pinned to an address, TLS still checks the name
            with pytest.raises(SourceError, match="certificat TLS invalide"):
                _run(client(), lambda c: c.get_untrusted(f"https://other.test:{port}/page"))
    finally:
        public.close()
        internal.close()
    assert response.content == f"page of {public.base}".encode()
    assert response.url == f"{scheme}://rebind.test:{port}/page"
    assert internal.started == []
    assert [hit.headers["Host"] for hit in public.hits] == [
        f"start.test:{port}",
        f"rebind.test:{port}",
    ]
    checked = ["start.test", "rebind.test"] + (["other.test"] if scheme == "https" else [])
    assert dns.asked == checked  # once per hop, never again


def test_a_name_resolving_to_a_hidden_loopback_is_refused(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = feed_server.add("/secret", b"secret", content_type="text/plain")
    monkeypatch.setattr(socket, "getaddrinfo", FakeDns({"nat64.test": ["64:ff9b::7f00:1"]}))
    link = url.replace("127.0.0.1", "nat64.test")
    with pytest.raises(SourceError, match=r"non publique \(64:ff9b::7f00:1\)"):
        _run(_client(), lambda c: c.get_untrusted(link))
    assert feed_server.started == []


# --- 5. robots.txt ------------------------------------------------------------------------


class MemoryCache:
    def __init__(self) -> None:
        self.entries: dict[str, RobotsEntry] = {}

    def robots_get(self, host: str) -> RobotsEntry | None:
        return self.entries.get(host)

    def robots_put(self, host: str, entry: RobotsEntry) -> None:
        self.entries[host] = entry


def _verdicts(feed_server: FeedServer, body: bytes, paths: list[str]) -> tuple[list[bool], str]:
    feed_server.add("/robots.txt", body, content_type="text/plain")
    cache = MemoryCache()
    policy = RobotsPolicy(user_agent="veille", cache=cache, clock=lambda: datetime(2026, 1, 1))

    async def ask(client: HttpClient) -> list[bool]:
        return [await policy.allowed(client.get, feed_server.url(path)) for path in paths]

    verdicts = _run(_client(), ask)
    return verdicts, cache.entries[feed_server.base].body


def test_robots_txt_with_bom_latin1_and_nul_bytes_is_read(feed_server: FeedServer) -> None:
    body = b"\xef\xbb\xbfUser-agent: *\nDisallow: /priv\x00e\nDisallow: /caf\xe9\nAllow: /\n"
    verdicts, kept = _verdicts(feed_server, body, ["/prive/x", "/public"])
    assert verdicts == [False, True]  # the BOM no longer hides the first line
    assert "\x00" not in kept  # PostgreSQL refuses NUL in text


def test_huge_robots_txt_is_read_up_to_500_kib(feed_server: FeedServer) -> None:
    padding = b"# " + b"x" * 97 + b"\n"
    body = b"User-agent: *\nDisallow: /early\n" + padding * 20_000 + b"Disallow: /late\n"
    assert len(body) > 3 * MAX_SIZE
    verdicts, kept = _verdicts(feed_server, body, ["/early", "/late"])
    assert verdicts == [False, True]  # what lies past 500 KiB is ignored, as Google does
    assert len(kept) <= MAX_SIZE and kept.endswith("\n")
