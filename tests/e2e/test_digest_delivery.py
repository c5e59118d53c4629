"""A digest always gets through, once: too large for the server, or sent without
knowing whether the server took it. Real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.conftest import FeedServer, SmtpServer, Workspace
from veille.cli import main


def _feed(count: int) -> str:
    items = "".join(
        f"<item><title>Nouvelle {n} : le Cégep de Drummondville annonce un projet</title>"
        f"<link>https://journal.test/{n}</link>"
        f"<description>Le Cégep de Drummondville annonce le projet numéro {n}. "
        + "Texte de l'article. " * 20
        + "</description></item>"
        for n in range(count)
    )
    return f'<rss version="2.0"><channel><title>Journal</title>{items}</channel></rss>'


def _run(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> int:
    code = main(["--config", str(workspace.config), "run", "--all"])
    assert "Traceback" not in capsys.readouterr().err
    return code


def _unsent(workspace: Workspace) -> int:
    with workspace.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "select count(*) from mentions where digest_id is null"
            ).scalar_one()
        )


def test_a_digest_too_large_for_the_server_goes_out_in_parts(
    feed_server: FeedServer,
    smtp_server: SmtpServer,
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed_server.add("/j.xml", _feed(120))
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/j.xml")}], smtp=smtp_server
    )
    smtp_server.inbox.max_size = 100_000  # the whole digest is about 130 kB

    assert _run(workspace, capsys) == 0

    subjects = smtp_server.subjects()
    assert [s.split(" (partie")[1] for s in subjects] == [" 1 sur 3)", " 2 sur 3)", " 3 sur 3)"]
    ids = {str(m["Message-ID"]) for m in smtp_server.messages}
    assert len(ids) == 3
    listed = "".join(m.get_body(("plain",)).get_content() for m in smtp_server.messages)
    listed = listed.replace("\r\n", "\n")
    missing = [n for n in range(120) if f"https://journal.test/{n}\n" not in listed]
    assert not missing
    assert _unsent(workspace) == 0

    # the next day's digest is not blocked by the first one
    feed_server.add("/j.xml", _feed(121))
    smtp_server.inbox.max_size = None
    with workspace.connect() as connection:
        connection.exec_driver_sql("update digests set day = '2000-01-01'")
    assert _run(workspace, capsys) == 0
    assert "1 nouvelle mention" in smtp_server.subjects()[-1]


def test_a_server_refusing_even_a_part_gets_a_short_digest(
    feed_server: FeedServer,
    smtp_server: SmtpServer,
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed_server.add("/j.xml", _feed(60))
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/j.xml")}], smtp=smtp_server
    )
    smtp_server.inbox.max_size = 20_000

    assert _run(workspace, capsys) == 0

    (message,) = smtp_server.messages
    assert str(message["Subject"]).startswith("Veille — 60 nouvelles mentions")
    assert "veille mentions --since" in message.get_body(("plain",)).get_content()
    assert _unsent(workspace) == 0


def test_a_digest_whose_fate_is_unknown_is_sent_again_with_the_same_message_id(
    feed_server: FeedServer,
    smtp_server: SmtpServer,
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed_server.add("/j.xml", _feed(3))
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/j.xml")}], smtp=smtp_server
    )
    smtp_server.inbox.drop_after_data = 1

    assert _run(workspace, capsys) == 1  # sent, but no answer: maybe accepted
    (first,) = smtp_server.inbox.dropped
    assert smtp_server.messages == []
    assert _unsent(workspace) == 0  # still reserved for that digest

    assert _run(workspace, capsys) == 0
    (again,) = smtp_server.digests()
    assert again["Message-ID"] == first["Message-ID"]
    assert again["Subject"] == first["Subject"]

    assert _run(workspace, capsys) == 0
    assert len(smtp_server.digests()) == 1  # and never a third time
