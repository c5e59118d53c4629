"""End to end: the emails `veille run` sends, against real local HTTP and SMTP servers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.conftest import FeedServer, SmtpServer, Workspace, _Inbox, free_port


def _text(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content()).replace("\r\n", "\n")


def _html(message: Any) -> str:
    return str(message.get_body(("html",)).get_content())


def _feed(count: int) -> str:
    items = "".join(
        f"<item><title>Article {i} du jour</title><link>https://news.test/{i}</link>"
        f"<guid>news-{i}</guid><description>Le Cégep de Drummondville annonce le projet {i}."
        "</description></item>"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"{items}</channel></rss>"
    )


def test_no_source_could_be_visited_never_says_nothing_new(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace, veille: Any
) -> None:
    feed_server.add("/a.xml", b"boom", status=500, content_type="text/plain")
    sources = [
        {"name": "L'Express", "type": "feed", "url": feed_server.url("/a.xml")},
        {"name": "Absent", "type": "feed", "url": feed_server.url("/absent.xml")},
    ]
    workspace.write(sources, smtp=smtp_server)

    result = veille("run")

    assert result.code == 1, result.err
    [digest] = smtp_server.digests()
    subject = str(digest["Subject"])
    assert subject.startswith("Veille — aucune source n'a pu être consultée — ")
    text, html = _text(digest), _html(digest)
    for body in (subject, text, html):
        assert "Aucune nouvelle mention" not in body
    head = text.split("\n--\n")[0]
    assert "L'Express : erreur HTTP 500" in head
    assert "Absent : erreur HTTP 404" in head
    assert "Aucune source n'a pu être consultée" in html


def test_a_big_digest_lists_200_mentions_and_how_to_see_the_others(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace, veille: Any
) -> None:
    feed_server.add("/news.xml", _feed(230))
    workspace.write(
        [{"name": "News", "type": "feed", "url": feed_server.url("/news.xml")}], smtp=smtp_server
    )

    assert veille("run").code == 0

    [digest] = smtp_server.digests()
    assert "230 nouvelles mentions" in str(digest["Subject"])
    text, html = _text(digest), _html(digest)
    assert len(set(re.findall(r"https://news\.test/\d+", text))) == 200
    assert len(set(re.findall(r'href="https://news\.test/\d+"', html))) == 200
    assert "… et 30 autres mentions" in text and "… et 30 autres mentions" in html
    since = re.search(r"veille mentions --since (\d{4}-\d\d-\d\d)", text)
    assert since is not None and f"veille mentions --since {since.group(1)}" in html
    listed = json.loads(veille("mentions", "--since", since.group(1), "--format", "json").out)
    assert len(listed) == 230
    with workspace.connect() as db:
        unsent = "select count(*) from mentions where digest_id is null"
        assert db.exec_driver_sql(unsent).scalar_one() == 0


def test_urgent_alert_subject_names_the_headline(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace, veille: Any
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")}],
        smtp=smtp_server,
    )

    assert veille("run").code == 0

    [alert] = [m for m in smtp_server.messages if str(m["Subject"]).startswith("URGENT")]
    subject = str(alert["Subject"])
    assert subject.startswith("URGENT — « plainte » : Plainte contre le Cegep Drummondville (")
    assert "le mot d'alerte « plainte »" in _text(alert)
    assert subject.endswith(")") and len(subject) <= 150


def test_a_message_refused_for_its_size_is_one_french_line(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace, veille: Any
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")}],
        smtp=smtp_server,
    )
    smtp_server.inbox.max_size = 2_000

    result = veille("run")

    assert result.code == 1
    assert "Traceback" not in result.err
    assert f"127.0.0.1:{smtp_server.port} refuse le message, trop volumineux" in result.err
    assert smtp_server.messages == []


@pytest.fixture
def login_refused() -> Iterator[SmtpServer]:
    def refuse(*args: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    inbox = _Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=refuse, auth_require_tls=False
    )
    controller.start()
    yield SmtpServer("127.0.0.1", controller.port, inbox, controller)
    controller.stop()


def test_a_refused_login_names_the_server_and_never_the_password(
    feed_server: FeedServer, login_refused: SmtpServer, workspace: Workspace, veille: Any
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")}],
        smtp=login_refused,
    )
    config = workspace.config.read_text(encoding="utf-8").replace(
        "  timeout: 5s\n",
        "  timeout: 5s\n  username: veille\n  password_env: VEILLE_SMTP_PASSWORD\n",
    )
    workspace.config.write_text(config, encoding="utf-8")
    password = "Tr3s-secret-mdp"

    result = veille("run", env={"VEILLE_SMTP_PASSWORD": password})

    assert result.code == 1
    assert "Traceback" not in result.err and password not in result.err
    assert (
        f"le serveur SMTP 127.0.0.1:{login_refused.port} a refusé l'identification de veille"
        in result.err
    )
