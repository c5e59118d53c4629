"""The workspace's domain from the command line: users and API tokens never stored
as given, triage with « en cours » recorded in an append-only history, sites ignored
by hand applied to new items and by ``veille rescan``, and the inbox's filters."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from storage.db import open_database
from storage.store import MentionStore
from storage.workspace import UNCHANGED, MentionFilter
from tests.conftest import FeedServer, Result, Workspace
from veille.users import token_digest, verify_password

NAMED = "Le Cégep de Drummondville inaugure son pavillon des sciences appliquées"
OTHER = "Portes ouvertes au Cégep de Drummondville samedi prochain pour les futurs"


def _rss(*items: tuple[str, str]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        "<pubDate>Sat, 28 Nov 2026 10:00:00 GMT</pubDate></item>"
        for title, link in items
    )
    channel = f"<channel><title>J</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def _store(workspace: Workspace) -> MentionStore:
    return MentionStore(open_database(workspace.storage_url))


@pytest.fixture
def journal(feed_server: FeedServer, workspace: Workspace) -> Workspace:
    feed_server.add(
        "/j.xml", _rss((NAMED, "https://journal.test/a"), (OTHER, "https://blogue.test/b"))
    )
    workspace.write([{"name": "Journal", "type": "feed", "url": feed_server.url("/j.xml")}])
    return workspace


def test_users_are_added_with_a_hashed_password_listed_changed_and_removed(
    workspace: Workspace, veille: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.write([{"name": "J", "type": "feed", "url": "https://journal.test/f.xml"}])
    monkeypatch.setattr("sys.stdin", io.StringIO("un mot de passe solide\n"))
    added = veille("user", "add", "Marie@Cegep.example", "--role", "éditeur", "--password-stdin")
    assert added.code == 0, added.err
    user = _store(workspace).user("marie@cegep.example")
    assert user is not None and user.role == "éditeur"
    assert user.password_hash and "solide" not in user.password_hash
    assert verify_password(user.password_hash, "un mot de passe solide")

    assert "marie@cegep.example" in veille("user", "list").out
    monkeypatch.setattr("sys.stdin", io.StringIO("court\n"))
    short = veille("user", "passwd", "marie@cegep.example", "--password-stdin")
    assert short.code == 2 and "trop court" in short.err
    monkeypatch.setattr("sys.stdin", io.StringIO("un autre mot de passe\n"))
    assert veille("user", "passwd", "marie@cegep.example", "--password-stdin").code == 0
    user = _store(workspace).user("marie@cegep.example")
    assert user is not None and user.password_hash
    assert verify_password(user.password_hash, "un autre mot de passe")

    monkeypatch.setattr("sys.stdin", io.StringIO("un mot de passe solide\n"))
    again = veille("user", "add", "marie@cegep.example", "--password-stdin")
    assert again.code == 2 and "existe déjà" in again.err
    bad_role = veille("user", "add", "x@cegep.example", "--role", "chef", "--password-stdin")
    assert bad_role.code == 2 and "rôle inconnu" in bad_role.err
    assert veille("user", "remove", "marie@cegep.example").code == 0
    assert _store(workspace).users() == []


def test_an_api_token_is_printed_once_and_kept_as_a_digest(
    workspace: Workspace, veille: Callable[..., Result]
) -> None:
    workspace.write([{"name": "J", "type": "feed", "url": "https://journal.test/f.xml"}])
    made = veille("token", "add", "Teams", "--role", "lecteur")
    assert made.code == 0, made.err
    token = made.out.strip()
    assert token.startswith("veille_") and len(token) > 40
    assert "ne sera plus" in made.err
    found = _store(workspace).token(token_digest(token))
    assert found is not None and found.name == "Teams"
    with workspace.connect() as db:
        stored = db.exec_driver_sql("select digest from api_tokens").scalar()
    assert stored == token_digest(token) and token not in str(stored)
    listed = veille("token", "list")
    assert "Teams" in listed.out and token not in listed.out
    assert veille("token", "remove", "Teams").code == 0
    assert _store(workspace).token(token_digest(token)) is None


def test_triage_en_cours_is_recorded_in_the_history(
    journal: Workspace, veille: Callable[..., Result]
) -> None:
    assert veille("run").code == 0
    mentions = json.loads(veille("mentions", "--format", "json").out)
    first = mentions[0]["id"]
    assert veille("triage", str(first), "--status", "en cours").code == 0
    assert veille("triage", str(first), "--status", "traité").code == 0
    detail = _store(journal).detail(first)
    assert detail is not None and detail.mention.status == "traité"
    assert [(e.field, e.before, e.after) for e in detail.history] == [
        ("status", "nouveau", "en cours"),
        ("status", "en cours", "traité"),
    ]
    assert all(e.actor for e in detail.history)
    en_cours = veille("mentions", "--status", "en cours")
    assert en_cours.code == 0 and "Aucune mention" in en_cours.out


def test_an_ignored_site_is_applied_to_new_items_and_by_rescan(
    journal: Workspace, feed_server: FeedServer, veille: Callable[..., Result]
) -> None:
    assert veille("run").code == 0
    added = veille("exclusions", "add", "https://www.blogue.test/x", "--reason", "hors sujet")
    assert added.code == 0 and "blogue.test ignoré" in added.out
    listed = veille("exclusions", "list", "--format", "yaml")
    assert listed.out.startswith('- "blogue.test"  # hors sujet')

    rescanned = veille("rescan")
    assert "1 mention(s) marquée(s) « exclu »" in rescanned.out
    by_url = {m["url"]: m["status"] for m in json.loads(veille("mentions", "--format", "json").out)}
    assert by_url == {"https://journal.test/a": "nouveau", "https://blogue.test/b": "exclu"}

    feed_server.add(
        "/j.xml",
        _rss(
            (
                "Un autre article du Cégep de Drummondville sur le blogue",
                "https://sous.blogue.test/c",
            )
        ),
    )
    assert veille("run", "--all").code == 0
    urls = [m["url"] for m in json.loads(veille("mentions", "--format", "json").out)]
    assert "https://sous.blogue.test/c" not in urls  # a subdomain of an ignored site

    assert veille("exclusions", "remove", "blogue.test").code == 0
    assert "1 rétablie(s)" in veille("rescan").out


def test_the_inbox_filters_counts_pages_and_changes_with_history(
    journal: Workspace, veille: Callable[..., Result]
) -> None:
    assert veille("run").code == 0
    store = _store(journal)
    page = store.inbox(MentionFilter())
    assert page.total == 2 and page.counts["nouveau"] == 2 and page.counts["en cours"] == 0
    ids = [m.id for m in page.mentions]
    now = datetime.now(UTC)
    assert store.change([999], actor="marie", now=now, status="traité") == [999]
    assert (
        store.change(
            ids, actor="marie", now=now, assignee="marie", add_tags=["presse", "presse", " "]
        )
        == []
    )
    assert store.change(ids[:1], actor="luc", now=now, status="en cours", tone="positif") == []
    assert store.add_note(ids[0], author="luc", text="Appelé la journaliste.", now=now)

    assert store.inbox(MentionFilter(tag="presse")).total == 2
    assert store.inbox(MentionFilter(assignee="marie", status="en cours")).total == 1
    assert store.inbox(MentionFilter(q="PORTES ouvertes")).total == 1
    assert store.inbox(MentionFilter(q="100%_")).total == 0  # LIKE wildcards are text
    assert store.inbox(MentionFilter(since=now + timedelta(days=1))).total == 0
    counts = store.inbox(MentionFilter(status="en cours")).counts
    assert counts["en cours"] == 1 and counts["nouveau"] == 1  # counts ignore the status
    one = store.inbox(MentionFilter(), limit=1, offset=1)
    assert len(one.mentions) == 1 and one.total == 2

    detail = store.detail(ids[0])
    assert detail is not None
    assert detail.mention.tags == ("presse",) and detail.mention.tone == "positif"
    assert [n.text for n in detail.notes] == ["Appelé la journaliste."]
    assert [(e.actor, e.field, e.before, e.after) for e in detail.history] == [
        ("marie", "assignee", None, "marie"),
        ("marie", "tags", None, "presse"),
        ("luc", "status", "nouveau", "en cours"),
        ("luc", "tone", None, "positif"),
        ("luc", "note", None, "Appelé la journaliste."),
    ]
    assert detail.text is not None
    # unchanged fields add nothing to the history
    assert store.change(ids[:1], actor="luc", now=now, assignee=UNCHANGED, tone="positif") == []
    detail = store.detail(ids[0])
    assert detail is not None and len(detail.history) == 5
    assert store.daily_counts(now - timedelta(days=1), UTC)[0][1:] == ("feed", 2)
    assert store.top_outlets(now - timedelta(days=1))[0][1] == 2
    assert store.tone_counts(now - timedelta(days=1)) == {"positif": 1}


def test_emails_link_each_mention_into_the_workspace_when_it_has_an_address(
    journal: Workspace, veille: Callable[..., Result]
) -> None:
    from email import policy
    from email.parser import BytesParser

    config = journal.config.read_text(encoding="utf-8")
    journal.config.write_text(
        config + "web:\n  base_url: https://veille.cegep.example/\n", encoding="utf-8"
    )
    assert veille("run").code == 0
    (digest,) = journal.outbox.glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(digest.read_bytes())
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    ids = [m["id"] for m in json.loads(veille("mentions", "--format", "json").out)]
    for number in ids:
        link = f"https://veille.cegep.example/mentions/{number}"
        assert f"N° {number} — Ouvrir dans veille : {link}" in text
        assert f'href="{link}"' in html
        assert f"Marquer traité : {link}?statut=trait%C3%A9" in text  # opens a confirm button
    assert "https://veille.cegep.example/?status=nouveau" in text
    assert 'href="https://veille.cegep.example/?status=nouveau"' in html


def test_a_bad_trusted_proxy_is_a_located_french_error(
    workspace: Workspace, veille: Callable[..., Result]
) -> None:
    workspace.write(
        [{"name": "J", "type": "feed", "url": "https://journal.test/f.xml"}],
        extra="web:\n  trusted_proxies: [10.0.0.0/8, pas-une-adresse]",
    )
    said = veille("check")
    assert said.code == 2
    assert "web.trusted_proxies" in said.err and "« pas-une-adresse »" in said.err
