"""`veille rescan` after an admin edits the brand block."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select, update

from storage.models import ItemRow
from storage.packing import unpack_text
from tests.conftest import FeedServer, Workspace


def _two_feeds(feed_server: FeedServer, workspace: Workspace) -> None:
    """A config.yaml of two local feeds: a newspaper's and a notice board's (Latin-1)."""
    feed_server.add_file("/express.xml", "express.xml")
    feed_server.add_file("/avis.xml", "latin1.xml", content_type="text/xml")
    sources = [
        {"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")},
        {"name": "Avis", "type": "feed", "url": feed_server.url("/avis.xml")},
    ]
    workspace.write(sources, at="23:59")


def test_rescan_adds_new_forms_and_excludes_dropped_ones(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    _two_feeds(feed_server, workspace)
    assert veille("run").code == 0
    before = {m["title"]: m for m in json.loads(veille("mentions", "--format", "json").out)}
    assert "Appel d'offres : réfection de la toiture" in before  # legal name alias
    assert "Les Voltigeurs de Drummondville l'emportent" not in before

    text = workspace.config.read_text(encoding="utf-8")
    text = text.replace(
        "    - Collège d'enseignement général et professionnel de Drummondville\n",
        "    - Centre Marcel-Dionne\n",
    )
    workspace.config.write_text(text, encoding="utf-8")
    result = veille("rescan")

    assert result.code == 0, result.err
    assert "1 nouvelle(s) mention(s)" in result.out
    assert "1 mention(s) marquée(s) « exclu »" in result.out
    after = {m["title"]: m for m in json.loads(veille("mentions", "--format", "json").out)}
    assert after["Appel d'offres : réfection de la toiture"]["status"] == "exclu"
    assert after["Les Voltigeurs de Drummondville l'emportent"]["status"] == "nouveau"
    assert len(after) == len(before) + 1  # nothing deleted
    dry = veille("digest", "--dry-run").out
    assert "Les Voltigeurs de Drummondville l'emportent" in dry
    assert "réfection de la toiture" not in dry

    # a second rescan changes nothing; restoring the alias restores the mention
    assert "0 nouvelle(s) mention(s)" in veille("rescan").out
    workspace.config.write_text(
        text.replace(
            "    - Centre Marcel-Dionne\n",
            "    - Centre Marcel-Dionne\n"
            "    - Collège d'enseignement général et professionnel de Drummondville\n",
        ),
        encoding="utf-8",
    )
    assert "1 rétablie(s)" in veille("rescan", "--since", "1d").out


@pytest.mark.parametrize("stored", ["packed", "plain"])
def test_rescan_reads_texts_packed_and_those_an_older_version_kept_plain(
    feed_server: FeedServer, workspace: Workspace, veille, stored: str
) -> None:
    _two_feeds(feed_server, workspace)
    assert veille("run").code == 0
    with workspace.connect() as db:
        rows = db.execute(select(ItemRow.id, ItemRow.text, ItemRow.packed_text)).all()
        assert rows and all(text is None and packed for _, text, packed in rows)
        if stored == "plain":  # as before migration 0009: the same texts, not packed
            db.execute(
                update(ItemRow)
                .where(ItemRow.id == bindparam("item_id"))
                .values(text=bindparam("plain"), packed_text=None),
                [{"item_id": i, "plain": unpack_text(packed)} for i, _, packed in rows],
            )
    before = {
        m["title"]: m["status"] for m in json.loads(veille("mentions", "--format", "json").out)
    }
    text = workspace.config.read_text(encoding="utf-8")
    workspace.config.write_text(
        text.replace(
            "    - Collège d'enseignement général et professionnel de Drummondville\n",
            "    - Centre Marcel-Dionne\n",
        ),
        encoding="utf-8",
    )

    result = veille("rescan")

    assert result.code == 0, result.err
    assert f"{len(rows)} élément(s) analysé(s)" in result.out
    assert "1 nouvelle(s) mention(s)" in result.out
    assert "1 mention(s) marquée(s) « exclu »" in result.out
    after = {
        m["title"]: m["status"] for m in json.loads(veille("mentions", "--format", "json").out)
    }
    assert after == {
        **before,
        "Appel d'offres : réfection de la toiture": "exclu",
        "Les Voltigeurs de Drummondville l'emportent": "nouveau",
    }


def test_old_text_and_old_items_are_pruned_and_not_judged(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    sources = [{"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")}]
    workspace.write(sources, at="23:59")
    assert veille("run").code == 0
    with workspace.connect() as db:
        db.execute(update(ItemRow).values(seen_at=datetime(2020, 1, 1, tzinfo=UTC)))
    workspace.write(sources, at="23:59", extra="")
    text = workspace.config.read_text(encoding="utf-8").replace(
        "storage:\n  url: sqlite:///veille.db",
        "storage:\n  url: sqlite:///veille.db\n  keep_text: 30d",
    )
    workspace.config.write_text(text, encoding="utf-8")
    assert veille("run").code == 0
    with workspace.connect() as db:
        kept = "select count(*) from items where text is not null or packed_text is not null"
        assert db.exec_driver_sql(kept).fetchone()[0] == 0
        # keep_items (180 days) also forgot the old items that were not mentions
        assert db.exec_driver_sql("select count(*) from items").fetchone()[0] == 4
        assert db.exec_driver_sql("select count(*) from mentions").fetchone()[0] == 4
    result = veille("rescan")
    assert "0 élément(s) analysé(s)" in result.out
    statuses = {m["status"] for m in json.loads(veille("mentions", "--format", "json").out)}
    assert statuses == {"nouveau"}


def _mentions_of_a_run(feed_server: FeedServer, workspace: Workspace, veille) -> list[dict]:
    """One run on a newspaper feed; the mentions it stored."""
    feed_server.add_file("/express.xml", "express.xml")
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")}],
        at="23:59",
    )
    assert veille("run").code == 0
    return json.loads(veille("mentions", "--format", "json").out)


def test_triage_by_hand_keeps_an_excluded_mention_out_even_after_rescan(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    found = {m["title"]: m for m in _mentions_of_a_run(feed_server, workspace, veille)}
    wrong = found["Le Cégep de Drummondville dévoile son plan stratégique"]
    done = found["Des étudiants conçoivent un prototype"]

    excluded = veille("triage", str(wrong["id"]), "--status", "exclu")
    handled = veille("triage", str(done["id"]), "--status", "traité")

    assert excluded.code == 0 and "1 mention(s) marquée(s) « exclu »" in excluded.out
    assert handled.code == 0
    listed = json.loads(veille("mentions", "--status", "exclu", "--format", "json").out)
    assert [m["id"] for m in listed] == [wrong["id"]]
    dry = veille("digest", "--dry-run").out
    assert "plan stratégique" not in dry and "conçoivent un prototype" in dry
    # it still matches, but a person said no: rescan does not bring it back
    assert "0 rétablie(s)" in veille("rescan").out
    after = {m["id"]: m["status"] for m in json.loads(veille("mentions", "--format", "json").out)}
    assert after[wrong["id"]] == "exclu" and after[done["id"]] == "traité"


def test_triage_refuses_unknown_mentions_and_statuses_without_changing_anything(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    first = _mentions_of_a_run(feed_server, workspace, veille)[0]["id"]

    unknown = veille("triage", str(first), "9999", "--status", "exclu")
    status = veille("triage", str(first), "--status", "poubelle")
    number = veille("triage", "douze", "--status", "exclu")
    missing = veille("triage", str(first))

    for result in (unknown, status, number, missing):
        assert result.code == 2 and "Traceback" not in result.err, result.err
    assert "9999" in unknown.err and "rien n'a été changé" in unknown.err
    assert "statut inconnu « poubelle »" in status.err
    assert "« douze »" in number.err
    assert "obligatoire" in missing.err
    statuses = {m["status"] for m in json.loads(veille("mentions", "--format", "json").out)}
    assert statuses == {"nouveau"}
