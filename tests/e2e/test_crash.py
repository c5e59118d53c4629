"""Crash safety: `veille run` killed with SIGKILL at many points of a cycle, then
restarted. Afterwards no mention is lost, none is stored twice, and each one went
out in exactly one digest — the only copy allowed is a resend of the very same
digest (same Message-ID) when the kill fell between SMTP acceptance and the mark.

Each kill falls when something observable has happened (the store appears, the
server received a request, an answer is held mid-transfer, a source's batch is
committed, the SMTP server has a whole digest), never after a guessed sleep. The
killed runs are child processes; the runs after them go in process.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable

import pytest
from sqlalchemy import inspect, text

from tests.conftest import FeedServer, Hold, SmtpServer, Veille, Workspace

MENTIONS = 40
FEED_BYTES = 45_000  # roughly, each feed below: a hold at 20 000 bytes is mid-transfer


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


def _kill_when(process: subprocess.Popen[str], happened: Callable[[], bool], what: str) -> None:
    """SIGKILL ``process`` as soon as ``happened()``; fail if it ended before that."""
    deadline = time.monotonic() + 60
    while not happened():
        if process.poll() is not None:
            pytest.fail(f"the run ended (status {process.returncode}) before: {what}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"never happened within 60 s: {what}")
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL, what


def _store_exists(workspace: Workspace) -> Callable[[], bool]:
    """The SQLite file exists, or the PostgreSQL database has a first table."""
    if workspace.sqlite:
        return workspace.db.exists
    return lambda: bool(_tables(workspace))


def _tables(workspace: Workspace) -> list[str]:
    with workspace.connect() as db:
        return inspect(db).get_table_names()


def _last_success(workspace: Workspace, name: str) -> object:
    """When source ``name`` last committed a batch (None before any)."""
    if workspace.sqlite and not workspace.db.exists():
        return None
    with workspace.connect() as db:
        if "sources" not in inspect(db).get_table_names():
            return None
        query = text("select last_success_at from sources where name = :name")
        return db.execute(query, {"name": name}).scalar()


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


def _two_feeds(feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace) -> None:
    feed_server.add("/a.xml", _big_feed(400, MENTIONS, "a"))
    feed_server.add("/b.xml", _big_feed(400, MENTIONS, "b"))
    assert len(feed_server.routes["/a.xml"].body) > FEED_BYTES
    workspace.write(
        [
            {"name": "A", "type": "feed", "url": feed_server.url("/a.xml")},
            {"name": "B", "type": "feed", "url": feed_server.url("/b.xml")},
        ],
        smtp=smtp_server,
        at="00:00",
    )


def test_kill_at_many_points_loses_nothing_and_sends_nothing_twice(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace, veille: Veille
) -> None:
    _two_feeds(feed_server, smtp_server, workspace)
    assert veille("check").code == 0
    inbox = smtp_server.inbox

    def kill_point(what: str, happened: Callable[[], bool], *holds: Hold) -> None:
        process = veille.start("run", "--all")
        try:
            _kill_when(process, happened, what)
        finally:
            for hold in holds:
                hold.release()

    # while the store is being created (its file, or its first table, has appeared)
    kill_point("the store appears", _store_exists(workspace))
    # collecting: A asked for, nothing of its body received yet
    hold = feed_server.hold("/a.xml")
    kill_point("A's answer started", hold.reached.is_set, hold)
    # collecting: A's answer cut in the middle
    hold = feed_server.hold("/a.xml", after=20_000)
    kill_point("A's answer half sent", hold.reached.is_set, hold)
    # A read whole (its batch being matched and written) while B is cut in the middle
    answered = len(feed_server.hits_for("/a.xml"))
    hold = feed_server.hold("/b.xml", after=20_000)
    kill_point(
        "A answered, B half sent",
        lambda: hold.reached.is_set() and len(feed_server.hits_for("/a.xml")) > answered,
        hold,
    )
    # A's batch committed, B still in the middle
    before = _last_success(workspace, "A")
    hold = feed_server.hold("/b.xml", after=20_000)
    kill_point(
        "A committed, B half sent",
        lambda: hold.reached.is_set() and _last_success(workspace, "A") != before,
        hold,
    )
    # both read whole: matching, writing, reserving the digest
    answered = len(feed_server.hits_for("/b.xml"))
    kill_point("B answered", lambda: len(feed_server.hits_for("/b.xml")) > answered)
    # the digest whole at the SMTP server, killed before the server answers (it refuses)
    arrived: list[object] = []

    def refuse_after_kill(message: object) -> None:
        arrived.append(message)
        inbox.refuse = True

    inbox.on_data = refuse_after_kill
    kill_point("the digest reached the SMTP server", lambda: bool(arrived))
    inbox.on_data, inbox.refuse = None, False
    assert smtp_server.messages == []

    final = veille("run", "--all")
    assert final.code == 0, final.err
    flushed = veille("digest")
    assert flushed.code == 0, flushed.err
    _check(workspace, smtp_server)


def test_kill_between_smtp_acceptance_and_the_mark_resends_the_same_digest(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace, veille: Veille
) -> None:
    _two_feeds(feed_server, smtp_server, workspace)
    process = veille.start("run", "--all")
    inbox = smtp_server.inbox

    def kill(message: object) -> None:
        os.kill(process.pid, signal.SIGKILL)  # the server has the digest; veille never marks it

    inbox.on_accepted = kill
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    inbox.on_accepted = None
    assert len(smtp_server.digests()) == 1  # no urgent words here: the first email is the digest

    again = veille("run")
    assert again.code == 0, again.err
    digests = _digest_urls(smtp_server)
    assert len(digests) == 1  # one Message-ID …
    [copies] = digests.values()
    assert len(copies) == 2  # … received twice: the one unavoidable, recognisable duplicate
    _check(workspace, smtp_server)
