"""The Notifier against a real store (SQLite in tmp_path, or PostgreSQL) and a real
SMTP server on 127.0.0.1: when the digest goes out (due, forced), what a crash left
reserved, what a refused delivery gives back, what a preview leaves alone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from storage.store import MentionStore, NewItem, NewMention
from tests.conftest import SmtpServer, Workspace
from veille.alerts import is_spike
from veille.app import open_store, read_config
from veille.errors import DeliveryError, StorageError
from veille.mail import Mailer
from veille.notify import Notifier

BEFORE = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # 07:00 in Montréal: before digest.at
AFTER = BEFORE + timedelta(hours=1)  # 08:00: the digest is due
_numbers = itertools.count(1)


@pytest.fixture
def notifier(workspace: Workspace, smtp_server: SmtpServer) -> Notifier:
    workspace.write(
        [{"name": "Journal", "type": "feed", "url": "https://journal.test/rss"}],
        smtp=smtp_server,
        at="07:30",
    )
    config = read_config(workspace.config)
    return Notifier(config, open_store(config), Mailer(config.smtp, config.outbox_dir))


def _add_mentions(
    store: MentionStore, count: int, *, urgent: bool = False, now: datetime | None = None
) -> list[int]:
    numbers = [next(_numbers) for _ in range(count)]
    items = [
        NewItem(
            key=f"journal-{n}",
            url=f"https://journal.test/{n}",
            guid=None,
            title=f"Le Cégep de Drummondville, nouvelle {n}",
            text="Le Cégep de Drummondville ouvre ses portes.",
            published_at=BEFORE - timedelta(hours=2),
            mention=NewMention(
                matched="Cégep de Drummondville",
                rule="nom",
                score=100,
                snippet="Le Cégep de Drummondville ouvre ses portes.",
                highlight_start=3,
                highlight_end=25,
                urgent=urgent,
                urgent_keyword="plainte" if urgent else None,
            ),
        )
        for n in numbers
    ]
    store.sync_sources([("Journal", "feed")])
    return store.save_batch(
        source="Journal",
        source_type="feed",
        items=items,
        etag=None,
        last_modified=None,
        now=now or BEFORE - timedelta(hours=1),
    )


def test_the_digest_waits_for_its_hour_unless_forced(
    notifier: Notifier, smtp_server: SmtpServer
) -> None:
    _add_mentions(notifier.store, 2)

    assert notifier.send_digest(BEFORE) is None
    assert smtp_server.messages == []
    assert len(notifier.store.unsent_mentions()) == 2  # nothing reserved

    subject = notifier.send_digest(BEFORE, force=True)

    assert subject is not None and subject.startswith("Veille — 2 nouvelles mentions")
    assert smtp_server.subjects() == [subject]
    assert notifier.store.unsent_mentions() == []


def test_a_due_digest_goes_out_once_a_day(notifier: Notifier, smtp_server: SmtpServer) -> None:
    _add_mentions(notifier.store, 1)

    assert notifier.send_digest(AFTER) is not None
    _add_mentions(notifier.store, 1)
    assert notifier.send_digest(AFTER + timedelta(hours=2)) is None  # one a day
    assert len(smtp_server.digests()) == 1
    assert len(notifier.store.unsent_mentions()) == 1  # for tomorrow, or a forced one

    assert notifier.send_digest(AFTER + timedelta(hours=2), force=True) is not None
    assert len(smtp_server.digests()) == 2


def test_a_digest_left_reserved_goes_out_again_first_with_its_message_id(
    notifier: Notifier, smtp_server: SmtpServer
) -> None:
    _add_mentions(notifier.store, 2)
    claim = notifier.store.claim_digest(
        day=BEFORE.date(), now=BEFORE, message_id="<reserve@cegep.example>"
    )  # then a crash: reserved, never marked sent

    assert notifier.send_digest(BEFORE) is None  # not due: nothing new is reserved …

    (message,) = smtp_server.messages  # … but the interrupted one went out again
    assert message["Message-ID"] == "<reserve@cegep.example>"
    assert str(message["Subject"]).startswith("Veille — 2 nouvelles mentions")
    assert notifier.store.pending_digests() == []
    assert notifier.store.digest_sent_on(claim.day)


def test_a_refused_digest_gives_its_mentions_back(
    notifier: Notifier, smtp_server: SmtpServer
) -> None:
    _add_mentions(notifier.store, 3)
    smtp_server.inbox.refuse = True

    with pytest.raises(DeliveryError):
        notifier.send_digest(AFTER)

    assert len(notifier.store.unsent_mentions()) == 3
    assert notifier.store.pending_digests() == []
    smtp_server.inbox.refuse = False
    assert notifier.send_digest(AFTER) is not None  # still due: nothing was sent today
    assert len(smtp_server.digests()) == 1


def test_a_digest_of_unknown_fate_stays_reserved_and_is_resent_as_is(
    notifier: Notifier, smtp_server: SmtpServer
) -> None:
    _add_mentions(notifier.store, 2)
    smtp_server.inbox.drop_after_data = 1

    with pytest.raises(DeliveryError) as caught:
        notifier.send_digest(AFTER)

    assert caught.value.outcome_unknown
    (first,) = smtp_server.inbox.dropped
    assert notifier.store.unsent_mentions() == []  # still reserved for that digest
    assert notifier.send_digest(AFTER) is None  # sent again, and nothing else is due today
    (again,) = smtp_server.messages
    assert again["Message-ID"] == first["Message-ID"]
    assert again["Subject"] == first["Subject"]
    assert notifier.store.pending_digests() == []


def test_a_preview_reserves_and_sends_nothing(notifier: Notifier, smtp_server: SmtpServer) -> None:
    _add_mentions(notifier.store, 2)

    digest = notifier.preview_digest(AFTER)

    assert digest.subject.startswith("Veille — 2 nouvelles mentions")
    assert smtp_server.messages == []
    assert len(notifier.store.unsent_mentions()) == 2
    assert notifier.store.pending_digests() == []


def test_an_alert_keeps_its_message_id_when_sent_again(
    notifier: Notifier, smtp_server: SmtpServer
) -> None:
    _add_mentions(notifier.store, 1, urgent=True)
    smtp_server.inbox.drop_after_data = 1

    with pytest.raises(DeliveryError):
        notifier.send_alerts(BEFORE)
    assert notifier.send_alerts(BEFORE) == 1
    assert notifier.send_alerts(BEFORE) == 0  # marked sent

    (first,) = smtp_server.inbox.dropped
    (again,) = smtp_server.messages
    assert again["Message-ID"] == first["Message-ID"]
    assert str(again["Subject"]).startswith("URGENT — « plainte » : ")


def test_the_storage_notice_goes_to_the_admins(notifier: Notifier, smtp_server: SmtpServer) -> None:
    notifier.send_storage_notice(StorageError("disque plein"), BEFORE)
    notifier.send_storage_notice(None, AFTER)

    broken, fixed = smtp_server.messages
    assert broken["To"] == "informatique@cegep.example"
    assert "disque plein" in broken.get_body(("plain",)).get_content()
    assert str(fixed["Subject"]) == "Veille — la base de données fonctionne de nouveau"


def test_is_spike_needs_enough_mentions_well_above_the_usual() -> None:
    assert not is_spike(4, [0] * 28)  # fewer than 5: never a spike
    assert is_spike(5, [0] * 28)
    assert not is_spike(9, [2, 8, 5, 5] * 7)  # within 3 deviations of a busy month
    assert is_spike(12, [2, 8, 5, 5] * 7)
    assert not is_spike(50, [])


def test_a_spike_is_told_once_a_day_and_only_with_a_month_of_history(
    notifier: Notifier, smtp_server: SmtpServer
) -> None:
    now = datetime.now(UTC)
    _add_mentions(notifier.store, 6, now=now - timedelta(minutes=5))
    assert not notifier.send_spike_notice(now)  # no usual yet: a first day is not a spike
    for days in range(2, 31, 3):  # a quiet month before: one mention every 3 days
        _add_mentions(notifier.store, 1, now=now - timedelta(days=days))
    assert notifier.send_spike_notice(now)
    assert not notifier.send_spike_notice(now + timedelta(minutes=1))  # once a day
    (subject,) = [s for s in smtp_server.subjects() if "Pic de mentions" in s]
    assert subject.startswith("Veille — Pic de mentions du Cégep de Drummondville : 6")
    (message,) = [m for m in smtp_server.messages if "Pic" in str(m["Subject"])]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Le Cégep de Drummondville, nouvelle" in body  # the latest titles
    assert message["To"] == "communications@cegep.example"
