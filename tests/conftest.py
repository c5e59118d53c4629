"""Shared fixtures: a real HTTP server and a real SMTP server on 127.0.0.1,
a SQLite file in tmp_path, a config writer and a CLI runner (in process; a child
process only where a crash, a lock, a signal or the daemon is the point).

Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
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
class Hold:
    """The next answer on one path stops after its headers and ``after`` bytes of body
    (``reached`` is set then) until ``release()``; a kill point for crash tests.
    ``done`` is set once the answer is over and counted in ``hits``."""

    after: int = 0
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def release(self, wait: float = 10) -> None:
        """Let the answer go on (to a client that may be gone) and wait until it is over."""
        self.released.set()
        if self.reached.is_set():
            self.done.wait(wait)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    status: int
    method: str = "GET"
    body: bytes = b""


class _HttpServer(ThreadingHTTPServer):
    """A client that goes away mid-answer (a timeout, a size cap, a killed process) is
    what these tests do on purpose: no traceback for it. Anything else is kept in
    ``errors`` and printed to the real stderr, never into a captured CLI output."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors: list[BaseException] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError) or error is None:
            return
        self.errors.append(error)
        traceback.print_exc(file=sys.__stderr__)


class FeedServer:
    """A threaded HTTP server whose answers the test sets per path.

    By default on 127.0.0.1, a free port, plain HTTP; ``host`` and ``port`` put
    it elsewhere on loopback (127.0.0.2 …), ``tls`` serves HTTPS with that context.

    Events for kill points and waits, never sleeps: ``wait_started`` (a request
    arrived), ``wait_answered`` (its answer was written), ``hold`` (the next answer
    stops mid-transfer until released).
    """

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []  # answered requests
        self.started: list[str] = []  # paths of requests received, answered or not
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._holds: dict[str, list[Hold]] = {}  # not yet used
        self._every_hold: list[Hold] = []  # released at close, used or not
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

        self.httpd = _HttpServer((host, port), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.base = f"{'https' if tls else 'http'}://{host}:{self.port}"
        # a short poll interval: shutdown() at teardown waits for it (0.5 s by default)
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
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

    def hold(self, path: str, *, after: int = 0) -> Hold:
        """Stop the next answer on ``path`` after ``after`` bytes of its body."""
        hold = Hold(after)
        with self._lock:
            self._holds.setdefault(path, []).append(hold)
            self._every_hold.append(hold)
        return hold

    def wait_started(self, path: str, count: int = 1, timeout: float = 30) -> bool:
        """Whether ``count`` requests on ``path`` arrived within ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self.started.count(path) >= count, timeout)

    def wait_answered(self, path: str, count: int = 1, timeout: float = 30) -> bool:
        """Whether ``count`` answers on ``path`` were written within ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(
                lambda: sum(h.path.split("?")[0] == path for h in self.hits) >= count, timeout
            )

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes = b"") -> None:
        path = handler.path
        with self._changed:
            self.started.append(path.split("?")[0])
            holds = self._holds.get(path.split("?")[0])
            hold = holds.pop(0) if holds else None
            self._changed.notify_all()
        route = self.routes.get(path.split("?")[0]) or self.routes.get(path)
        status = 404 if route is None else route.status
        try:
            if hold is not None and route is not None:
                self._send_held(handler, route, hold)
                return
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
            with self._changed:
                self.hits.append(
                    Hit(path, dict(handler.headers.items()), status, handler.command, body)
                )
                self._changed.notify_all()
            if hold is not None:
                hold.done.set()

    @staticmethod
    def _send_held(handler: BaseHTTPRequestHandler, route: Route, hold: Hold) -> None:
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        handler.send_header("Content-Length", str(len(route.body)))
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(route.body[: hold.after])
            handler.wfile.flush()
            hold.reached.set()
            hold.released.wait(60)
            handler.wfile.write(route.body[hold.after :])
        hold.reached.set()

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
        with self._lock:
            holds = self._every_hold[:]
        for hold in holds:
            hold.release(wait=0)
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
    reply, so the client cannot know; they are kept in ``dropped``).

    Kill points: ``on_data`` is called when a whole message has arrived, before the
    server decides; ``on_accepted`` once it is kept, before the 250 goes back."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False
        self.max_size: int | None = None
        self.refuse_rcpt: set[str] = set()
        self.drop_after_data = 0
        self.dropped: list[EmailMessage] = []
        self.on_data: Callable[[EmailMessage], None] | None = None
        self.on_accepted: Callable[[EmailMessage], None] | None = None

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 Mailbox unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.on_data is not None:
            self.on_data(BytesParser(policy=policy.default).parsebytes(envelope.content))
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
        if self.on_accepted is not None:
            self.on_accepted(message)
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


