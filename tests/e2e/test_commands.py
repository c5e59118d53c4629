"""`veille mentions` and SMTP login, as a user runs them; the two real ways to start
the command (the console script and ``python -m veille``)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import (
    FeedServer,
    SmtpServer,
    Workspace,
    _Inbox,
    child_environment,
    free_port,
    run_veille,
)
from veille import __version__


@pytest.fixture
def filled(feed_server: FeedServer, workspace: Workspace, veille) -> Workspace:
    feed_server.add_file("/express.xml", "express.xml")
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")}], at="23:59"
    )
    assert veille("run").code == 0
    return workspace


def test_mentions_json_has_the_public_fields(filled: Workspace, veille) -> None:
    rows = json.loads(veille("mentions", "--format", "json").out)
    assert len(rows) == 4
    for row in rows:
        for key in (
            "id",
            "url",
            "title",
            "source",
            "source_type",
            "published_at",
            "found_at",
            "matched",
            "score",
            "snippet",
            "status",
            "urgent",
            "outlet",
        ):
            assert key in row
        assert row["source"] == "Journal" and row["source_type"] == "feed"
        assert row["status"] == "nouveau"
        assert row["found_at"].endswith("+00:00")
    urgent = [r for r in rows if r["urgent"]]
    assert [r["title"] for r in urgent] == ["Plainte contre le Cegep Drummondville"]
    assert {r["matched"] for r in rows} >= {"Cégep de Drummondville", "Cegep Drummondville"}


def test_mentions_csv_table_and_filters(filled: Workspace, veille) -> None:
    table = veille("mentions").out
    assert "Forme trouvée" in table and "URGENT nouveau" in table
    reader = list(csv.DictReader(io.StringIO(veille("mentions", "--format", "csv").out)))
    assert len(reader) == 4 and reader[0]["status"] == "nouveau"
    assert json.loads(veille("mentions", "--since", "1h", "--format", "json").out) != []
    future = veille("mentions", "--since", "2999-01-01", "--format", "json")
    assert json.loads(future.out) == []
    assert json.loads(veille("mentions", "--status", "exclu", "--format", "json").out) == []
    assert "Aucune mention" in veille("mentions", "--since", "2999-01-01").out


class _Authenticator:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        pair = (auth_data.login.decode(), auth_data.password.decode())
        self.seen.append(pair)
        return AuthResult(success=pair == ("veille", "s3cret"))


def test_smtp_login_uses_the_password_from_the_environment(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    inbox, auth = _Inbox(), _Authenticator()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False
    )
    controller.start()
    try:
        server = SmtpServer("127.0.0.1", port, inbox, controller)
        workspace.write(
            [{"name": "J", "type": "feed", "url": feed_server.url("/express.xml")}], smtp=server
        )
        text = workspace.config.read_text(encoding="utf-8").replace(
            "  timeout: 5s",
            "  timeout: 5s\n  username: veille\n  password_env: VEILLE_SMTP_PASSWORD",
        )
        workspace.config.write_text(text, encoding="utf-8")

        missing = veille("run")
        assert missing.code == 1
        assert "VEILLE_SMTP_PASSWORD" in missing.err and "n'est pas définie" in missing.err
        assert "s3cret" not in missing.err

        right = veille("digest", env={"VEILLE_SMTP_PASSWORD": "s3cret"})
        assert right.code == 0, right.err
        assert ("veille", "s3cret") in auth.seen
        assert any("4 nouvelles mentions" in str(m["Subject"]) for m in inbox.messages)
        assert "s3cret" not in right.err + right.out
    finally:
        controller.stop()


def test_the_console_script_and_python_m_veille_start_main(tmp_path: Path) -> None:
    """In child processes, the only CLI tests here that are: the ``veille`` script pip
    installs beside this Python, and ``python -m veille``, each with its exit status."""
    script = Path(sys.executable).parent / "veille"
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable} (veille not installed there)")
    done = subprocess.run(
        [str(script), "--version"],
        cwd=tmp_path,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"veille {__version__}"), done.stderr
    missing = run_veille("--config", str(tmp_path / "absent.yaml"), "check", cwd=tmp_path)
    assert missing.code == 2, missing.err
    assert "Traceback" not in missing.err and "absent.yaml" in missing.err
