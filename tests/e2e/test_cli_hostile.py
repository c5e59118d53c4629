"""The command line against what goes wrong around it: hostile text in the store,
spreadsheets that run formulas, a store that cannot be used, a second daemon, a pipe
closed early; and what it says about outlets, rejected items and sources that wait.

In process (``main([...])`` with capsys), except where a pipe, a lock between processes or
the daemon is the point.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update

from storage.models import SourceRow
from tests.conftest import (
    FeedServer,
    Workspace,
    child_environment,
    free_port,
    run_veille,
    start_veille,
)
from veille.cli import EXIT_STORAGE, EXIT_USAGE, configure_logging, main

ZONE = ZoneInfo("America/Montreal")
HOSTILE = "Titre\u202e piégé\x1b[2J\nFAUSSE LIGNE\u2066"  # bidi override, ANSI escape, line break


def _rss(items: str) -> str:
    """A feed without a channel title: an item names its outlet itself, or has none."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<link>https://journal.test/</link>{items}</channel></rss>"
    )


def _item(title: str, link: str, extra: str = "") -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link>"
        f"<pubDate>Sat, 28 Nov 2026 10:00:00 GMT</pubDate>"
        f"<description>{title}</description>{extra}</item>"
    )


def _veille(
    capsys: pytest.CaptureFixture[str], workspace: Workspace, *args: str
) -> tuple[int, str, str]:
    code = main(["--config", str(workspace.config), *args])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def _sql(workspace: Workspace, query: str, **params: object) -> list[tuple[object, ...]]:
    with workspace.connect() as connection:
        result = connection.execute(text(query), params)
        return [tuple(row) for row in result] if result.returns_rows else []


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Workspace:
    """These tests are about SQLite files (corrupt, read-only, missing folder)."""
    return Workspace(tmp_path, f"sqlite:///{tmp_path / 'veille.db'}")


