"""The one HTTP client every collector shares, with veille's politeness rules.

- an identifying User-Agent (``http.user_agent``), never a browser's;
- a total time limit per request (``http.timeout``) on top of httpx's own;
- at most ``http.max_redirects`` redirects;
- bounded concurrency across sources (``http.concurrency``) and a pause between
  two requests to the same host (``http.per_host_delay``);
- a response-size cap (``http.max_bytes``) enforced while streaming *and while
  decompressing*: veille asks only for gzip and deflate, undoes them itself in
  small pieces, and stops as soon as the decoded body passes ``max_bytes`` (a
  3 KB gzip bomb never becomes 4 GB in memory);
- conditional GET: the caller passes the stored ETag / Last-Modified; header
  values are kept as the bytes the server sent (read as Latin-1), so a
  non-ASCII ETag goes back exactly as it came;
- links found in search results (:meth:`HttpClient.get_untrusted`) reach public
  addresses only, and the connection goes to the address that was checked.

Every failure becomes a :class:`~veille.errors.SourceError` with a short French reason.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import zlib
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import httpx

from collectors.response import (
    Response,
    RobotsRules,
)
from veille.config import HttpConfig
from veille.errors import SourceError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ACCEPT_ENCODING = "gzip, deflate"  # the only codings veille can undo within max_bytes
_CODINGS = ("gzip", "x-gzip", "deflate")
_MAX_CODINGS = 3  # "gzip, gzip, gzip, …": more stages than this is not a real server
_PIECE = 64 * 1024  # at most this many bytes come out of one decompression step
_REDIRECTS = (301, 302, 303, 307, 308)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} Mo"


class HttpClient:
    """Shared async client; use ``async with client:`` around one cycle."""

    def __init__(
        self,
        config: HttpConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        robots: RobotsRules | None = None,
    ):
        self.config = config
        self.robots = robots
        self.address_allowed = is_public  # which resolved addresses untrusted links may reach
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._next_turn: dict[str, float] = {}
        self.bytes_received = 0  # bytes read from the network, before decompression

    async def __aenter__(self) -> HttpClient:
        timeout = self.config.timeout.total_seconds()
        self._client = httpx.AsyncClient(
            headers=[
                (b"User-Agent", _header_bytes(self.config.user_agent)),
                (b"Accept-Encoding", ACCEPT_ENCODING.encode("ascii")),
            ],
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # followed in _fetch, without reading redirect bodies
            transport=self._transport,
            trust_env=False,
        )
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._host_locks.clear()
        self._next_turn.clear()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
        self._client = None

    async def _wait_for_host(self, host: str) -> None:
        """Keep ``per_host_delay`` between the starts of two requests to one host."""
        delay = self.config.per_host_delay.total_seconds()
        if delay <= 0:
            return
        lock = self._host_locks.setdefault(host, asyncio.Lock())
        loop = asyncio.get_running_loop()
        async with lock:
            wait = self._next_turn.get(host, 0.0) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_turn[host] = loop.time() + delay

    async def allowed_by_robots(self, url: str) -> bool:
        """robots.txt's verdict for ``url`` (always yes when ``respect_robots`` is off)."""
        if self.robots is None or not self.config.respect_robots:
            return True
        return await self.robots.allowed(self.get, url)

    async def get_untrusted(self, url: str) -> Response:
        """GET a link found in search results: public http(s) addresses only.

        Loopback, private, link-local, multicast and reserved addresses are
        refused (IPv4 and IPv6, and IPv4 hidden in IPv6), at every redirect,
        unless ``http.allow_private_links`` is true. The host is resolved once
        and the connection goes to the address checked (``Host:`` and TLS keep
        the name), so a second DNS answer cannot lead elsewhere.
        """
        for _ in range(self.config.max_redirects + 1):
            addresses = await self._check_public(url)
            response = await self._request("GET", url, None, None, False, addresses)
            location = response.headers.get("location")
            if response.status in _REDIRECTS and location:
                try:
                    url = urljoin(url, _readable(location))
                except ValueError:
                    raise SourceError(f"redirection vers une adresse invalide : {url}") from None
                continue
            return response
        raise SourceError("trop de redirections (boucle ?)")

    async def _check_public(self, url: str) -> list[IPAddress]:
        """The public addresses ``url`` may be fetched from (none: private links
        are allowed, let httpx resolve the name)."""
        target = _parse(url)
        if target.scheme not in ("http", "https") or not target.raw_host:
            raise SourceError(f"lien refusé (seuls http et https sont suivis) : {url}")
        if self.config.allow_private_links:
            return []
        host = target.raw_host.decode("ascii")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                async with asyncio.timeout(self.config.timeout.total_seconds()):
                    addresses = await resolve(host)
            except TimeoutError:
                raise SourceError(f"nom de domaine introuvable (délai dépassé) : {host}") from None
        for address in addresses:
            if not self.address_allowed(address):
                raise SourceError(f"lien refusé vers une adresse non publique ({address}) : {url}")
        return addresses

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
    ) -> Response:
        """GET ``url``; any status is returned, transport faults raise SourceError."""
        return await self._request("GET", url, headers, None, follow_redirects)

    async def post(
        self, url: str, *, form: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> Response:
        """POST a form to ``url`` (no redirect followed); as :meth:`get` otherwise."""
        return await self._request("POST", url, headers, form, False)

    async def _request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        form: Mapping[str, str] | None,
        follow_redirects: bool,
        addresses: Sequence[IPAddress] = (),
    ) -> Response:
        """One request; with ``addresses``, connect to the first of them that
        answers instead of resolving the host."""
        if self._client is None or self._slots is None:
            raise RuntimeError("HttpClient used outside 'async with'")
        target = _parse(url)
        await self._wait_for_host(target.host)
        total = self.config.timeout.total_seconds()
        async with self._slots:
            try:
                async with asyncio.timeout(total):
                    pins: Sequence[IPAddress | None] = addresses or [None]
                    for address in pins[:-1]:
                        request = self._build(method, target, headers, form, address)
                        try:
                            return await self._fetch(request, url, address, follow_redirects)
                        except httpx.ConnectError:
                            continue  # the next address, as httpx does with a name
                    request = self._build(method, target, headers, form, pins[-1])
                    return await self._fetch(request, url, pins[-1], follow_redirects)
            except TimeoutError:
                raise SourceError(f"délai dépassé ({total:g} s)") from None
            except httpx.TimeoutException:
                raise SourceError(f"délai dépassé ({total:g} s)") from None
            except httpx.ConnectError as exc:
                raise SourceError(f"connexion impossible ({_connect_reason(exc)})") from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL):
                raise SourceError(f"adresse non prise en charge « {url} »") from None
            except httpx.HTTPError as exc:
                raise SourceError(f"erreur réseau ({_short(exc)})") from None

    def _build(
        self,
        method: str,
        target: httpx.URL,
        headers: Mapping[str, str] | None,
        form: Mapping[str, str] | None,
        address: IPAddress | None,
    ) -> httpx.Request:
        """The request to send; pinned to ``address`` when one is given.

        Pinned: the URL names the address, ``Host:`` and the TLS name (SNI and
        certificate check, httpcore's ``sni_hostname``) stay the host's, and the
        connection is not kept, so no other host's request can reuse it.
        """
        assert self._client is not None
        outgoing = [(_header_bytes(k), _header_bytes(v)) for k, v in (headers or {}).items()]
        extensions: dict[str, Any] = {}
        if address is not None:
            outgoing += [(b"Host", target.netloc), (b"Connection", b"close")]
            if target.scheme == "https":
                extensions["sni_hostname"] = target.raw_host.decode("ascii")
            target = target.copy_with(host=str(address))
        return self._client.build_request(
            method,
            target,
            headers=outgoing,
            data=dict(form) if form is not None else None,
            extensions=extensions,
        )

    async def _fetch(
        self,
        request: httpx.Request,
        url: str,
        address: IPAddress | None,
        follow_redirects: bool,
    ) -> Response:
        """Send ``request``, following redirects without reading their bodies."""
        assert self._client is not None
        for _ in range(self.config.max_redirects + 1):
            response = await self._client.send(request, stream=True, follow_redirects=False)
            try:
                if not follow_redirects or response.next_request is None:
                    return await self._read(response, url if address else str(response.url))
                request = response.next_request
            finally:
                await response.aclose()
        raise SourceError("trop de redirections (boucle ?)")

    async def _read(self, response: httpx.Response, url: str) -> Response:
        """The body, decoded, as long as neither the bytes received nor the
        decoded bytes pass ``max_bytes``."""
        limit = self.config.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise SourceError(
                f"réponse trop volumineuse ({_megabytes(int(declared))}, "
                f"limite {_megabytes(limit)})"
            )
        too_big = SourceError(f"réponse trop volumineuse (plus de {_megabytes(limit)})")
        decoder: _ContentDecoder | None = None
        chunks: list[bytes] = []
        received = size = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            self.bytes_received += len(chunk)
            if received > limit:
                raise too_big
            if decoder is None:  # only a body is decoded: a 304 may name any coding
                decoder = _ContentDecoder(response.headers.get("content-encoding", ""))
            for piece in decoder.decode(chunk):
                size += len(piece)
                if size > limit:
                    raise too_big
                chunks.append(piece)
        return Response(
            url=url,
            status=response.status_code,
            headers=_text_headers(response.headers.raw),
            content=b"".join(chunks),
        )


