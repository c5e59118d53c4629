"""The official accounts end to end: every comment is a mention, the propos detector
flags the injurious one at once, the digest counts the others, and ``veille masquer``
hides a comment through the platform's API (recording who asked and the answer).

The demo's Facebook Page and Mastodon account (veille/demo_data/) are served by the
test HTTP server on 127.0.0.1, with a Graph API that accepts hiding a comment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import FeedServer, Result, SmtpServer, Workspace

DEMO = Path(__file__).resolve().parents[2] / "veille" / "demo_data"
INJURIOUS = "t'es juste un crisse de cave"
NOW_UTC = datetime.now(UTC)


def _serve_demo_accounts(server: FeedServer) -> None:
    for platform in ("facebook", "mastodon"):
        for path in (DEMO / platform).rglob("*"):
            if path.is_file():
                server.add("/" + path.relative_to(DEMO).as_posix(), path.read_bytes())


@pytest.fixture
def accounts(
    feed_server: FeedServer,
    smtp_server: SmtpServer,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> Workspace:
    _serve_demo_accounts(feed_server)
    # the Graph API's answer to « hide this comment »
    feed_server.add("/facebook/v24.0/2001_5103", json.dumps({"success": True}))
    monkeypatch.setenv("CEGEP_FB_WRITE", "jeton-de-page")
    workspace.write(
        [
            {
                "name": "Facebook du Cégep",
                "type": "account",
                "platform": "facebook",
                "page_id": "100064528817623",
                "url": feed_server.url("/facebook"),
                "write_token_env": "CEGEP_FB_WRITE",
            },
            {
                "name": "Mastodon du Cégep",
                "type": "account",
                "platform": "mastodon",
                "instance": feed_server.url("/mastodon"),
                "acct": "cegepdrummond",
            },
        ],
        smtp=smtp_server,
        extra='propos:\n  public_contacts: ["819 478-4671"]',
        http="  allow_private_links: true",
    )
    return workspace


def _mentions(veille: Callable[..., Result], *args: str) -> list[dict[str, object]]:
    result = veille("mentions", "--format", "json", *args)
    assert result.code == 0, result.err
    rows: list[dict[str, object]] = json.loads(result.out)
    return rows


def test_every_comment_is_a_mention_and_the_injurious_one_is_an_alert(
    accounts: Workspace, smtp_server: SmtpServer, veille: Callable[..., Result]
) -> None:
    assert veille("run").code == 0

    comments = _mentions(veille, "--source-type", "account")
    assert len(comments) == 8  # 4 + 1 on Facebook (the Page's own reply is not one), 3 on Mastodon
    assert {c["source_type"] for c in comments} == {"account"}
    assert {c["outlet"] for c in comments} == {"Facebook", "Mastodon"}
    flagged = [c for c in comments if c["propos"]]
    assert [(c["title"], c["propos"], c["urgent"]) for c in flagged] == [
        (INJURIOUS, "insulte", True)
    ]
    insult = flagged[0]
    assert insult["author"] == "Kevin B."
    assert insult["reply_to"]  # the first words of the post it answers
    sacre = next(c for c in comments if str(c["title"]).startswith("Crisse que c'est beau"))
    assert sacre["propos"] is None and sacre["urgent"] is False  # a sacre that praises
    assert _mentions(veille, "--source-type", "feed") == []

    alerts = [s for s in smtp_server.subjects() if s.startswith("Propos à vérifier")]
    assert alerts == ["Propos à vérifier sur Facebook — insulte"]

    (digest,) = smtp_server.digests()
    text = digest.get_body(preferencelist=("plain",)).get_content()
    assert "=== Sur nos comptes officiels (8 nouveaux commentaires) ===" in text
    assert "Facebook du Cégep : 5 commentaires, dont 1 à vérifier" in text
    assert "Mastodon du Cégep : 3 commentaires" in text
    urgent_part = text.split("=== À traiter en priorité")[1].split("===")[1]
    assert INJURIOUS in urgent_part and "Propos à vérifier : insulte" in urgent_part
    assert "Hâte de voir les nouveaux labos" not in text  # counted, not listed

    # a second run: nothing fetched twice, nothing reported twice
    assert veille("run").code == 0
    assert len(_mentions(veille, "--source-type", "account")) == 8
    assert len([s for s in smtp_server.subjects() if s.startswith("Propos")]) == 1


def test_masquer_hides_through_the_platform_and_records_who_and_the_answer(
    accounts: Workspace,
    feed_server: FeedServer,
    veille: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert veille("run").code == 0
    comments = _mentions(veille, "--source-type", "account")
    insult = next(c for c in comments if c["title"] == INJURIOUS)
    on_mastodon = next(c for c in comments if c["outlet"] == "Mastodon")

    hidden = veille("masquer", str(insult["id"]))
    assert hidden.code == 0, hidden.err
    assert "Commentaire masqué sur facebook" in hidden.out
    (hide,) = [h for h in feed_server.hits if h.method == "POST"]
    assert hide.path.startswith("/facebook/v24.0/2001_5103")
    assert "is_hidden=true" in hide.path

    by_hand = veille("masquer", str(on_mastodon["id"]))
    assert by_hand.code == 1
    assert "non masqué" in by_hand.out and "http" in by_hand.out  # the link to do it by hand

    with accounts.connect() as db:
        rows = db.exec_driver_sql(
            "select mention_id, platform, action, done, requested_by from moderations order by id"
        ).fetchall()
    assert [(r[0], r[1], r[2], bool(r[3])) for r in rows] == [
        (insult["id"], "facebook", "masquer", True),
        (on_mastodon["id"], "mastodon", "masquer", False),
    ]
    assert all(r[4] for r in rows)  # who asked

    # no write token in this environment: nothing is asked of the platform nor recorded
    monkeypatch.delenv("CEGEP_FB_WRITE")
    refused = veille("masquer", str(insult["id"]))
    assert refused.code == 2 and "CEGEP_FB_WRITE" in refused.err
    assert len([h for h in feed_server.hits if h.method == "POST"]) == 1

    wrong = veille("masquer", "999")
    assert wrong.code == 2 and "introuvable" in wrong.err


def test_an_editor_hides_a_comment_from_the_workspace(
    accounts: Workspace, feed_server: FeedServer, veille: Callable[..., Result]
) -> None:
    from tests.web.conftest import PASSWORD, TestClient, csrf_of, login
    from veille.app import build_app, read_config
    from veille.users import hash_password
    from veille.web.app import create_app

    assert veille("run").code == 0
    comments = _mentions(veille, "--source-type", "account")
    insult = next(c for c in comments if c["title"] == INJURIOUS)
    app = build_app(read_config(accounts.config))
    for email, role in (("editeur@cegep.example", "éditeur"), ("lecteur@cegep.example", "lecteur")):
        app.store.add_user(email, role=role, password_hash=hash_password(PASSWORD), now=NOW_UTC)
    page = f"/mentions/{insult['id']}"
    with TestClient(create_app(app), base_url="http://127.0.0.1", follow_redirects=False) as reader:
        assert login(reader, "lecteur@cegep.example", PASSWORD).status_code == 303
        assert 'id="form-masquer"' not in reader.get(page).text
        forged = reader.post(f"{page}/masquer", data={"csrf_token": csrf_of(reader, page)})
        assert forged.status_code == 403
    with TestClient(create_app(app), base_url="http://127.0.0.1", follow_redirects=False) as editor:
        assert login(editor, "editeur@cegep.example", PASSWORD).status_code == 303
        assert 'id="form-masquer"' in editor.get(page).text
        done = editor.post(f"{page}/masquer", data={"csrf_token": csrf_of(editor, page)})
        assert done.status_code == 303
        assert "Commentaire masqué sur facebook" in editor.get(page).text
    (hide,) = [h for h in feed_server.hits if h.method == "POST"]
    assert hide.path.startswith("/facebook/v24.0/2001_5103")
    with accounts.connect() as db:
        rows = db.exec_driver_sql("select requested_by, done from moderations").fetchall()
    assert [(r[0], bool(r[1])) for r in rows] == [("editeur@cegep.example", True)]
