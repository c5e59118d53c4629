"""Crash safety: `veille run` killed with SIGKILL at many points of a cycle, then
restarted. Afterwards no mention is lost, none is stored twice, and each one went
out in exactly one digest — the only copy allowed is a resend of the very same
digest (same Message-ID) when the kill fell between SMTP acceptance and the mark."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict

from tests.conftest import FeedServer, SmtpServer, Workspace, run_veille

MENTIONS = 40


def _big_feed(count: int, mentions: int, tag: str) -> bytes:
    items = []
    for i in range(count):
        named = "Le Cégep de Drummondville" if i % (count // mentions) == 0 else "La Ville"
        items.append(
            f"<item><title>{tag} article {i}</title><link>https://{tag}.test/{i}</link>"
            f"<guid>{tag}-{i}</guid><description>{named} annonce le projet {i}.</description>"
            "</item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{tag}</title>{''.join(items)}</channel></rss>"
    ).encode()


def _start(workspace: Workspace) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    return subprocess.Popen(
        [sys.executable, "-m", "veille", "--config", str(workspace.config), "run", "--all"],
        cwd=workspace.path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _digest_urls(smtp_server: SmtpServer) -> dict[str, list[set[str]]]:
    """Message-ID → the set of links of each copy received."""
    copies: dict[str, list[set[str]]] = defaultdict(list)
    for message in smtp_server.digests():
        text = message.get_body(("plain",)).get_content()
        copies[str(message["Message-ID"])].append(set(re.findall(r"https://\w+\.test/\d+", text)))
    return copies


def _check(workspace: Workspace, smtp_server: SmtpServer) -> None:
    with workspace.connect() as db:
        keys = [r[0] for r in db.exec_driver_sql("select key from items")]
        assert len(keys) == len(set(keys)) == 800
        urls = {r[0] for r in db.exec_driver_sql("select url from mentions")}
        assert (
            len(urls)
            == db.exec_driver_sql("select count(*) from mentions").fetchone()[0]
            == 2 * MENTIONS
        )
        assert (
            db.exec_driver_sql("select count(*) from digests where status = 'pending'").fetchone()[
                0
            ]
            == 0
        )
    seen: dict[str, str] = {}
    for message_id, copies in _digest_urls(smtp_server).items():
        assert all(copy == copies[0] for copy in copies), "a resend must be identical"
        for url in copies[0]:
            assert url not in seen, f"{url} in two different digests"
            seen[url] = message_id
    assert set(seen) == urls, "every mention in exactly one digest"


def test_kill_at_many_points_loses_nothing_and_sends_nothing_twice(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace
) -> None:
    feed_server.add("/a.xml", _big_feed(400, MENTIONS, "a"), delay=0.4)
    feed_server.add("/b.xml", _big_feed(400, MENTIONS, "b"), delay=0.8)
    workspace.write(
        [
            {"name": "A", "type": "feed", "url": feed_server.url("/a.xml")},
            {"name": "B", "type": "feed", "url": feed_server.url("/b.xml")},
        ],
        smtp=smtp_server,
        at="00:00",
    )
    assert run_veille("--config", str(workspace.config), "check", cwd=workspace.path).code == 0
    for delay in (0.3, 0.6, 0.9, 1.1, 1.3, 1.5, 1.7, 1.9, 2.2, 2.6, 3.0):
        process = _start(workspace)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    final = run_veille("--config", str(workspace.config), "run", "--all", cwd=workspace.path)
    assert final.code == 0, final.err
    flushed = run_veille("--config", str(workspace.config), "digest", cwd=workspace.path)
    assert flushed.code == 0, flushed.err
    _check(workspace, smtp_server)


def test_kill_between_smtp_acceptance_and_the_mark_resends_the_same_digest(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace
) -> None:
    feed_server.add("/a.xml", _big_feed(400, MENTIONS, "a"))
    feed_server.add("/b.xml", _big_feed(400, MENTIONS, "b"))
    workspace.write(
        [
            {"name": "A", "type": "feed", "url": feed_server.url("/a.xml")},
            {"name": "B", "type": "feed", "url": feed_server.url("/b.xml")},
        ],
        smtp=smtp_server,
        at="00:00",
    )
    process = _start(workspace)
    inbox = smtp_server.inbox
    original = inbox.handle_DATA

    async def accept_then_kill(server, session, envelope):  # type: ignore[no-untyped-def]
        answer = await original(server, session, envelope)
        os.kill(process.pid, signal.SIGKILL)  # the server has the digest; veille never marks it
        return answer

    inbox.handle_DATA = accept_then_kill  # type: ignore[method-assign]
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    inbox.handle_DATA = original  # type: ignore[method-assign]
    assert len(smtp_server.digests()) == 1  # no urgent words here: the first email is the digest

    again = run_veille("--config", str(workspace.config), "run", cwd=workspace.path)
    assert again.code == 0, again.err
    digests = _digest_urls(smtp_server)
    assert len(digests) == 1  # one Message-ID …
    [copies] = digests.values()
    assert len(copies) == 2  # … received twice: the one unavoidable, recognisable duplicate
    _check(workspace, smtp_server)
