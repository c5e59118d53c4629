"""Fixtures of the workspace's route tests: a real store (SQLite in tmp_path, or
PostgreSQL), the App built from a config.yaml as ``veille web`` builds it, mentions
stored the way the pipeline stores them, users of each role, a clock the test
moves, and Starlette's TestClient."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from storage.store import MentionStore, NewItem, NewMention
from tests.conftest import Workspace
from veille.app import App, build_app, read_config
from veille.config import WebConfig
from veille.users import hash_password, new_token, token_digest
from veille.web.app import create_app

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
PASSWORD = "mot de passe très long"
READER = "lecteur@cegep.example"
EDITOR = "editeur@cegep.example"
ADMIN = "admin@cegep.example"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Desk:
    """The workspace under test: its App, store, clock, and a way to make clients."""

    app: App
    clock: Clock
    web: WebConfig
    tokens: dict[str, str] = field(default_factory=dict)  # role → bearer token
    _clients: list[TestClient] = field(default_factory=list)
    _servers: dict[str, Starlette] = field(default_factory=dict)  # one per web: block

    @property
    def store(self) -> MentionStore:
        return self.app.store

    def asgi(self, web: WebConfig | None = None) -> Starlette:
        return create_app(self.app, clock=self.clock, web=web or self.web)

    def server(self, web: WebConfig | None = None, *, restart: bool = False) -> Starlette:
        """The running workspace for this ``web:`` block (``restart``: a new process)."""
        key = (web or self.web).model_dump_json()
        if restart or key not in self._servers:
            self._servers[key] = self.asgi(web)
        return self._servers[key]

    def client(
        self,
        *,
        web: WebConfig | None = None,
        address: str = "203.0.113.7",
        restart: bool = False,
        cookies: Any = None,
    ) -> TestClient:
        """A browser at ``address`` (each its own cookies)."""
        client = TestClient(
            self.server(web, restart=restart),
            follow_redirects=False,
            client=(address, 50000),
            cookies=cookies,
        )
        client.__enter__()
        self._clients.append(client)
        return client

    def signed_in(self, email: str, **options: Any) -> TestClient:
        client = self.client(**options)
        answer = login(client, email, PASSWORD)
        assert answer.status_code == 303, answer.text
        return client

    def close(self) -> None:
        for client in self._clients:
            client.__exit__(None, None, None)


def csrf_of(client: TestClient, path: str = "/connexion") -> str:
    page = client.get(path)
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def login(client: TestClient, email: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client)
    return client.post(
        "/connexion",
        data={"email": email, "password": password, "csrf_token": token, **extra},
    )


def mention(
    key: str,
    *,
    title: str | None = None,
    urgent: bool = False,
    url: str | None = None,
    outlet: str | None = "Le Nouvelliste",
    title_key: str | None = None,
) -> NewItem:
    text = f"Un article sur le Cégep de Drummondville ({key})."
    start = text.index("Cégep")
    found = NewMention(
        matched="Cégep de Drummondville",
        rule="nom",
        score=100,
        snippet=text,
        highlight_start=start,
        highlight_end=start + len("Cégep de Drummondville"),
        urgent=urgent,
        urgent_keyword="plainte" if urgent else None,
    )
    return NewItem(
        key=key,
        url=url or f"https://www.nouvelliste.example/{key}",
        guid=None,
        title=title if title is not None else f"Titre {key}",
        text=text,
        published_at=NOW - timedelta(hours=1),
        mention=found,
        outlet=outlet,
        title_key=title_key,
    )


def store_mentions(
    store: MentionStore, items: list[NewItem], *, source: str = "Nouvelliste", at: datetime = NOW
) -> list[int]:
    return store.save_batch(
        source=source,
        source_type="feed",
        items=items,
        etag=None,
        last_modified=None,
        now=at,
    )


@pytest.fixture
def desk(workspace: Workspace) -> Iterator[Desk]:
    workspace.write(
        [
            {"name": "Nouvelliste", "type": "feed", "url": "http://127.0.0.1:9/nouvelliste.xml"},
            {"name": "Google", "type": "feed", "url": "http://127.0.0.1:9/google.xml"},
        ]
    )
    app = build_app(read_config(workspace.config))
    store = app.store
    store.sync_sources([("Nouvelliste", "feed"), ("Google", "feed")])
    hashed = hash_password(PASSWORD)
    for email, role in ((READER, "lecteur"), (EDITOR, "éditeur"), (ADMIN, "admin")):
        assert store.add_user(email, role=role, password_hash=hashed, now=NOW)
    desk = Desk(app, Clock(), WebConfig())
    for role in ("lecteur", "éditeur"):
        token = new_token()
        store.add_token(f"robot-{role}", role=role, digest=token_digest(token), now=NOW)
        desk.tokens[role] = token
    yield desk
    desk.close()
