"""What keeps the workspace safe, apart from the handlers that use it.

- :class:`SecurityHeaders`: an ASGI middleware that puts the CSP and the other
  security headers on every answer (errors and static files included);
- :class:`BodyLimit`: no request body over 1 MB (413);
- :func:`csrf_token` / :func:`check_csrf`: one token per session, sent back as a
  hidden field by every form (the ``csrf_field()`` macro), compared in constant time;
- :class:`LoginThrottle`: failed logins counted in memory per account and per
  address, 10 per 15 minutes;
- :func:`safe_next`: where a login may send the browser back (a local path only);
- :func:`client_address` / :func:`from_trusted_proxy`: the peer, and the client's
  address behind a trusted reverse proxy (X-Forwarded-For read only from one);
- :func:`session_secret`: the key that signs the session cookie.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"  # on https: browsers told to stay there for a year
CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"


class SecurityHeaders:
    """Adds :data:`HEADERS` to every HTTP answer; pages and API answers (everything
    but ``/static/``) are never cached, since they show what a signed-in person sees."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https  # served as https (web.base_url): browsers told to stay there

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
                if self.https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses (413) a request body larger than ``limit`` bytes, announced or streamed:
    no form, no API call needs more, and the login form is open to anyone."""

    def __init__(self, app: ASGIApp, *, limit: int = 1_000_000) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = HTTPConnection(scope).headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, "Envoi trop volumineux.")
            return message

        await self.app(scope, counted, send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        body = b"Envoi trop volumineux."
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# --- CSRF -------------------------------------------------------------------------------


def csrf_token(session: dict[str, object]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def check_csrf(session: dict[str, object], sent: object) -> bool:
    """Whether ``sent`` (the form's field) is this session's token."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str) or not token or not isinstance(sent, str):
        return False
    return hmac.compare_digest(token.encode("utf-8"), sent.encode("utf-8"))


# --- failed logins ------------------------------------------------------------------------


class LoginThrottle:
    """Failed logins per key (``compte:…``, ``ip:…``) in a sliding window, in memory
    (a restart forgets them; several workers would each count their own)."""

    KEYS_KEPT = 10_000  # beyond, expired keys are swept (a spray of made-up names)

    def __init__(self, *, limit: int = 10, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked_for(self, keys: Iterable[str], now: datetime) -> timedelta | None:
        """How long before one more attempt is allowed (None: allowed now)."""
        wait: timedelta | None = None
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.limit:
                    left = times[len(times) - self.limit] + self.window - now
                    wait = left if wait is None else max(wait, left)
        return wait

    def failed(self, keys: Iterable[str], now: datetime) -> None:
        with self._lock:
            if len(self._failures) > self.KEYS_KEPT:
                for key in list(self._failures):
                    self._recent(key, now)
            for key in keys:
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, key: str) -> None:
        """A right password forgets the account's failures (not the address's)."""
        with self._lock:
            self._failures.pop(key, None)


def wait_text(wait: timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return f"{minutes} minute" + ("s" if minutes > 1 else "")


# --- redirects ------------------------------------------------------------------------------


def safe_next(value: object, default: str = "/") -> str:
    """``value`` when it is a path of this site (``/mentions/3?x=1``), else ``default``:
    no scheme, no host, no ``//host`` nor ``/\\host`` (browsers read both as a host),
    no control character."""
    if not isinstance(value, str) or not value.startswith("/"):
        return default
    if value.startswith(("//", "/\\")) or "\\" in value:
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


# --- addresses and proxies -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The reverse proxies whose headers (SSO user, X-Forwarded-For) are believed."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, values: Sequence[str]) -> TrustedProxies:
        return cls(tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values))

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str) or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self.networks)


def peer_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else ""


def client_address(connection: HTTPConnection, proxies: TrustedProxies) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the last
    address it put in X-Forwarded-For (the one it saw; earlier ones can be forged)."""
    peer = peer_address(connection)
    if peer in proxies:
        forwarded = connection.headers.get("x-forwarded-for", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return peer


# --- the session's key ----------------------------------------------------------------------


def session_secret(variable: str | None) -> str:
    """The secret named by ``web.secret_env``; else a random one for this process only
    (sessions then end at each restart, which the log says)."""
    if variable:
        value = os.environ.get(variable, "")
        if len(value) >= 16:
            return value
        log.warning(
            "web.secret_env : la variable %s est absente ou trop courte (16 caractères au "
            "moins) ; clé de session aléatoire : les sessions prendront fin au redémarrage",
            variable,
        )
    else:
        log.warning(
            "web.secret_env n'est pas défini : clé de session aléatoire, les sessions "
            "prendront fin au redémarrage du serveur"
        )
    return secrets.token_urlsafe(48)