@pytest.fixture
def journal(
    feed_server: FeedServer, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> Workspace:
    """A store with two mentions: one whose item names its outlet, one that does not."""
    items = _item(
        "Le Cégep de Drummondville inaugure son pavillon",
        "https://nouvelliste.test/pavillon",
        '<source url="https://nouvelliste.test/rss">Le Nouvelliste</source>',
    ) + _item("Plainte contre le Cégep de Drummondville", "https://blogue.test/plainte")
    feed_server.add("/agregateur.xml", _rss(items))
    workspace.write(
        [{"name": "Agrégateur", "type": "feed", "url": feed_server.url("/agregateur.xml")}],
        at="23:59",
    )
    assert _veille(capsys, workspace, "run")[0] == 0
    return workspace


# --- 1. outlet ------------------------------------------------------------------------


def test_mentions_json_and_csv_give_the_outlet_or_nothing(
    journal: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _veille(capsys, journal, "mentions", "--format", "json")
    assert code == 0
    outlets = {row["url"]: row["outlet"] for row in json.loads(out)}
    assert outlets == {
        "https://nouvelliste.test/pavillon": "Le Nouvelliste",
        "https://blogue.test/plainte": None,
    }
    rows = list(
        csv.DictReader(io.StringIO(_veille(capsys, journal, "mentions", "--format", "csv")[1]))
    )
    assert {row["url"]: row["outlet"] for row in rows} == {
        "https://nouvelliste.test/pavillon": "Le Nouvelliste",
        "https://blogue.test/plainte": "",
    }
    table = _veille(capsys, journal, "mentions")[1]
    assert "Média" in table and "Le Nouvelliste" in table


# --- 2. rejected items ------------------------------------------------------------------


def test_sources_show_rejected_items_and_the_last_reason(
    journal: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(
        journal,
        "update sources set items_rejected = 3, last_rejection = :why",
        why="lien invalide (javascript:)",
    )
    code, table, _ = _veille(capsys, journal, "sources")
    assert code == 0
    assert "Rejetés" in table.splitlines()[0]
    assert "Éléments rejetés" in table
    assert (
        "Agrégateur : 3 élément(s) rejeté(s) — dernier motif : lien invalide (javascript:)" in table
    )
    rows = json.loads(_veille(capsys, journal, "sources", "--format", "json")[1])
    assert rows[0]["items_rejected"] == 3
    assert rows[0]["last_rejection"] == "lien invalide (javascript:)"


# --- 3. sources that wait ---------------------------------------------------------------


def test_run_all_says_which_source_waits_and_until_when(
    feed_server: FeedServer, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    feed_server.add("/rss/search", "trop vite", status=429, headers={"Retry-After": "7200"})
    workspace.write(
        [
            {"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")},
            {
                "name": "Pressé",
                "type": "search",
                "engine": "google_news",
                "query": "Cégep de Drummondville",
                "url": feed_server.base,
            },
        ],
        at="23:59",
    )
    assert _veille(capsys, workspace, "run")[0] == 1
    rows = {
        r["name"]: r
        for r in json.loads(_veille(capsys, workspace, "sources", "--format", "json")[1])
    }
    asked = datetime.fromisoformat(rows["Pressé"]["next_attempt_at"])
    assert rows["Pressé"]["next_visit_at"] == rows["Pressé"]["next_attempt_at"]

    code, out, _ = _veille(capsys, workspace, "run", "--all")

    assert code == 0
    local = asked.astimezone(ZONE)
    line = next(x for x in out.splitlines() if "Pressé" in x)
    assert "Pressé : en attente jusqu'à " in line
    assert f"{local:%H:%M} (erreur HTTP 429 (trop de requêtes)" in line
    assert len(feed_server.hits_for("/rss/search")) == 1  # left alone
    table = _veille(capsys, workspace, "sources")[1]
    assert "Prochaine visite" in table.splitlines()[0]
    assert f"{local:%H:%M}" in next(x for x in table.splitlines() if x.startswith("Pressé"))


def test_sources_tell_when_a_failing_source_is_tried_again(
    journal: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    with journal.connect() as connection:  # through the model: its UTC column type applies
        connection.execute(
            update(SourceRow).values(consecutive_failures=3, last_attempt_at=now, last_error="boom")
        )
    rows = json.loads(_veille(capsys, journal, "sources", "--format", "json")[1])
    due = datetime.fromisoformat(rows[0]["next_visit_at"])
    # every 1h, three failures in a row: visited again 4 h later (back-off), minus the slack
    assert timedelta(hours=3, minutes=58) < due - now < timedelta(hours=4)
    table = _veille(capsys, journal, "sources")[1]
    row = next(x for x in table.splitlines() if x.startswith("Agrégateur"))
    assert due.astimezone(ZONE).strftime("%H:%M") in row


# --- 4. CSV and Excel ---------------------------------------------------------------------


FORMULAS = {
    "title": '=HYPERLINK("https://evil.test";"Cégep de Drummondville")',
    "snippet": "+1+cmd|' /C calc'!A0",
    "matched": "@SUM(A1:A9)",
    "url": "-2+3",
}


def _plant_formulas(workspace: Workspace) -> None:
    _sql(
        workspace,
        "update mentions set title = :title, snippet = :snippet, matched = :matched, url = :url "
        "where outlet = 'Le Nouvelliste'",
        **FORMULAS,
    )
    _sql(workspace, "update mentions set title = :t where outlet is null", t="\tTabulé\rretour")


def test_csv_cells_that_look_like_formulas_are_neutralised(
    journal: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    _plant_formulas(journal)
    out = _veille(capsys, journal, "mentions", "--format", "csv")[1]
    rows = list(csv.DictReader(io.StringIO(out)))
    planted = next(r for r in rows if r["outlet"] == "Le Nouvelliste")
    for field, value in FORMULAS.items():
        assert planted[field] == "'" + value
    other = next(r for r in rows if r["outlet"] == "")
    assert other["title"] == "'\tTabulé\nretour"  # a lone CR would cut the row in two
    assert planted["source"] == "Agrégateur"  # the rest is as it was
    assert out.startswith("id,url,title,")


def test_excel_format_opens_cleanly_in_a_french_excel(
    journal: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    _plant_formulas(journal)
    found = {
        m["outlet"] or "": datetime.fromisoformat(m["found_at"])
        for m in json.loads(_veille(capsys, journal, "mentions", "--format", "json")[1])
    }

    out = _veille(capsys, journal, "mentions", "--format", "excel")[1]

    assert out.startswith("\ufeff")  # written as the bytes EF BB BF: Excel reads accents right
    body = out.removeprefix("\ufeff")
    assert body.count("\r\n") == 3  # header and two rows, Windows line ends
    rows = list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))
    header = rows[0]
    assert header[:4] == ["N°", "Titre", "Média", "Source"]
    assert {"Urgent", "Trouvée le", "Publiée le", "Lien", "Extrait", "Statut"} <= set(header)
    by_outlet = {row[2]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    planted, other = by_outlet["Le Nouvelliste"], by_outlet[""]
    assert planted["Titre"] == "'" + FORMULAS["title"]
    assert planted["Extrait"] == "'" + FORMULAS["snippet"]
    assert planted["Lien"] == "'" + FORMULAS["url"]
    assert other["Titre"] == "Tabulé retour"  # one line in a cell
    assert (planted["Urgent"], other["Urgent"]) == ("non", "oui")
    assert planted["Source"] == "Agrégateur"
    local = found["Le Nouvelliste"].astimezone(ZONE)
    assert planted["Trouvée le"] == f"{local:%Y-%m-%d %H:%M}"
    assert planted["Publiée le"] == "2026-11-28 05:00"  # 10:00 GMT, local time of Montréal


def test_csv_keeps_its_own_shape_and_excel_is_a_new_choice(
    journal: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _veille(capsys, journal, "mentions", "--format", "csv")[1]
    assert not out.startswith("\ufeff") and "\r\n" not in out
    code = main(["--config", str(journal.config), "mentions", "--format", "tableur"])
    assert code == 2
    assert "excel" in capsys.readouterr().err


# --- 5. storage errors ---------------------------------------------------------------------

COMMANDS = (
    ("run",),
    ("digest",),
    ("triage", "1", "--status", "traité"),
    ("mentions",),
    ("sources",),
    ("rescan",),
)


def _one_line_storage_error(
    capsys: pytest.CaptureFixture[str], workspace: Workspace, *args: str
) -> str:
    code, _, err = _veille(capsys, workspace, *args)
    assert code == EXIT_STORAGE, (args, err)
    lines = [line for line in err.splitlines() if line.startswith("veille : ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_corrupt_database_is_one_line_and_exit_3(
    sqlite_workspace: Workspace, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    sqlite_workspace.write([{"name": "J", "type": "feed", "url": "http://127.0.0.1:9/x.xml"}])
    sqlite_workspace.db.write_bytes(b"ceci n'est pas une base SQLite\x00" * 200)

    line = _one_line_storage_error(capsys, sqlite_workspace, *command)

    assert str(sqlite_workspace.db) in line
    assert "endommagée" in line and "sauvegarde" in line


def _read_only(workspace: Workspace) -> None:
    """The same store opened read-only by SQLite itself (as root, chmod stops nothing)."""
    config = workspace.config.read_text(encoding="utf-8")
    workspace.config.write_text(
        config.replace(
            f'url: "{workspace.storage_url}"',
            f'url: "sqlite+pysqlite:///file:{workspace.db}?mode=ro&uri=true"',
        ),
        encoding="utf-8",
    )


def test_a_read_only_database_refuses_writes_with_one_line_and_exit_3(
    feed_server: FeedServer, sqlite_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    sqlite_workspace.write(
        [{"name": "J", "type": "feed", "url": feed_server.url("/express.xml")}], at="23:59"
    )
    assert _veille(capsys, sqlite_workspace, "run")[0] == 0
    _read_only(sqlite_workspace)

    assert _veille(capsys, sqlite_workspace, "mentions")[0] == 0  # reading still works
    for command in (("run", "--all"), ("triage", "1", "--status", "traité"), ("digest",)):
        line = _one_line_storage_error(capsys, sqlite_workspace, *command)
        assert "lecture seule" in line and "veille.db" in line, line

    code, out, err = _veille(capsys, sqlite_workspace, "check")
    assert code == EXIT_STORAGE
    assert "lecture seule" in err and "inutilisable" in out


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_missing_database_folder_is_one_line_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    missing = tmp_path / "nulle-part"
    workspace = Workspace(tmp_path, f"sqlite:///{missing / 'veille.db'}")
    workspace.write([{"name": "J", "type": "feed", "url": "http://127.0.0.1:9/x.xml"}])

    line = _one_line_storage_error(capsys, workspace, *command)

    assert str(missing) in line and "introuvable" in line
    assert not missing.exists()


def test_a_lock_that_cannot_be_created_is_a_storage_error(
    sqlite_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite_workspace.write([{"name": "J", "type": "feed", "url": "http://127.0.0.1:9/x.xml"}])
    (sqlite_workspace.path / "veille.db.lock").mkdir()  # where the run lock goes

    line = _one_line_storage_error(capsys, sqlite_workspace, "run")

    assert "verrou" in line and "veille.db.lock" in line


def test_an_unreachable_database_server_is_one_line_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql+psycopg://veille:secret@127.0.0.1:{free_port()}/veille"
    workspace = Workspace(tmp_path, url)
    workspace.write([{"name": "J", "type": "feed", "url": "http://127.0.0.1:9/x.xml"}])

    line = _one_line_storage_error(capsys, workspace, "mentions")

    assert "injoignable" in line and "127.0.0.1" in line and "secret" not in line
    code, out, err = _veille(capsys, workspace, "check")
    assert code == EXIT_STORAGE and "injoignable" in err and "secret" not in out + err


# --- 5b. veille check looks at the store and the folders -------------------------------------


def test_check_says_the_store_and_folders_are_writable(
    journal: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _veille(capsys, journal, "check")
    assert code == 0
    assert "accessible en écriture" in next(x for x in out.splitlines() if x.startswith("Base : "))
    assert f"Dossier d'envoi (outbox) : {journal.outbox} accessible en écriture." in out
    assert "Attention" not in out


def test_check_warns_of_an_unusable_outbox_and_creates_missing_folders(
    sqlite_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite_workspace.write(
        [{"name": "J", "type": "feed", "url": "http://127.0.0.1:9/x.xml"}],
        extra="outbox: envois/du/jour",
    )
    code, out, _ = _veille(capsys, sqlite_workspace, "check")
    assert code == 0
    assert (sqlite_workspace.path / "envois" / "du" / "jour").is_dir()
    # nothing is created for the database itself: it is made by the first run
    assert not sqlite_workspace.db.exists()
    assert f"Base : {sqlite_workspace.db} (SQLite) sera créée au premier lancement." in out

    (sqlite_workspace.path / "envois" / "du" / "jour").rmdir()
    (sqlite_workspace.path / "envois" / "du" / "jour").write_text("un fichier, pas un dossier")
    code, out, _ = _veille(capsys, sqlite_workspace, "check")
    assert code == 0  # a warning: the store itself is fine
    warning = next(x for x in out.splitlines() if x.startswith("Attention : dossier d'envoi"))
    assert "envois/du/jour" in warning and "inutilisable" in warning


def test_check_exits_3_on_a_corrupt_store(
    sqlite_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite_workspace.write([{"name": "J", "type": "feed", "url": "http://127.0.0.1:9/x.xml"}])
    sqlite_workspace.db.write_bytes(b"\x00garbage" * 500)
    code, out, err = _veille(capsys, sqlite_workspace, "check")
    assert code == EXIT_STORAGE
    assert "configuration valide" in out  # the rest is still checked and shown
    assert "endommagée" in err and str(sqlite_workspace.db) in err


# --- 6. a second daemon ------------------------------------------------------------------


def _lines_of(stream: IO[str]) -> tuple[list[str], threading.Thread]:
    lines: list[str] = []

    def read() -> None:
        for line in stream:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, reader


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def first_daemon(feed_server: FeedServer, workspace: Workspace) -> Iterator[subprocess.Popen[str]]:
    feed_server.add_file("/express.xml", "express.xml")
    workspace.write([{"name": "J", "type": "feed", "url": feed_server.url("/express.xml")}])
    daemon = start_veille(
        "--config", str(workspace.config), "daemon", cwd=workspace.path, stderr=subprocess.PIPE
    )
    assert daemon.stderr is not None
    lines, reader = _lines_of(daemon.stderr)
    try:
        if not _wait_for(lambda: any("veille daemon démarré" in x for x in lines)):
            pytest.fail("first daemon did not start: " + "".join(lines)[-3000:])
        yield daemon
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        reader.join(timeout=5)
        daemon.stderr.close()


def test_a_second_daemon_on_the_same_store_refuses_to_start(
    first_daemon: subprocess.Popen[str], workspace: Workspace
) -> None:
    second = run_veille("--config", str(workspace.config), "daemon", cwd=workspace.path, timeout=60)

    assert second.code == 2, second.err
    assert "un autre veille daemon tourne déjà sur cette base (verrou " in second.err
    assert "Traceback" not in second.err
    assert first_daemon.poll() is None  # the first one goes on


# --- 7. a pipe closed early -------------------------------------------------------------


def _read_one_line_then_close(workspace: Workspace, *args: str) -> tuple[str, int, str]:
    writer = start_veille(
        "--config",
        str(workspace.config),
        *args,
        cwd=workspace.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=False,
    )
    assert writer.stdout is not None and writer.stderr is not None
    with writer.stderr:
        first = writer.stdout.readline().decode("utf-8")
        writer.stdout.close()  # like head -1: the reader goes away, the writer has more to say
        err = writer.stderr.read().decode("utf-8")
    return first, writer.wait(timeout=60), err


BIG = "x" * 400_000  # far beyond what a pipe holds: the writer must meet the closed end


def test_mentions_into_a_pipe_closed_early_exit_0_without_traceback(
    journal: Workspace,
) -> None:
    _sql(journal, "update mentions set snippet = :big", big=BIG)
    first, code, err = _read_one_line_then_close(journal, "mentions", "--format", "json")
    assert first.strip() == "["
    assert code == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def test_sources_into_a_pipe_closed_early_exit_0_without_traceback(journal: Workspace) -> None:
    _sql(journal, "update sources set last_error = :big, consecutive_failures = 1", big=BIG)
    first, code, err = _read_one_line_then_close(journal, "sources", "--format", "json")
    assert first.strip() == "["
    assert code == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def test_match_file_into_a_pipe_closed_early_exit_0_without_traceback(
    workspace: Workspace,
) -> None:
    workspace.write([{"name": "J", "type": "feed", "url": "http://127.0.0.1:9/x.xml"}])
    texts = workspace.path / "textes.jsonl"
    line = json.dumps({"id": 0, "text": "Bravo au Cégep de Drummondville " + "x" * 200})
    texts.write_text((line + "\n") * 6000, encoding="utf-8")
    first, code, err = _read_one_line_then_close(workspace, "match", "--file", str(texts))
    assert json.loads(first)["matched"] is True
    assert code == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def test_a_short_output_into_a_pipe_already_closed_exits_0_without_traceback(
    journal: Workspace,
) -> None:
    """Short output stays in Python's buffer until exit: the closed pipe shows then."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before veille writes anything
    try:
        done = subprocess.run(
            [sys.executable, "-m", "veille", "--config", str(journal.config), "mentions"],
            cwd=journal.path,
            env=child_environment(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert "BrokenPipe" not in done.stderr and "Exception ignored" not in done.stderr


# --- 8. the demo keeps its store ---------------------------------------------------------


def test_demo_keeps_its_workspace_and_says_what_to_try_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ma-demo"
    assert main(["demo", "--dir", str(folder)]) == 0
    out = capsys.readouterr().out
    config = folder / "config.yaml"
    assert config.is_file() and (folder / "veille.db").is_file()
    assert len(list((folder / "outbox").glob("*.eml"))) == 4
    for command in ("mentions", "rescan", "triage 1 --status traité"):
        assert f"veille --config {config} {command}" in out
    assert "créé" in out

    assert main(["--config", str(config), "mentions", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 15  # 7 on the web, 8 comments
    assert main(["--config", str(config), "triage", "1", "--status", "traité"]) == 0
    capsys.readouterr()

    # again: the same tour, from a fresh store, in the same folder
    assert main(["demo", "--dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "remis à neuf" in out and "15 mentions trouvées" in out
    assert len(list((folder / "outbox").glob("*.eml"))) == 4
    assert (
        main(["--config", str(config), "mentions", "--status", "traité", "--format", "json"]) == 0
    )
    assert json.loads(capsys.readouterr().out) == []


def test_demo_never_touches_a_folder_with_a_real_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "config.yaml"
    real.write_text("brand: {name: Cégep}\n", encoding="utf-8")
    (tmp_path / "veille.db").write_bytes(b"precious")

    assert main(["demo", "--dir", str(tmp_path)]) == 2

    assert "n'est pas celui de la démo" in capsys.readouterr().err
    assert real.read_text(encoding="utf-8") == "brand: {name: Cégep}\n"
    assert (tmp_path / "veille.db").read_bytes() == b"precious"


def test_demo_outbox_option_still_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outbox = tmp_path / "courriels"
    assert main(["demo", "--dir", str(tmp_path / "d"), "--outbox", str(outbox)]) == 0
    assert str(outbox) in capsys.readouterr().out
    assert len(list(outbox.glob("*.eml"))) == 4
    assert not (tmp_path / "d" / "outbox").exists()


# --- 9. hostile text in the terminal and the log ------------------------------------------


def test_tables_show_titles_and_errors_without_control_or_bidi_characters(
    journal: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(journal, "update mentions set title = :t, matched = :t", t=HOSTILE)
    _sql(journal, "update sources set last_error = :t, consecutive_failures = 1", t=HOSTILE)
    mentions = _veille(capsys, journal, "mentions")[1]
    sources = _veille(capsys, journal, "sources")[1]
    for table in (mentions, sources):
        for bad in ("\u202e", "\u2066", "\x1b", "\r"):
            assert bad not in table
        assert not any(line.startswith("FAUSSE") for line in table.splitlines())
    assert sum("Titre piégé[2J FAUSSE" in line for line in mentions.splitlines()) == 2
    assert sum("Titre piégé[2J FAUSSE" in line for line in sources.splitlines()) == 1


def test_log_lines_stay_one_line_without_control_or_bidi_characters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import logging

    configure_logging("INFO", "text")
    try:
        logging.getLogger("veille.pipeline").warning("Alerte urgente envoyée : %s", HOSTILE)
        logging.getLogger("veille.pipeline").info("multi\nligne\u202e")
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("Alerte urgente envoyée : Titre piégé[2J FAUSSE LIGNE")
    assert lines[1].endswith("multi ligne")


# --- 10. systemd and cron -------------------------------------------------------------------


def test_service_and_cron_files_agree_on_one_layout() -> None:
    contrib = Path(__file__).resolve().parents[2] / "contrib"
    service = (contrib / "veille.service").read_text(encoding="utf-8")
    cron = (contrib / "veille.cron").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in service.splitlines() if "=" in line and line[:1].isupper()
    )
    assert settings["ExecStart"].startswith("/opt/veille/venv/bin/veille ")
    assert settings["ExecStart"].endswith(" daemon")
    assert settings["Restart"] == "on-failure"
    assert settings["RestartPreventExitStatus"] == str(EXIT_USAGE)  # a config error: no loop
    assert settings["StateDirectory"] == "veille"  # /var/lib/veille
    assert settings["WorkingDirectory"] == settings["ReadWritePaths"] == "/var/lib/veille"
    assert settings["Environment"] == "VEILLE_CONFIG=/etc/veille/config.yaml"
    assert settings["EnvironmentFile"] == "-/etc/veille/secrets.env"
    # the install steps in the comments use the same places
    for step in (
        "useradd --system",
        "python3 -m venv /opt/veille/venv",
        "/opt/veille/venv/bin/pip install",
        "/opt/veille/venv/bin/veille init /etc/veille",
        "url: sqlite:////var/lib/veille/veille.db",
        "install -m 600 /dev/null /etc/veille/secrets.env",
        "systemctl enable --now veille",
    ):
        assert step in service, step
    for text_ in (service, cron):
        for word in text_.split():
            if "/opt/veille" in word:
                assert "/opt/veille/venv" in word, word
    assert "VEILLE_CONFIG=/etc/veille/config.yaml" in cron
    assert "/opt/veille/venv/bin/veille run >> /var/lib/veille/veille.log" in cron
