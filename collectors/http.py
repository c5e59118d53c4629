"""The one HTTP client every collector shares, with veille's politeness rules.

- an identifying User-Agent (``http.user_agent``), never a browser's;
- a total time limit per request (``http.timeout``) on top of httpx's own;
- at most ``http.max_redirects`` redirects;
- bounded concurrency across sources (``http.concurrency``) and a pause between
  two requests to the same host (``http.per_host_delay``);
- a response-size cap (``http.max_bytes``) enforced while streaming, so a 60 MB
  answer is cut after the first ``max_bytes`` bytes instead of being loaded;
- conditional GET: the caller passes the stored ETag / Last-Modified.

Every failure becomes a :class:`~veille.errors.SourceError` with a short French reason.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import httpx

from veille.config import HttpConfig
from veille.errors import SourceError

if TYPE_CHECKING:
    from collectors.robots import RobotsPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Response:
    """A complete, size-checked HTTP answer."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} Mo"


class HttpClient:
    """Shared async client; use ``async with client:`` around one cycle."""

    def __init__(
        self,
        config: HttpConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        robots: RobotsPolicy | None = None,
    ):
        self.config = config
        self.robots = robots
        self.address_allowed = is_public  # which resolved addresses untrusted links may reach
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._next_turn: dict[str, float] = {}
        self.bytes_received = 0
        self.requests = 0

    async def __aenter__(self) -> HttpClient:
        timeout = self.config.timeout.total_seconds()
        self._client = httpx.AsyncClient(
            headers={"User-Agent": self.config.user_agent},
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=self.config.max_redirects,
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
        return await self.robots.allowed(self, url)

    async def get_untrusted(self, url: str) -> Response:
        """GET a link found in search results: public http(s) addresses only.

        Loopback, private, link-local, multicast and reserved addresses are
        refused (IPv4 and IPv6), at every redirect, unless
        ``http.allow_private_links`` is true.
        """
        for _ in range(self.config.max_redirects + 1):
            await self._check_public(url)
            response = await self.get(url, follow_redirects=False)
            location = response.headers.get("location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            return response
        raise SourceError("trop de redirections (boucle ?)")

    async def _check_public(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(f"lien refusé (seuls http et https sont suivis) : {url}")
        if self.config.allow_private_links:
            return
        host = parts.hostname
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
            except OSError:
                raise SourceError(f"nom de domaine introuvable : {host}") from None
            addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        for address in addresses:
            if not self.address_allowed(address):
                raise SourceError(f"lien refusé vers une adresse non publique ({address}) : {url}")

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
    ) -> Response:
        if self._client is None or self._slots is None:
            raise RuntimeError("HttpClient used outside 'async with'")
        host = urlsplit(url).hostname or ""
        await self._wait_for_host(host)
        limit = self.config.max_bytes
        total = self.config.timeout.total_seconds()
        async with self._slots:
            self.requests += 1
            try:
                async with asyncio.timeout(total):
                    return await self._fetch(
                        method, url, headers or {}, form, limit, follow_redirects
                    )
            except TimeoutError:
                raise SourceError(f"délai dépassé ({total:g} s)") from None
            except httpx.TooManyRedirects:
                raise SourceError("trop de redirections (boucle ?)") from None
            except httpx.TimeoutException:
                raise SourceError(f"délai dépassé ({total:g} s)") from None
            except httpx.ConnectError as exc:
                raise SourceError(f"connexion impossible ({_connect_reason(exc)})") from None
            except httpx.UnsupportedProtocol:
                raise SourceError(f"adresse non prise en charge « {url} »") from None
            except httpx.HTTPError as exc:
                raise SourceError(f"erreur réseau ({_short(exc)})") from None

    async def _fetch(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        form: Mapping[str, str] | None,
        limit: int,
        follow_redirects: bool,
    ) -> Response:
        assert self._client is not None
        async with self._client.stream(
            method,
            url,
            headers=dict(headers),
            data=dict(form) if form is not None else None,
            follow_redirects=follow_redirects,
        ) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise SourceError(
                    f"réponse trop volumineuse ({_megabytes(int(declared))}, "
                    f"limite {_megabytes(limit)})"
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                self.bytes_received += len(chunk)
                if size > limit:
                    raise SourceError(f"réponse trop volumineuse (plus de {_megabytes(limit)})")
                chunks.append(chunk)
            return Response(
                url=str(response.url),
                status=response.status_code,
                headers=dict(response.headers),
                content=b"".join(chunks),
            )


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address (not loopback, private, link-local, reserved…)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def retry_after(headers: Mapping[str, str], default: float) -> float:
    """Seconds asked by a Retry-After header (seconds or HTTP date), or by an
    X-Ratelimit-Reset one (Reddit: seconds until the window resets), else ``default``."""
    value = headers.get("retry-after", "").strip()
    if not value:
        reset = headers.get("x-ratelimit-reset", "").strip()
        try:
            return max(0.0, float(reset)) if reset else default
        except ValueError:
            return default
    if value.isdigit():
        return float(value)
    if value:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        from datetime import UTC, datetime

        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return default


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


def status_reason(status: int) -> str:
    """A short French reason for an HTTP error status."""
    names = {
        401: "authentification requise",
        403: "accès refusé",
        404: "page introuvable",
        410: "page supprimée",
        429: "trop de requêtes",
        500: "erreur du serveur",
        502: "passerelle en erreur",
        503: "service indisponible",
        504: "délai de la passerelle dépassé",
    }
    return f"erreur HTTP {status}" + (f" ({names[status]})" if status in names else "")
