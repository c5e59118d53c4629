"""The workspace's routes through Starlette's TestClient on a real store: signing in
and out, the throttle, CSRF, roles, redirects, escaping, headers, filters,
pagination, triage and its history, notes, tone, the API and the exports."""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text
from starlette.routing import Route

from tests.conftest import Workspace, free_port
from tests.web.conftest import (
    ADMIN,
    EDITOR,
    NOW,
    PASSWORD,
    READER,
    Desk,
    csrf_of,
    login,
    mention,
    store_mentions,
)
from veille.config import WebConfig
from veille.web.charts import daily_chart
from veille.web.security import CSP, LoginThrottle, safe_next
from veille.web.server import build_server


def rows(html: str) -> list[int]:
    """The mention numbers of the inbox's rows, in order."""
    return [int(n) for n in re.findall(r'<tr id="mention-(\d+)"', html)]


def snapshot(workspace: Workspace) -> dict[str, Any]:
    """Everything a person can change, to compare before and after."""
    with workspace.connect() as connection:
        return {
            table: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {table}"))))
            for table in (
                "mentions",
                "mention_events",
                "mention_notes",
                "mention_tags",
                "excluded_sites",
                "users",
            )
        }


# --- signing in and out ------------------------------------------------------------------


def test_sign_in_then_out(desk: Desk) -> None:
    client = desk.client()
    answer = client.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/connexion"
    page = client.get("/connexion")
    assert 'name="email"' in page.text and 'name="password"' in page.text
    answer = login(client, EDITOR, PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    inbox = client.get("/")
    assert inbox.status_code == 200 and EDITOR in inbox.text
    answer = client.post("/deconnexion", data={"csrf_token": csrf_of(client, "/")})
    assert answer.status_code == 303 and answer.headers["location"] == "/connexion"
    assert "Vous êtes déconnecté." in client.get("/connexion").text
    assert client.get("/").status_code == 303


def test_the_email_is_read_without_case_or_spaces(desk: Desk) -> None:
    client = desk.client()
    assert login(client, "  Editeur@Cegep.example ", PASSWORD).status_code == 303


def test_a_wrong_password_or_an_unknown_account_says_the_same(desk: Desk) -> None:
    client = desk.client()
    wrong = login(client, EDITOR, "pas le bon")
    unknown = login(client, "personne@cegep.example", PASSWORD)
    for answer in (wrong, unknown):
        assert answer.status_code == 400
        assert "Courriel ou mot de passe incorrect." in answer.text
    assert client.get("/").status_code == 303


def test_the_eleventh_failed_login_is_refused_even_with_the_right_password(desk: Desk) -> None:
    client = desk.client()
    for _ in range(10):
        assert login(client, EDITOR, "non").status_code == 400
    answer = login(client, EDITOR, PASSWORD)
    assert answer.status_code == 429
    assert "Trop de tentatives de connexion échouées : réessayez dans 15 minutes." in answer.text
    assert client.get("/").status_code == 303
    # from another address the account is still held
    assert login(desk.client(address="203.0.113.8"), EDITOR, PASSWORD).status_code == 429
    desk.clock.advance(minutes=15)
    assert login(client, EDITOR, PASSWORD).status_code == 303


def test_failed_logins_are_counted_per_address_too(desk: Desk) -> None:
    client = desk.client(address="198.51.100.1")
    for n in range(10):
        assert login(client, f"inconnu{n}@cegep.example", "non").status_code == 400
    assert login(client, ADMIN, PASSWORD).status_code == 429
    assert login(desk.client(address="198.51.100.2"), ADMIN, PASSWORD).status_code == 303


def test_the_throttle_window_slides() -> None:
    throttle = LoginThrottle(limit=2, window=timedelta(minutes=15))
    keys = ["compte:a"]
    throttle.failed(keys, NOW)
    throttle.failed(keys, NOW + timedelta(minutes=10))
    assert throttle.blocked_for(keys, NOW + timedelta(minutes=11)) == timedelta(minutes=4)
    assert throttle.blocked_for(keys, NOW + timedelta(minutes=15)) is None
    throttle.succeeded("compte:a")
    assert throttle.blocked_for(keys, NOW + timedelta(minutes=11)) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/mentions/3?retour=%2F", "/mentions/3?retour=%2F"),
        ("/?status=nouveau&q=a", "/?status=nouveau&q=a"),
        ("//evil.example", "/"),
        ("//evil.example/path", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_is_a_local_path_only(value: object, expected: str) -> None:
    assert safe_next(value) == expected


def test_login_does_not_redirect_elsewhere(desk: Desk) -> None:
    for target in ("//evil.example", "https://evil.example", "/\\evil.example"):
        answer = login(desk.client(), EDITOR, PASSWORD, next=target)
        assert answer.headers["location"] == "/"
    answer = login(desk.client(), EDITOR, PASSWORD, next="/tableau-de-bord")
    assert answer.headers["location"] == "/tableau-de-bord"


def test_a_page_asked_before_signing_in_comes_back_after(desk: Desk) -> None:
    client = desk.client()
    answer = client.get("/?status=nouveau&q=x")
    assert answer.headers["location"] == "/connexion?next=%2F%3Fstatus%3Dnouveau%26q%3Dx"
    form = client.get(answer.headers["location"])
    assert 'name="next" value="/?status=nouveau&amp;q=x"' in form.text
    answer = login(client, EDITOR, PASSWORD, next="/?status=nouveau&q=x")
    assert answer.headers["location"] == "/?status=nouveau&q=x"


def test_a_session_ends_after_12_hours_idle(desk: Desk) -> None:
    client = desk.signed_in(READER)
    desk.clock.advance(hours=11, minutes=59)
    assert client.get("/").status_code == 200  # renewed: the idle time starts again
    desk.clock.advance(hours=11, minutes=59)
    assert client.get("/").status_code == 200
    desk.clock.advance(hours=12, minutes=1)
    answer = client.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/connexion"
    assert "Votre session a expiré" in client.get("/connexion").text


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(desk: Desk) -> None:
    client = desk.client()
    cookie = client.get("/connexion").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "strict-transport-security" not in client.get("/connexion").headers
    secure = desk.client(web=WebConfig(base_url="https://veille.cegep.example"))
    answer = secure.get("/connexion")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "; secure" in cookie
    assert answer.headers["strict-transport-security"] == "max-age=31536000"


def test_without_a_secret_sessions_end_at_restart_and_the_log_says_so(
    desk: Desk, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with caplog.at_level(logging.WARNING, logger="veille.web.security"):
        desk.asgi()
    assert "les sessions prendront fin au redémarrage" in caplog.text
    client = desk.signed_in(READER)
    assert client.get("/").status_code == 200
    restarted = desk.client(restart=True, cookies=client.cookies)  # another random key
    assert restarted.get("/").status_code == 303
    # with the secret of web.secret_env, a session outlives a restart
    monkeypatch.setenv("VEILLE_WEB_SECRET", "x" * 40)
    web = WebConfig(secret_env="VEILLE_WEB_SECRET")
    client = desk.signed_in(READER, web=web)
    restarted = desk.client(web=web, restart=True, cookies=client.cookies)
    assert restarted.get("/").status_code == 200


# --- CSRF, roles, GET -----------------------------------------------------------------


def post_routes(desk: Desk) -> list[str]:
    paths = []
    for route in desk.asgi().routes:
        posted = isinstance(route, Route) and "POST" in (route.methods or ())
        if posted and not route.path.startswith("/api/"):
            paths.append(route.path.replace("{mention_id:int}", "1"))
    return paths


def test_every_form_post_without_the_csrf_token_is_refused(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a")])
    paths = post_routes(desk)
    assert {"/connexion", "/deconnexion", "/mentions/lot", "/mentions/1/modifier"} <= set(paths)
    client = desk.signed_in(ADMIN)
    before = client.get("/mentions/1").text
    for path in paths:
        for data in ({"status": "traité", "ids": "1"}, {"csrf_token": "faux", "ids": "1"}):
            answer = client.post(path, data=data)
            assert answer.status_code == 403, path
            assert "jeton de sécurité" in answer.text
    assert client.get("/mentions/1").text == before
    assert client.get("/").status_code == 200  # still signed in: logout refused too
    assert login(desk.client(), EDITOR, PASSWORD, csrf_token="").status_code == 403


def test_every_post_form_carries_the_csrf_token(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a")])
    desk.store.change([1], actor="x", now=NOW, add_tags=["presse"])
    client = desk.signed_in(ADMIN)
    token = csrf_of(client, "/")
    desk.store.exclude_site("exemple.com", actor="x", reason="", now=NOW)
    pages = ["/", "/mentions/1", "/mentions/1?statut=traité", "/utilisateurs", "/exclusions"]
    found = 0
    for path in pages:
        forms = Forms.of(client.get(path).text)
        for form in forms.posts:
            found += 1
            assert form.get("csrf_token") == token, (path, form)
    assert found >= 10


class Forms(HTMLParser):
    """The POST forms of a page and their hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict[str, str]] = []
        self._in_post = False

    @classmethod
    def of(cls, html: str) -> Forms:
        parser = cls()
        parser.feed(html)
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_post = values.get("method", "get").lower() == "post"
            if self._in_post:
                self.posts.append({"action": values.get("action", "")})
        elif tag == "input" and self._in_post and values.get("type") == "hidden":
            self.posts[-1][values.get("name", "")] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_post = False


def test_a_reader_reads_and_changes_nothing(desk: Desk, workspace: Workspace) -> None:
    store_mentions(desk.store, [mention("a")])
    client = desk.signed_in(READER)
    page = client.get("/mentions/1")
    assert page.status_code == 200 and "Titre a" in page.text
    assert 'id="form-statut"' not in page.text and 'id="form-note"' not in page.text
    assert 'id="form-lot"' not in client.get("/").text
    before = snapshot(workspace)
    token = csrf_of(client, "/")
    attempts = {
        "/mentions/lot": {"ids": "1", "status": "traité"},
        "/mentions/1/modifier": {"status": "traité"},
        "/mentions/1/notes": {"text": "note"},
        "/mentions/1/ignorer-site": {"reason": "bruit"},
        "/exclusions/retirer": {"domain": "exemple.com"},
    }
    for path, data in attempts.items():
        answer = client.post(path, data={**data, "csrf_token": token})
        assert answer.status_code == 403, path
        assert "ne permet pas cette action" in answer.text
    assert client.get("/utilisateurs").status_code == 403
    assert snapshot(workspace) == before


def test_a_get_never_changes_anything(desk: Desk, workspace: Workspace) -> None:
    store_mentions(desk.store, [mention("a"), mention("b", urgent=True)])
    client = desk.signed_in(ADMIN)
    before = snapshot(workspace)
    paths = [
        "/",
        "/?status=traité&urgent=oui",
        "/mentions/1",
        "/mentions/1?statut=traité",
        "/mentions/2?statut=exclu",
        "/mentions/lot",
        "/mentions/1/modifier?status=traité",
        "/mentions/1/notes?text=x",
        "/mentions/1/ignorer-site",
        "/exclusions/retirer?domain=x",
        "/export.csv",
        "/export.json",
        "/utilisateurs",
        "/deconnexion",
    ]
    paths += ["/tableau-de-bord", "/exclusions"]
    for path in paths:
        assert client.get(path).status_code in (200, 405), path
    assert snapshot(workspace) == before
    assert client.get("/").status_code == 200  # GET /deconnexion did not sign out


def test_a_confirm_link_asks_before_changing(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a")])
    client = desk.signed_in(EDITOR)
    page = client.get("/mentions/1?statut=traité")
    assert 'id="form-confirmer"' in page.text and "Marquer cette mention « traité » ?" in page.text
    assert desk.store.detail(1).mention.status == "nouveau"  # type: ignore[union-attr]
    answer = client.post(
        "/mentions/1/modifier", data={"status": "traité", "csrf_token": csrf_of(client, "/")}
    )
    assert answer.status_code == 303
    assert desk.store.detail(1).mention.status == "traité"  # type: ignore[union-attr]


# --- what is shown -----------------------------------------------------------------------


def test_a_script_in_a_title_is_shown_as_text(desk: Desk) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    store_mentions(desk.store, [mention("a", title=evil, outlet="<b>Média</b>")])
    desk.store.change([1], actor="x", now=NOW, add_tags=["<i>tag</i>"])
    client = desk.signed_in(EDITOR)
    for path in ("/", "/mentions/1"):
        page = client.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>Média" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert "&lt;i&gt;tag&lt;/i&gt;" in page


def test_security_headers_are_on_every_answer(desk: Desk) -> None:
    client = desk.signed_in(EDITOR)
    answers = [
        client.get("/"),
        desk.client().get("/connexion"),
        desk.client().get("/"),
        client.get("/nulle-part"),
        client.get("/static/veille.css"),
        client.get("/api/mentions"),
        client.post("/mentions/lot", data={}),
    ]
    for answer in answers:
        assert answer.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert answers[0].headers["cache-control"] == "no-store"
    assert answers[3].status_code == 404 and "Cette page n&#39;existe pas." in answers[3].text


def test_a_bug_answers_500_in_french_with_the_headers_and_no_detail(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from starlette.testclient import TestClient

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("détail interne à ne pas montrer")

    page = desk.signed_in(EDITOR)
    bearer = {"Authorization": f"Bearer {desk.tokens['lecteur']}"}
    monkeypatch.setattr(desk.store, "inbox", broken)
    with TestClient(desk.server(), raise_server_exceptions=False) as client:
        client.cookies = page.cookies
        answers = [client.get("/"), client.get("/api/mentions", headers=bearer)]

    for answer in answers:
        assert answer.status_code == 500
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
        assert "détail interne" not in answer.text and "Traceback" not in answer.text
    assert "Erreur interne" in answers[0].text and "journal de veille" in answers[0].text
    assert answers[1].json()["erreur"].startswith("erreur interne")
    assert "erreur interne du poste de veille (GET /)" in caplog.text


def test_no_inline_script_or_style_in_the_pages(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a")])
    client = desk.signed_in(ADMIN)
    for path in ("/", "/mentions/1", "/connexion", "/utilisateurs"):
        page = client.get(path).text
        assert re.findall(r"<script[^>]*>", page) in (
            [],
            ['<script src="/static/veille.js" defer>'],
        )
        assert "<style" not in page and " style=" not in page and " on" + "click=" not in page


def test_the_mention_page(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a", urgent=True, title_key="titre a")])
    store_mentions(
        desk.store, [mention("a2", title="Titre a", title_key="titre a")], source="Google"
    )
    client = desk.signed_in(EDITOR)
    page = client.get("/mentions/1").text
    assert "N° 1" in page and "Titre a" in page and "Le Nouvelliste" in page
    assert "<mark>Cégep de Drummondville</mark>" in page  # snippet and stored text
    assert "règle : " in page and "forme : Cégep de Drummondville" in page
    assert 'id="aussi-vu-sur">Google<' in page
    assert "URGENT" in page and "plainte" in page
    assert client.get("/mentions/99").status_code == 404


# --- the inbox: filters, pagination, bulk -----------------------------------------------


def test_filters_live_in_the_url(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a", urgent=True), mention("b"), mention("c")])
    store_mentions(
        desk.store, [mention("g", title="Ailleurs", outlet="La Presse")], source="Google"
    )
    desk.store.change([2], actor="x", now=NOW, status="traité", add_tags=["presse"])
    client = desk.signed_in(READER)
    assert rows(client.get("/").text) == [4, 3, 2, 1]
    assert rows(client.get("/?urgent=oui").text) == [1]
    assert rows(client.get("/?status=traité").text) == [2]
    assert rows(client.get("/?tag=presse").text) == [2]
    assert rows(client.get("/?source=Google").text) == [4]
    assert rows(client.get("/?outlet=La+Presse").text) == [4]
    assert rows(client.get("/?q=ailleurs").text) == [4]
    assert rows(client.get("/?since=2026-11-29").text) == []
    assert rows(client.get("/?since=2026-11-28&until=2026-11-28").text) == [4, 3, 2, 1]
    page = client.get("/?status=nouveau&q=titre").text
    assert rows(page) == [3, 1]
    assert 'data-count="traité">1<' in page and 'data-count="nouveau">2<' in page
    assert 'value="titre"' in page  # the form shows the filter
    assert 'href="/export.csv?status=nouveau&amp;q=titre"' in page
    wrong = client.get("/?status=perdu&since=hier").text
    assert "Filtre ignoré : statut inconnu « perdu »." in wrong
    assert "AAAA-MM-JJ attendu" in wrong and rows(wrong) == [4, 3, 2, 1]


def test_pagination(desk: Desk) -> None:
    store_mentions(desk.store, [mention(f"m{n}") for n in range(60)])
    client = desk.signed_in(READER)
    first = client.get("/?q=titre").text
    assert len(rows(first)) == 50 and "Page 1 sur 2" in first
    assert 'href="/?q=titre&amp;page=2"' in first
    second = client.get("/?q=titre&page=2").text
    assert len(rows(second)) == 10 and "Page 2 sur 2" in second
    assert 'href="/?q=titre"' in second and set(rows(first)).isdisjoint(rows(second))


def test_bulk_status_assignee_and_tag_with_history(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a"), mention("b"), mention("c")])
    client = desk.signed_in(EDITOR)
    token = csrf_of(client, "/")
    answer = client.post(
        "/mentions/lot",
        data={
            "ids": ["1", "3"],
            "status": "en cours",
            "assignee": READER,
            "add_tag": "radio, presse",
            "remove_tag": "",
            "next": "/?status=nouveau",
            "csrf_token": token,
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/?status=nouveau"
    assert "2 mention(s) modifiée(s)." in client.get("/").text
    for mention_id in (1, 3):
        detail = desk.store.detail(mention_id)
        assert detail is not None
        assert detail.mention.status == "en cours" and detail.mention.assignee == READER
        assert detail.mention.tags == ("presse", "radio")
        fields = sorted((e.field, e.before, e.after, e.actor) for e in detail.history)
        assert fields == [
            ("assignee", None, READER, EDITOR),
            ("status", "nouveau", "en cours", EDITOR),
            ("tags", None, "presse", EDITOR),
            ("tags", None, "radio", EDITOR),
        ]
    assert desk.store.detail(2).mention.status == "nouveau"  # type: ignore[union-attr]
    page = client.get("/mentions/1").text
    assert 'data-field="status"' in page and 'nouveau</span> → <span class="apres">en cours' in page
    # nothing chosen, or nothing to do: said, nothing changed
    for data in ({"status": "traité"}, {"ids": "2", "status": "", "assignee": "-"}):
        answer = client.post("/mentions/lot", data={**data, "csrf_token": token})
        assert answer.status_code == 303
        assert 'class="message message-erreur"' in client.get("/").text
    assert desk.store.detail(2).mention.status == "nouveau"  # type: ignore[union-attr]


def test_bulk_refuses_unknown_values(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a")])
    client = desk.signed_in(EDITOR)
    token = csrf_of(client, "/")
    for data, message in (
        ({"status": "perdu"}, "Statut inconnu « perdu »."),
        ({"assignee": "qui@ailleurs.example"}, "Personne inconnue « qui@ailleurs.example »."),
    ):
        client.post("/mentions/lot", data={"ids": "1", **data, "csrf_token": token})
        assert message in client.get("/").text
    assert desk.store.detail(1).history == []  # type: ignore[union-attr]


# --- one mention: status, assignee, tone, tags, notes -----------------------------------


def test_note_with_author_time_and_history(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a")])
    client = desk.signed_in(EDITOR)
    desk.clock.advance(hours=1)
    answer = client.post(
        "/mentions/1/notes",
        data={"text": "Appelé le journaliste <b>Tremblay</b>.", "csrf_token": csrf_of(client, "/")},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/mentions/1#notes"
    detail = desk.store.detail(1)
    assert detail is not None
    [note] = detail.notes
    assert (note.author, note.at) == (EDITOR, NOW + timedelta(hours=1))
    assert [(e.field, e.actor) for e in detail.history] == [("note", EDITOR)]
    page = client.get("/mentions/1").text
    assert "Appelé le journaliste &lt;b&gt;Tremblay&lt;/b&gt;." in page
    assert "2026-11-28 11:00" in page  # 16:00 UTC, local time of America/Montreal
    client.post("/mentions/1/notes", data={"text": "  ", "csrf_token": csrf_of(client, "/")})
    assert "La note est vide." in client.get("/mentions/1").text


def test_tone_status_assignee_and_tags_of_one_mention(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a")])
    client = desk.signed_in(EDITOR)
    token = csrf_of(client, "/")
    for data in (
        {"tone": "négatif"},
        {"status": "traité"},
        {"assignee": ADMIN},
        {"add_tag": "plainte"},
        {"tone": "positif"},
        {"remove_tag": "plainte"},
        {"assignee": ""},
        {"tone": ""},
    ):
        answer = client.post("/mentions/1/modifier", data={**data, "csrf_token": token})
        assert answer.status_code == 303 and answer.headers["location"] == "/mentions/1"
    detail = desk.store.detail(1)
    assert detail is not None
    m = detail.mention
    assert (m.status, m.tone, m.assignee, m.tags) == ("traité", None, None, ())
    assert [(e.field, e.before, e.after) for e in detail.history] == [
        ("tone", None, "négatif"),
        ("status", "nouveau", "traité"),
        ("assignee", None, ADMIN),
        ("tags", None, "plainte"),
        ("tone", "négatif", "positif"),
        ("tags", "plainte", None),
        ("assignee", ADMIN, None),
        ("tone", "positif", None),
    ]
    client.post("/mentions/1/modifier", data={"tone": "furieux", "csrf_token": token})
    assert "Ton inconnu « furieux »." in client.get("/mentions/1").text
    assert len(desk.store.detail(1).history) == 8  # type: ignore[union-attr]


def test_ignore_a_site_then_list_and_remove_it(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a", url="https://www.bruit.example/x")])
    client = desk.signed_in(EDITOR)
    token = csrf_of(client, "/")
    assert 'id="domaine">bruit.example<' in client.get("/mentions/1").text
    client.post(
        "/mentions/1/ignorer-site",
        data={"reason": "agrégateur", "also_exclude": "oui", "csrf_token": token},
    )
    [site] = desk.store.excluded_sites()
    assert (site.domain, site.actor, site.reason) == ("bruit.example", EDITOR, "agrégateur")
    assert desk.store.detail(1).mention.status == "exclu"  # type: ignore[union-attr]
    page = client.get("/exclusions").text
    assert 'data-domain="bruit.example"' in page and "agrégateur" in page
    client.post("/exclusions/retirer", data={"domain": "bruit.example", "csrf_token": token})
    assert desk.store.excluded_sites() == []
    assert "n&#39;est plus ignoré" in client.get("/exclusions").text


def test_the_dashboard(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a", urgent=True), mention("b")])
    store_mentions(desk.store, [mention("c")], at=NOW - timedelta(days=3))
    desk.store.change([1], actor="x", now=NOW, tone="négatif")
    client = desk.signed_in(READER)
    page = client.get("/tableau-de-bord").text
    assert '<svg class="graphique" id="graphique-jours"' in page
    assert page.count('<rect class="serie-0"') == 2 + 1 + 1  # two days, legend, outlet
    assert "2026-11-28 — fils RSS : 2" in page and "2026-11-25 — fils RSS : 1" in page
    assert '<path class="moyenne" d="M' in page and "moyenne sur 28 jours" in page
    assert "Le Nouvelliste : 3" in page
    assert 'data-source="Nouvelliste"' in page and 'data-source="Google"' in page
    assert 'id="urgentes"><a href="/?urgent=oui&amp;since=2026-08-30">1<' in page
    assert 'data-tone="négatif">1<' in page and 'data-tone="">2<' in page


def test_the_dashboard_counts_the_days_of_the_configured_zone(desk: Desk) -> None:
    # 03:30 UTC on the 28th is 22:30 on the 27th in Montréal: an evening mention
    store_mentions(desk.store, [mention("soir")], at=datetime(2026, 11, 28, 3, 30, tzinfo=UTC))
    store_mentions(desk.store, [mention("matin")], at=datetime(2026, 11, 28, 5, 30, tzinfo=UTC))
    page = desk.signed_in(READER).get("/tableau-de-bord").text
    assert "2026-11-27 — fils RSS : 1" in page and "2026-11-28 — fils RSS : 1" in page
    zone = ZoneInfo("America/Toronto")
    assert [day for day, _, _ in desk.store.daily_counts(NOW - timedelta(days=2), zone)] == [
        date(2026, 11, 27),
        date(2026, 11, 28),
    ]
    assert [n for _, _, n in desk.store.daily_counts(NOW - timedelta(days=2), UTC)] == [2]


# --- the API and the exports ---------------------------------------------------------


def test_the_api_wants_a_bearer_token(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a"), mention("b", urgent=True)])
    client = desk.client()
    answer = client.get("/api/mentions")
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
    assert "jeton absent ou invalide" in answer.json()["erreur"]
    bad = client.get("/api/mentions", headers={"Authorization": "Bearer veille_faux"})
    assert bad.status_code == 401
    # a signed-in browser's cookie is not a token
    browser = desk.signed_in(ADMIN)
    assert browser.get("/api/mentions/1").status_code == 401
    reader = {"Authorization": f"Bearer {desk.tokens['lecteur']}"}
    listing = client.get("/api/mentions?urgent=oui", headers=reader).json()
    assert listing["total"] == 1 and listing["mentions"][0]["id"] == 2
    assert {"assignee", "tags", "tone", "outlet", "also_seen", "status"} <= set(
        listing["mentions"][0]
    )
    assert client.get("/api/mentions?status=perdu", headers=reader).status_code == 400
    one = client.get("/api/mentions/1", headers=reader).json()
    assert one["id"] == 1 and one["history"] == [] and one["notes"] == []
    assert client.get("/api/mentions/9", headers=reader).status_code == 404
    refused = client.post("/api/mentions/1", json={"status": "traité"}, headers=reader)
    assert refused.status_code == 403
    assert desk.store.detail(1).mention.status == "nouveau"  # type: ignore[union-attr]


def test_the_api_changes_a_mention_with_history(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a")])
    desk.store.change([1], actor="x", now=NOW, add_tags=["vieux"])
    client = desk.client()
    editor = {"Authorization": f"Bearer {desk.tokens['éditeur']}"}
    answer = client.post(
        "/api/mentions/1",
        json={
            "status": "en cours",
            "assignee": EDITOR,
            "tags": ["presse", "radio"],
            "tone": "neutre",
            "note": "Suivi par Teams.",
        },
        headers=editor,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["assignee"], body["tags"], body["tone"]) == (
        "en cours",
        EDITOR,
        ["presse", "radio"],
        "neutre",
    )
    assert body["notes"][0]["author"] == "jeton robot-éditeur"
    assert {e["field"] for e in body["history"]} == {"status", "assignee", "tags", "tone", "note"}
    for bad in ({"status": "perdu"}, {"tone": "x"}, {"tags": "a"}, {"couleur": 1}, [1]):
        assert client.post("/api/mentions/1", json=bad, headers=editor).status_code == 400
    assert (
        client.post("/api/mentions/1", content=b"{", headers=editor).json()["erreur"]
        == "corps JSON illisible"
    )


def test_the_csv_export_opens_in_a_french_excel(desk: Desk) -> None:
    store_mentions(desk.store, [mention("a", urgent=True, title="=HYPERLINK(1)"), mention("b")])
    desk.store.change([1], actor="x", now=NOW, add_tags=["presse"], assignee=EDITOR)
    client = desk.signed_in(READER)
    answer = client.get("/export.csv?urgent=oui")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    data = answer.content
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:3] == ["N°", "Titre", "Média"] and "Responsable" in table[0]
    assert len(table) == 2  # the filter: the urgent one only
    row = dict(zip(table[0], table[1], strict=True))
    assert row["Urgent"] == "oui" and row["Titre"] == "'=HYPERLINK(1)"
    assert row["Trouvée le"] == "2026-11-28 10:00"  # local time
    assert row["Responsable"] == EDITOR and row["Étiquettes"] == "presse"
    exported = client.get("/export.json").json()
    assert [m["id"] for m in exported] == [2, 1] and exported[1]["tags"] == ["presse"]


# --- behind a reverse proxy --------------------------------------------------------------


def test_the_trusted_header_only_from_a_trusted_proxy(desk: Desk) -> None:
    web = WebConfig(trusted_header="X-Remote-User", trusted_proxies=("10.0.0.0/8",))
    proxied = desk.client(web=web, address="10.1.2.3")
    page = proxied.get("/", headers={"X-Remote-User": EDITOR})
    assert page.status_code == 200 and EDITOR in page.text
    assert proxied.get("/", headers={"X-Remote-User": "inconnu@x.example"}).status_code == 303
    assert proxied.get("/").status_code == 303
    direct = desk.client(web=web, address="203.0.113.9")
    assert direct.get("/", headers={"X-Remote-User": EDITOR}).status_code == 303
    # not configured: never read
    plain = desk.client(address="10.1.2.3")
    assert plain.get("/", headers={"X-Remote-User": EDITOR}).status_code == 303


def test_behind_a_trusted_proxy_the_throttle_counts_the_forwarded_address(desk: Desk) -> None:
    web = WebConfig(trusted_proxies=("10.0.0.1",))
    client = desk.client(web=web, address="10.0.0.1")
    for n in range(10):
        answer = client.post(
            "/connexion",
            data={"email": f"x{n}@x.example", "password": "non", "csrf_token": csrf_of(client)},
            headers={"X-Forwarded-For": "192.0.2.50"},
        )
        assert answer.status_code == 400
    blocked = client.post(
        "/connexion",
        data={"email": ADMIN, "password": PASSWORD, "csrf_token": csrf_of(client)},
        headers={"X-Forwarded-For": "192.0.2.50"},
    )
    assert blocked.status_code == 429
    other = client.post(
        "/connexion",
        data={"email": ADMIN, "password": PASSWORD, "csrf_token": csrf_of(client)},
        headers={"X-Forwarded-For": "192.0.2.51"},
    )
    assert other.status_code == 303


def test_a_body_over_one_megabyte_is_refused(desk: Desk) -> None:
    client = desk.client()
    token = csrf_of(client)
    big = {"email": "a" * 1_100_000, "password": "x", "csrf_token": token}
    assert client.post("/connexion", data=big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
        yield f"csrf_token={token}&email=".encode()
        for _ in range(20):
            yield b"a" * 100_000

    answer = client.post(
        "/connexion",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413 and "Envoi trop volumineux." in answer.text


def test_the_daily_chart_stacks_kinds_and_draws_the_28_day_mean() -> None:
    today = NOW.date()
    counts = [
        (today - timedelta(days=100), "feed", 28),  # before the window: in no mean shown
        (today - timedelta(days=30), "feed", 28),
        (today, "feed", 3),
        (today, "search", 1),
    ]
    chart = daily_chart(counts, today=today, days=90)
    assert len(chart.rows) == 90 and chart.rows[-1].day == today
    assert chart.total == 28 + 4
    by_day = {row.day: row for row in chart.rows}
    assert by_day[today].counts == {"feed": 3, "search": 1} and by_day[today].total == 4
    assert by_day[today - timedelta(days=30)].mean == 1.0
    assert by_day[today - timedelta(days=3)].mean == 1.0  # its 28th day
    assert by_day[today - timedelta(days=2)].mean == 0.0  # 28 days after: out of the mean
    assert by_day[today].mean == round(4 / 28, 1)
    feed, search = [r for r in chart.rects if r.label.startswith(f"{today:%Y-%m-%d}")]
    assert (feed.css, search.css) == ("serie-0", "serie-1")
    assert search.y + search.height == pytest.approx(feed.y)  # stacked
    assert [label for _, label, _ in chart.kinds] == ["fils RSS", "moteurs de recherche"]
    assert [t.label for t in chart.x_ticks] == ["09-01", "10-01", "11-01"]
    assert chart.mean_path.startswith("M") and chart.mean_path.count("L") == 89


def test_an_unknown_role_reads_nothing(desk: Desk) -> None:
    desk.store.add_user("invite@cegep.example", role="invité", password_hash=None, now=NOW)
    web = WebConfig(trusted_header="X-Remote-User", trusted_proxies=("10.0.0.1",))
    client = desk.client(web=web, address="10.0.0.1")
    answer = client.get("/", headers={"X-Remote-User": "invite@cegep.example"})
    assert answer.status_code == 403


def test_the_server_runs_in_a_thread_and_stops(desk: Desk) -> None:
    """What the daemon does: the workspace served beside the scheduler."""
    port = free_port()
    server = build_server(desk.app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        answer = httpx.get(f"http://127.0.0.1:{port}/connexion", timeout=5)
        assert answer.status_code == 200 and 'id="form-connexion"' in answer.text
        assert answer.headers["x-frame-options"] == "DENY" and "server" not in answer.headers
    finally:
        server.should_exit = True
        thread.join(10)
    assert not thread.is_alive()