class _Inflater:
    """One gzip or deflate stage, giving out at most ``_PIECE`` bytes at a time."""

    def __init__(self, coding: str):
        self.coding = coding
        self._raw_fallback = coding == "deflate"  # servers send raw deflate as often as zlib
        wbits = zlib.MAX_WBITS if coding == "deflate" else zlib.MAX_WBITS | 16
        self._zlib = zlib.decompressobj(wbits)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        while not self._zlib.eof:  # what follows the end of the stream is ignored, as httpx does
            try:
                out = self._zlib.decompress(data, _PIECE)
            except zlib.error:
                if not self._raw_fallback:
                    raise SourceError(f"contenu compressé illisible ({self.coding})") from None
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                out = b""
            else:
                data = self._zlib.unconsumed_tail
            self._raw_fallback = False
            if out:
                yield out
            if not data and len(out) < _PIECE:
                return


class _ContentDecoder:
    """Undoes a ``Content-Encoding`` chain (gzip, x-gzip, deflate, identity, in
    any order) while holding at most one piece per stage in memory."""

    def __init__(self, content_encoding: str):
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        for coding in codings:
            if coding not in _CODINGS:
                raise SourceError(f"encodage de contenu non pris en charge « {coding[:40]} »")
        if len(codings) > _MAX_CODINGS:
            raise SourceError(f"trop d'encodages de contenu empilés ({len(codings)})")
        self._stages = [_Inflater(coding) for coding in reversed(codings)]  # last applied first

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next received chunk."""
        return self._through(0, data)

    def _through(self, stage: int, data: bytes) -> Iterator[bytes]:
        if stage == len(self._stages):
            if data:
                yield data
            return
        for piece in self._stages[stage].pieces(data):
            yield from self._through(stage + 1, piece)


def _parse(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise SourceError(f"adresse non prise en charge « {url} »") from None


def _header_bytes(text: str) -> bytes:
    """An outgoing header name or value as bytes: Latin-1 when it fits (values
    read from a response come back as they came), else UTF-8; never an error."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace")


