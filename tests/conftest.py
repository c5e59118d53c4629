"""Shared fixtures: a real HTTP server and a real SMTP server on 127.0.0.1,
a SQLite file in tmp_path, a config writer and a CLI runner.

Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.pool import NullPool

DATA = Path(__file__).parent / "data"
# When set (an admin URL such as postgresql+psycopg://veille:veille@127.0.0.1:5432/postgres),
# every test gets a fresh PostgreSQL database instead of a SQLite file.
PG_URL = os.environ.get("VEILLE_TEST_DATABASE_URL")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``main()`` configures logging for a whole process (a handler on the sys.stderr
    of that moment): in-process CLI tests put the root logger back as it was, so that a
    server thread logging later never writes to a closed capture."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


# --- HTTP -------------------------------------------------------------------------------


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    redirect: str | None = None
    stream_bytes: int = 0  # > 0: send this many bytes without Content-Length
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    status: int
    method: str = "GET"
    body: bytes = b""


class FeedServer:
    """A threaded HTTP server whose answers the test sets per path.

    By default on 127.0.0.1, a free port, plain HTTP; ``host`` and ``port`` put
    it elsewhere on loopback (127.0.0.2 …), ``tls`` serves HTTPS with that context.
    """

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []  # answered requests
        self.started: list[str] = []  # paths of requests received, answered or not
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # headers and body in one write (no Nagle/delayed-ACK stall)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802
                server._answer(self)

            def do_POST(self) -> None:  # noqa: N802
                size = int(self.headers.get("Content-Length") or 0)
                server._answer(self, self.rfile.read(size))

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.base = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str = b"", **options: Any) -> str:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = Route(body=body, **options)
        return self.url(path)

    def add_file(self, path: str, name: str, **options: Any) -> str:
        return self.add(path, (DATA / name).read_bytes(), **options)

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path.split("?")[0] == path]

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes = b"") -> None:
        path = handler.path
        with self._lock:
            self.started.append(path.split("?")[0])
        route = self.routes.get(path.split("?")[0]) or self.routes.get(path)
        status = 404 if route is None else route.status
        try:
            if route is None:
                self._send(handler, 404, b"not found", "text/plain")
                return
            if route.delay:
                time.sleep(route.delay)
            if route.redirect:
                status = 302
                handler.send_response(302)
                handler.send_header("Location", route.redirect)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            if route.stream_bytes:
                handler.send_response(200)
                handler.send_header("Content-Type", route.content_type)
                handler.send_header("Connection", "close")
                handler.end_headers()
                chunk = b"<!-- " + b"x" * 65_000 + b" -->\n"
                sent = 0
                try:
                    while sent < route.stream_bytes:
                        handler.wfile.write(chunk)
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                handler.close_connection = True
                return
            match_etag = route.etag and handler.headers.get("If-None-Match") == route.etag
            match_date = (
                route.last_modified
                and handler.headers.get("If-Modified-Since") == route.last_modified
            )
            if match_etag or (match_date and not route.etag):
                status = 304
                handler.send_response(304)
                if route.etag:
                    handler.send_header("ETag", route.etag)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            extra = dict(route.headers)
            if route.etag:
                extra["ETag"] = route.etag
            if route.last_modified:
                extra["Last-Modified"] = route.last_modified
            self._send(handler, route.status, route.body, route.content_type, extra)
        finally:
            with self._lock:
                self.hits.append(
                    Hit(path, dict(handler.headers.items()), status, handler.command, body)
                )

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


# --- SMTP -------------------------------------------------------------------------------


class _Inbox:
    """aiosmtpd handler keeping every accepted message; can be told to refuse
    (``refuse``: 451 to every message; ``max_size``: 552 at the end of DATA to a
    larger message; ``refuse_rcpt``: 550 to these recipients; ``drop_after_data``:
    that many messages are received whole, then the connection is cut before the
    reply, so the client cannot know; they are kept in ``dropped``)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False
        self.max_size: int | None = None
        self.refuse_rcpt: set[str] = set()
        self.drop_after_data = 0
        self.dropped: list[EmailMessage] = []

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 Mailbox unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return "451 4.3.0 Service temporairement indisponible"
        if self.max_size is not None and len(envelope.content) > self.max_size:
            return "552 5.3.4 Message size exceeds fixed limit"
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        if self.drop_after_data > 0:
            self.drop_after_data -= 1
            self.dropped.append(message)
            server.transport.abort()
            return "421 4.4.2 connexion perdue"  # never reaches the client
        self.messages.append(message)
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: _Inbox
    controller: Controller

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def digests(self) -> list[EmailMessage]:
        return [
            m
            for m in self.messages
            if str(m["Subject"]).startswith("Veille — ")
            and ("mention" in str(m["Subject"]) or "aucune source" in str(m["Subject"]))
        ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, inbox, controller)
    controller.stop()


