"""`veille daemon` as systemd runs it, in a child process (signals are the point):
collects at start, sends a missed digest, stops cleanly on SIGTERM and SIGINT, at once
when a cycle is fetching. Signals are sent when something observable happened (a digest received,
a request held mid-answer), never after a guessed sleep."""

from __future__ import annotations

import signal
import subprocess
import threading
import time

import pytest

from tests.conftest import FeedServer, SmtpServer, Veille, Workspace
from veille.scheduler import STOP_WITHIN


def _start(veille: Veille) -> subprocess.Popen[str]:
    return veille.start("daemon", stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_daemon_first_collects_then_sends_the_missed_digest(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace, veille: Veille
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")}],
        smtp=smtp_server,
        at="00:00",
    )
    received = threading.Event()
    smtp_server.inbox.on_accepted = lambda message: received.set()
    daemon = _start(veille)
    try:
        # the digest missed "since 00:00" goes out after a first collection, never before
        if not received.wait(30):
            daemon.kill()
            pytest.fail("no digest at start: " + daemon.communicate()[1][-3000:])
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=15)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, err
    assert len(smtp_server.digests()) == 1
    subject = str(smtp_server.digests()[0]["Subject"])
    assert subject.startswith("Veille — 4 nouvelles mentions"), subject
    assert len(feed_server.hits_for("/express.xml")) == 1


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_daemon_stops_cleanly_in_the_middle_of_a_cycle(
    feed_server: FeedServer,
    smtp_server: SmtpServer,
    workspace: Workspace,
    veille: Veille,
    stop: int,
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    feed_server.add_file("/slow.xml", "cp1252.xml")
    slow = feed_server.hold("/slow.xml")  # its answer stops after the headers
    workspace.write(
        [
            {
                "name": "Journal",
                "type": "feed",
                "url": feed_server.url("/express.xml"),
                "every": "1h",
            },
            {"name": "Lent", "type": "feed", "url": feed_server.url("/slow.xml"), "every": "1h"},
        ],
        smtp=smtp_server,
        at="00:00",
    )
    text = workspace.config.read_text(encoding="utf-8").replace("  timeout: 3s", "  timeout: 30s")
    workspace.config.write_text(text, encoding="utf-8")
    daemon = _start(veille)
    try:
        assert feed_server.wait_answered("/express.xml")
        assert slow.reached.wait(30)
        # the slow source is now mid-fetch: stop in the middle of the first cycle
        started = time.monotonic()
        daemon.send_signal(stop)
        out, err = daemon.communicate(timeout=15)
        # the fetch is cancelled: no waiting out STOP_WITHIN for the slow source
        assert time.monotonic() - started < STOP_WITHIN / 2
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, err
    assert "Traceback" not in err
    assert "arrêt de veille" in err
    assert "Cycle abandonné à l'arrêt" in err and "arrêté proprement" in err
    with workspace.connect() as db:
        assert db.exec_driver_sql("select count(*) from mentions").fetchone()[0] == 4
        keys = [r[0] for r in db.exec_driver_sql("select key from items")]
        assert len(keys) == len(set(keys)) == 7
        if workspace.sqlite:
            assert db.exec_driver_sql("pragma integrity_check").fetchone()[0] == "ok"
    assert smtp_server.digests() == []  # the cycle was abandoned before its digest


def test_daemon_serves_the_workspace_when_config_has_a_web_block(
    feed_server: FeedServer, smtp_server: SmtpServer, workspace: Workspace, veille: Veille
) -> None:
    import urllib.request

    from tests.conftest import free_port

    feed_server.add_file("/express.xml", "express.xml")
    port = free_port()
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")}],
        smtp=smtp_server,
        at="00:00",
        extra=f"web:\n  host: 127.0.0.1\n  port: {port}",
    )
    received = threading.Event()
    smtp_server.inbox.on_accepted = lambda message: received.set()
    daemon = _start(veille)
    try:
        assert received.wait(30), "no digest at start"  # the daemon's cycle ran
        page = None
        deadline = time.monotonic() + 20
        while page is None and time.monotonic() < deadline:  # the server's thread starts
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion") as answer:
                    page = answer.read().decode("utf-8")
            except OSError:
                time.sleep(0.1)
        assert page is not None and 'id="form-connexion"' in page
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=15)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, err
    with pytest.raises(OSError):  # stopped with the daemon
        urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion", timeout=2)