def child_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child ``veille``: ours without VEILLE_*, warnings as errors."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    environment["PYTHONWARNINGS"] = "error"
    environment.update(env or {})
    return environment


def run_veille(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Result:
    """Run the CLI in a child process (``python -m veille``), as cron or a user would."""
    done = subprocess.run(
        [sys.executable, "-m", "veille", *args],
        cwd=cwd,
        env=child_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def start_veille(
    *args: str, cwd: Path, env: dict[str, str] | None = None, **popen: Any
) -> subprocess.Popen[Any]:
    """Start the CLI in a child process and return at once (crash, lock, signal, daemon)."""
    options = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "text": True, **popen}
    return subprocess.Popen(
        [sys.executable, "-m", "veille", *args], cwd=cwd, env=child_environment(env), **options
    )


def call_veille(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in this process: ``veille.cli.main(argv)`` in ``cwd``, with the
    environment a child would get, stdout and stderr captured (bytes written to
    ``sys.stdout.buffer`` kept exact, no newline translation). What ``main`` sets up
    for a whole process is undone afterwards: the root logger, and the exit hooks it
    registers (engines disposed, as at a process's exit). A bug raises here, with its
    traceback, instead of ending a child with status 1."""
    from veille.cli import main

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="", write_through=True)
    err = io.TextIOWrapper(
        io.BytesIO(), encoding="utf-8", errors="backslashreplace", newline="", write_through=True
    )
    root, smtp_log = logging.getLogger(), logging.getLogger("mail.log")
    saved = root.handlers[:], root.level, smtp_log.level
    at_exit: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def register(function: Callable[..., Any], *a: Any, **kw: Any) -> Callable[..., Any]:
        at_exit.append((function, a, kw))
        return function

    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in [k for k in os.environ if k.startswith("VEILLE_")]:
                patch.delenv(name)
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            patch.chdir(cwd)
            patch.setattr(sys, "stdout", out)
            patch.setattr(sys, "stderr", err)
            patch.setattr(atexit, "register", register)
            smtp_log.setLevel(logging.WARNING)  # the test's SMTP server logs in this process
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help, --version, a bad command line
                if isinstance(exc.code, str):
                    print(exc.code, file=err)
                code = 1 if isinstance(exc.code, str) else int(exc.code or 0)
    finally:
        handlers, root_level, smtp_level = saved
        root.handlers[:] = handlers
        root.setLevel(root_level)
        smtp_log.setLevel(smtp_level)
        for function, a, kw in reversed(at_exit):
            function(*a, **kw)
    return Result(code, _text(out), _text(err))


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", errors="backslashreplace")


class Veille:
    """The CLI on one workspace (``--config`` given): ``veille("run")`` runs it in this
    process; ``veille.subprocess("run")`` in a child process, only where a crash, a
    lock between processes, a signal or the daemon is the point; ``veille.start(...)``
    starts a child and returns its ``Popen``."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def _argv(self, args: tuple[str, ...]) -> tuple[str, ...]:
        return ("--config", str(self.workspace.config), *args)

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return call_veille(*self._argv(args), cwd=self.workspace.path, env=env)

    def subprocess(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> Result:
        return run_veille(*self._argv(args), cwd=self.workspace.path, env=env, timeout=timeout)

    def start(
        self, *args: str, env: dict[str, str] | None = None, **popen: Any
    ) -> subprocess.Popen[Any]:
        return start_veille(*self._argv(args), cwd=self.workspace.path, env=env, **popen)


@pytest.fixture
def veille(workspace: Workspace) -> Veille:
    return Veille(workspace)