# --- config and CLI ---------------------------------------------------------------------

BRAND_BLOCK = """\
brand:
  name: Cégep de Drummondville
  aliases:
    - Collège d'enseignement général et professionnel de Drummondville
    - Cégep de Drummond
    - Cégep drummondvillois
  handles: ["@cegepdrummond", "#cegepdrummond", cegepdrummond.ca]
  exclude: [Collège Saint-Bernard, Voltigeurs de Drummondville]
alerts:
  keywords: [plainte, poursuite, diffamation]
"""


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    """The store of one test: a SQLite file, or a fresh PostgreSQL database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'veille.db'}"
        return
    name = f"veille_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Workspace:
    """A folder with a config.yaml, its store (SQLite file or PostgreSQL) and outbox."""

    path: Path
    storage_url: str = ""

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection to the store, committed at the end (``exec_driver_sql``, ``execute``)."""
        engine = create_engine(self.storage_url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                yield connection
        finally:
            engine.dispose()

    @property
    def sqlite(self) -> bool:
        return self.storage_url.startswith("sqlite")

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def db(self) -> Path:
        return self.path / "veille.db"

    @property
    def outbox(self) -> Path:
        return self.path / "outbox"

    def write(
        self,
        sources: list[dict[str, Any]],
        *,
        smtp: SmtpServer | None = None,
        at: str = "00:00",
        send_empty: bool = True,
        extra: str = "",
        http: str = "",
    ) -> Path:
        lines = [BRAND_BLOCK, "sources:"]
        for source in sources:
            lines.append(
                "  - " + ", ".join(f"{k}: {_yaml(v)}" for k, v in source.items()).join("{}")
            )
        lines.append(
            "digest:\n"
            "  to: [communications@cegep.example]\n"
            "  admin_to: [informatique@cegep.example]\n"
            "  from: veille@cegep.example\n"
            f'  at: "{at}"\n'
            "  timezone: America/Montreal\n"
            f"  send_empty: {'true' if send_empty else 'false'}"
        )
        if smtp is not None:
            lines.append(
                f"smtp:\n  host: {smtp.host}\n  port: {smtp.port}\n  starttls: false\n  timeout: 5s"
            )
        lines.append(f'storage:\n  url: "{self.storage_url}"')
        lines.append("http:\n  timeout: 3s\n  per_host_delay: 0s\n  max_bytes: 2000000\n" + http)
        lines.append(extra)
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.config


def _yaml(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def workspace(tmp_path: Path, store_url: str) -> Workspace:
    return Workspace(tmp_path, store_url)


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_veille(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Result:
    """Run the CLI in a child process, as cron or a user would."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    environment["PYTHONWARNINGS"] = "error"
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "veille", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def veille(workspace: Workspace) -> Callable[..., Result]:
    def run(*args: str, **kwargs: Any) -> Result:
        return run_veille("--config", str(workspace.config), *args, cwd=workspace.path, **kwargs)

    return run