def _text_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Received headers, lower-case names, repeated ones joined by ", "."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _readable(value: str) -> str:
    """A received header value (Latin-1 text) as UTF-8 text when it is UTF-8 (Location)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


async def resolve(host: str) -> list[IPAddress]:
    """The addresses of ``host``, as the system resolver gives them."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise SourceError(f"nom de domaine introuvable : {host}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        try:
            address = ipaddress.ip_address(info[4][0])
        except (ValueError, IndexError, TypeError):
            continue
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise SourceError(f"nom de domaine introuvable : {host}")
    return addresses


_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # deprecated, but still not the Internet
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local-use translation
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address (not loopback, private, link-local,
    reserved, multicast…), including any IPv4 address carried inside an IPv6
    one (mapped, compatible, NAT64, 6to4, Teredo)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_multicast or not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return True
    if address in _SITE_LOCAL or address in _NAT64_LOCAL:
        return False
    return all(is_public(inner) for inner in _embedded_ipv4(address))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    if address in _IPV4_COMPATIBLE or address in _NAT64:
        return (ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF),)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo  # (server, client)
    return ()


def _connect_reason(exc: Exception) -> str:
    text = str(exc)
    if any(s in text for s in ("Name or service not known", "name resolution", "nodename nor")):
        return "nom de domaine introuvable"
    if "Connection refused" in text or "All connection attempts failed" in text:
        return "connexion refusée"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return "certificat TLS invalide"
    return _short(exc)


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "…"
