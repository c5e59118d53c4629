"""A local server that answers like the platforms' APIs, routed by path AND query.

``ApiServer.add(path, body, when={"after": "c2"})`` answers requests on ``path``
whose query holds every pair of ``when`` (the route with the most pairs wins;
without ``when`` it answers any query). Bodies are JSON (a dict or list is
dumped) unless given as bytes/str. Every request is kept in ``hits`` with its
method, path, query, headers and body. Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DATA = Path(__file__).parent / "data" / "accounts"


def fixture(platform: str, name: str) -> Any:
    """A JSON answer of tests/data/accounts/<platform>/<name>.json."""
    return json.loads((DATA / platform / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class ApiRoute:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    when: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=UTF-8"


@dataclass
class ApiHit:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""


class ApiServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[ApiRoute]] = {}
        self.hits: list[ApiHit] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802
                server._answer(self, b"")

            def do_POST(self) -> None:  # noqa: N802
                size = int(self.headers.get("Content-Length") or 0)
                server._answer(self, self.rfile.read(size))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def add(
        self,
        path: str,
        body: Any,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        when: dict[str, str] | None = None,
        content_type: str = "application/json; charset=UTF-8",
    ) -> None:
        raw = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else None
        if raw is None:
            raw = json.dumps(body).encode("utf-8")
        route = ApiRoute(raw, status, dict(headers or {}), dict(when or {}), content_type)
        with self._lock:
            routes = self.routes.setdefault(path, [])
            routes[:] = [r for r in routes if r.when != route.when] + [route]

    def hits_for(self, path: str) -> list[ApiHit]:
        with self._lock:
            return [hit for hit in self.hits if hit.path == path]

    def _route(self, path: str, query: dict[str, str]) -> ApiRoute | None:
        with self._lock:
            fitting = [
                r
                for r in self.routes.get(path, [])
                if all(query.get(k) == v for k, v in r.when.items())
            ]
        return max(fitting, key=lambda r: len(r.when)) if fitting else None

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.hits.append(
                ApiHit(handler.command, parts.path, query, dict(handler.headers.items()), body)
            )
        route = self._route(parts.path, query)
        if route is None:
            route = ApiRoute(b'{"error": "not found"}', status=404)
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        handler.send_header("Content-Length", str(len(route.body)))
        for name, value in route.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(route.body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
