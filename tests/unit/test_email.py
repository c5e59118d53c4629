"""Emails: what the digest and the alerts show (clean text, safe links, the cap,
sources that could not be visited) and how a send ends (accepted, too large,
outcome unknown, French errors), against a real SMTP server on 127.0.0.1 and,
for servers that misbehave, a raw socket server scripted here."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from collectors import options_models
from storage.db import open_database
from storage.store import MentionRecord, MentionStore, SourceRecord
from tests.conftest import SmtpServer, _Inbox, free_port
from veille.alerts import KeywordSpotter, build_alert, build_source_notice
from veille.config import SmtpConfig, load_config
from veille.digest import Digest, build_digest
from veille.errors import DeliveryError, StorageError
from veille.mail import Mailer, compose, new_message_id, stable_message_id
from veille.notify import Notifier

ZONE = ZoneInfo("America/Montreal")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BRAND = "Cégep de Drummondville"
GOLDEN = Path(__file__).parent.parent / "data" / "golden"
SNIPPET = "… selon la direction, le Cégep de Drummondville ouvrira un nouveau programme …"


def mention(number: int = 1, **changes: Any) -> MentionRecord:
    start = SNIPPET.index("Cégep")
    record = MentionRecord(
        id=number,
        url=f"https://journal.test/article/{number}",
        title=f"Article {number} sur le cégep",
        source="Google Actualités",
        source_type="search",
        published_at=NOW - timedelta(hours=number),
        found_at=NOW - timedelta(hours=number),
        matched="Cégep de Drummondville",
        rule="exact",
        score=100,
        snippet=SNIPPET,
        highlight_start=start,
        highlight_end=start + len("Cégep de Drummondville"),
        status="nouveau",
        urgent=False,
        alert_sent_at=None,
        digest_id=None,
    )
    return replace(record, **changes)


def source(name: str = "Journal", **changes: Any) -> SourceRecord:
    record = SourceRecord(
        name=name,
        type="feed",
        last_attempt_at=NOW,
        last_success_at=NOW,
        failing_since=None,
        consecutive_failures=0,
        last_error=None,
        etag=None,
        last_modified=None,
        items_seen=3,
        mentions_found=1,
        notified_failing=False,
    )
    return replace(record, **changes)


def broken(name: str, error: str = "erreur HTTP 500 (erreur du serveur)") -> SourceRecord:
    return source(
        name,
        consecutive_failures=3,
        failing_since=NOW - timedelta(days=2),
        last_error=error,
        last_success_at=None,
    )


def digest(mentions: list[MentionRecord], **options: Any) -> Digest:
    kwargs: dict[str, Any] = {
        "brand": BRAND,
        "day": NOW.astimezone(ZONE).date(),
        "now": NOW,
        "zone": ZONE,
        "sources": [source()],
        "total_mentions": 1000,
    }
    kwargs.update(options)
    return build_digest(mentions, **kwargs)


def message_of(built: Digest, message_id: str = "<test@cegep.example>") -> Any:
    return compose(
        subject=built.subject,
        text=built.text,
        html=built.html,
        sender="veille@cegep.example",
        to=["communications@cegep.example"],
        message_id=message_id,
        date=NOW,
    )


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


# --- 1. safe links and clean titles -------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JavaScript:alert(document.cookie)", "data:text/html,<b>x</b>"]
)
def test_only_http_links_are_clickable_in_the_digest_and_the_alert(url: str) -> None:
    bad = mention(1, url=url, urgent=True)
    good = mention(2)

    built = digest([bad, good])
    alert = build_alert(bad, brand=BRAND, zone=ZONE)

    assert hrefs(built.html) == ["https://journal.test/article/2"]
    assert hrefs(alert.html) == []
    assert "Lien non cliquable" in built.html and "Lien non cliquable" in alert.html
    shown = url.replace("<", "&lt;").replace(">", "&gt;")
    assert shown in built.html  # shown as plain, escaped text
    assert url in built.text


def test_control_and_bidi_characters_never_reach_subjects_or_bodies() -> None:
    dirty = "\u202eTitre\u2066 piégé\x07\x00"
    bad = mention(
        1,
        title=dirty + "\r\nBcc: espion@example.com",
        source="Google\u200f Actualités",
        outlet="Le Nouvelliste\u202d\x1b[31m",
        snippet="avant\u202e " + SNIPPET + " \x08après",
        urgent=True,
        urgent_keyword="plainte",
    )
    bad = replace(bad, highlight_start=bad.snippet.index("Cégep"))
    bad = replace(bad, highlight_end=bad.highlight_start + len("Cégep de Drummondville"))

    built = digest([bad], stale=["Muet\u202e"], sources=[broken("Cassé\u2067", "erreur\x07 500")])
    alert = build_alert(bad, brand=BRAND, zone=ZONE)
    message = message_of(built)
    alert_message = compose(
        subject=alert.subject,
        text=alert.text,
        html=alert.html,
        sender="veille@cegep.example",
        to=["communications@cegep.example"],
        message_id="<a@cegep.example>",
        date=NOW,
    )

    forbidden = re.compile(
        "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
    )
    for text in (built.subject, built.text, built.html, alert.subject, alert.text, alert.html):
        assert not forbidden.search(text), repr(forbidden.search(text))
    assert "Titre piégé" in alert.subject and "\n" not in alert.subject
    assert "Le Nouvelliste[31m, via Google Actualités" in built.text
    for sent in (message, alert_message):
        head = sent.as_bytes().split(b"\n\n", 1)[0]
        assert not re.search(rb"^Bcc:", head, re.MULTILINE)  # folded into Subject at most


def test_headers_never_carry_a_line_break() -> None:
    message = compose(
        subject="Veille\r\nBcc: espion@example.com",
        text="t",
        html="<p>h</p>",
        sender="veille@cegep.example",
        to=["communications@cegep.example"],
        message_id="<x@cegep.example>",
        date=NOW,
    )

    assert message["Subject"] == "Veille Bcc: espion@example.com"
    head = message.as_bytes().split(b"\n\n", 1)[0]
    assert not re.search(rb"^Bcc:", head, re.MULTILINE)


# --- 2. the cap ---------------------------------------------------------------------------


def _many(count: int, urgent_every: int = 0) -> list[MentionRecord]:
    kinds = ("feed", "search", "page")
    return [
        mention(
            i,
            source_type=kinds[i % 3],
            urgent=bool(urgent_every) and i % urgent_every == 0,
            found_at=NOW - timedelta(minutes=10 * i),
            published_at=NOW - timedelta(minutes=10 * i),
        )
        for i in range(1, count + 1)
    ]


def _listed(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"https://journal\.test/article/(\d+)", text)]


def test_digest_lists_at_most_the_limit_and_says_how_to_see_the_rest() -> None:
    mentions = _many(250, urgent_every=50)  # 5 urgent; the oldest found 2 days ago

    built = digest(mentions)

    assert built.subject.startswith("Veille — 250 nouvelles mentions du Cégep de Drummondville")
    listed = _listed(built.text)
    assert len(listed) == 200 and len(set(listed)) == 200
    assert listed[:5] == [50, 100, 150, 200, 250]  # urgent first
    assert _listed(built.html) == listed
    for body in (built.text, built.html):
        assert "… et 50 autres mentions" in body
        assert "veille mentions --since 2026-11-26" in body  # 2500 min before NOW, local
    assert "=== Moteurs de recherche (82) ===" in built.text  # a full group: no « sur »
    assert "=== Pages Web (31 sur 81) ===" in built.text


def test_since_date_is_the_local_date_of_the_oldest_mention_left_out() -> None:
    mentions = [mention(i, found_at=NOW - timedelta(hours=i)) for i in range(1, 4)]
    # 12:00 UTC - 3 h = 09:00 UTC = 04:00 in Montréal, same day; - 13 h = the day before
    assert "--since 2026-11-28" in digest(mentions, list_limit=2).text
    late = [*mentions, mention(9, found_at=NOW - timedelta(hours=13))]
    assert "--since 2026-11-27" in digest(late, list_limit=2).text


def test_last_resort_digest_gives_counts_only() -> None:
    built = digest(_many(30, urgent_every=10), list_limit=0)

    assert built.subject.startswith("Veille — 30 nouvelles mentions")
    assert _listed(built.text) == [] and _listed(built.html) == []
    assert hrefs(built.html) == []
    for body in (built.text, built.html):
        assert "Urgentes : 3" in body
        assert "Actualités, blogues et flux : 9" in body
        assert "veille mentions --since 2026-11-28" in body


def test_part_of_a_digest_says_so_in_its_subject() -> None:
    built = digest(_many(3), part=(2, 3))
    assert built.subject.endswith("28 novembre 2026 (partie 2 sur 3)")
    assert "(partie" not in digest(_many(3)).subject


def test_digest_of_many_mentions_stays_small() -> None:
    # 20 000 mentions: 16 MB of email before the cap (100 000: 113 MB), 0.16 MB now
    started = time.monotonic()
    built = digest(_many(20_000, urgent_every=997))

    size = len(message_of(built).as_bytes())

    assert size < 400_000, size
    assert built.subject.startswith("Veille — 20\u00a0000 nouvelles mentions")
    assert time.monotonic() - started < 10


# --- 5. nothing reassuring when veille could not look --------------------------------------


def test_no_mention_and_every_source_failing_says_veille_could_not_look() -> None:
    sources = [broken("L'Express"), broken("Google Actualités", "délai dépassé")]

    built = digest([], sources=sources)

    assert built.subject == "Veille — aucune source n'a pu être consultée — 28 novembre 2026"
    for body in (built.text, built.html):
        assert "Aucune nouvelle mention" not in body
        assert "Aucune source n'a pu être consultée" in body
        head = body.split("Sources : ")[0]
        assert "L'Express" in head or "L&#39;Express" in head
        assert "Google Actualités : délai dépassé" in head


def test_sources_never_visited_do_not_count_as_working() -> None:
    never = source("Nouveau", last_success_at=None, last_attempt_at=None)

    alone = digest([], sources=[never])
    mixed = digest([], sources=[source("Journal"), never])

    assert "aucune source n'a pu être consultée" in alone.subject
    assert "Nouveau : pas encore consultée" in alone.text
    assert mixed.subject.startswith("Veille — Aucune nouvelle mention du Cégep")
    assert "Aucune nouvelle mention — 1 source sur 2 fonctionne." in mixed.text
    assert "Nouveau : pas encore consultée" in mixed.text


def test_some_sources_working_keeps_the_short_reassuring_digest() -> None:
    sources = [source(f"S{i}") for i in range(47)] + [broken(f"B{i}") for i in range(3)]
    built = digest([], sources=sources)
    assert built.subject.startswith("Veille — Aucune nouvelle mention")
    assert "Aucune nouvelle mention — 47 sources sur 50 fonctionnent." in built.text


# --- 6. outlet, 7. headings ---------------------------------------------------------------


def test_entry_names_the_outlet_then_the_source_that_found_it() -> None:
    built = digest(
        [
            mention(1, outlet="Le Nouvelliste"),
            mention(2, source="L'Express", source_type="feed", outlet="l'express"),
            mention(3, source="Blogue", source_type="feed", outlet=None),
        ]
    )

    assert "Le Nouvelliste, via Google Actualités — " in built.text
    assert "  L'Express — " in built.text and "l'express" not in built.text
    assert "  Blogue — " in built.text
    assert "Le Nouvelliste, via Google Actualités" in built.html


def test_heading_is_the_title_else_the_first_words_of_the_snippet_never_the_url() -> None:
    long_snippet = (
        "Le Cégep de Drummondville accueillera samedi des centaines de visiteurs pour "
        "sa journée portes ouvertes annuelle, une première depuis la rénovation."
    )
    untitled = mention(
        1, title="", snippet=long_snippet, highlight_start=3, highlight_end=25, source_type="feed"
    )
    url_title = mention(2, title="https://journal.test/article/2", source_type="page")

    built = digest([untitled, url_title])

    text = built.text
    heading = "Le Cégep de Drummondville accueillera samedi des centaines de visiteurs pour sa…"
    assert heading in text
    assert len(heading) <= 81
    page = text.split("=== Pages Web (1) ===\n\n")[1].splitlines()
    assert page[0] == "selon la direction, le Cégep de Drummondville ouvrira un nouveau programme…"
    assert page[2] == "  https://journal.test/article/2"  # the URL only as the link line
    assert re.search(f'<a href="https://journal.test/article/1"[^>]*>{heading}</a>', built.html)


def test_snippet_never_starts_with_the_title_separator() -> None:
    # the pipeline matches "title — body": a snippet cut there starts with the dash
    snippet = "— Le Cégep de Drummondville inaugure son pavillon"
    dashed = mention(1, title="", snippet=snippet, highlight_start=2, highlight_end=27)
    ellipsis = "… — Le Cégep de Drummondville inaugure son pavillon"
    cut = mention(2, snippet=ellipsis, highlight_start=4, highlight_end=29)

    built = digest([dashed, cut])

    assert "« [Le Cégep de Drummondville] inaugure son pavillon »" in built.text
    assert "« … [Le Cégep de Drummondville] inaugure son pavillon »" in built.text
    assert "— Le Cégep" not in built.text
    assert "\nLe Cégep de Drummondville inaugure son pavillon\n" in built.text


# --- 8. urgent alert subjects -------------------------------------------------------------


def test_alert_subject_carries_the_keyword_the_headline_and_the_outlet() -> None:
    urgent = mention(
        1,
        title="Une plainte déposée contre le Cégep de Drummondville",
        outlet="Le Nouvelliste",
        urgent=True,
        urgent_keyword="plainte",
    )

    alert = build_alert(urgent, brand=BRAND, zone=ZONE)

    assert alert.subject == (
        "URGENT — « plainte » : Une plainte déposée contre le Cégep de Drummondville "
        "(Le Nouvelliste)"
    )
    assert "le mot d'alerte « plainte »" in alert.text


def test_alert_finds_the_keyword_again_for_old_mentions_else_leaves_it_out() -> None:
    old = mention(1, title="Poursuites contre le cégep", urgent=True, urgent_keyword=None)
    spotter = KeywordSpotter(["plainte", "poursuite"])

    found = build_alert(old, brand=BRAND, zone=ZONE, spotter=spotter)
    unknown = build_alert(old, brand=BRAND, zone=ZONE)

    assert (
        found.subject == "URGENT — « poursuite » : Poursuites contre le cégep (Google Actualités)"
    )
    assert unknown.subject == "URGENT — Poursuites contre le cégep (Google Actualités)"


def test_alert_subject_is_clipped_on_a_word() -> None:
    title = "Plainte " + " ".join(f"mot{i}" for i in range(80))
    alert = build_alert(
        mention(1, title=title, urgent=True, urgent_keyword="plainte", outlet="Le Nouvelliste"),
        brand=BRAND,
        zone=ZONE,
    )
    assert len(alert.subject) <= 150
    assert alert.subject.endswith("… (Le Nouvelliste)")
    assert re.search(r" mot\d+… \(", alert.subject)


# --- golden files -------------------------------------------------------------------------


def test_digest_and_alert_match_their_golden_files() -> None:
    mentions = [
        mention(
            1,
            urgent=True,
            urgent_keyword="plainte",
            outlet="Le Nouvelliste",
            title="Plainte contre le Cégep de Drummondville",
        ),
        mention(2, source="L'Express", source_type="feed", title="Portes ouvertes <réussies>"),
        mention(3, title="", url="javascript:alert(1)", source_type="page", source="Wikipédia"),
        mention(4, source_type="page", source="Wikipédia"),
    ]
    sources = [source("L'Express"), source("Google Actualités"), broken("Wikipédia")]
    built = digest(mentions, sources=sources, stale=["Blogue"], list_limit=3)
    alert = build_alert(mentions[0], brand=BRAND, zone=ZONE)
    outputs = {
        "digest.txt": f"Subject: {built.subject}\n\n{built.text}",
        "digest.html": built.html,
        "alert.txt": f"Subject: {alert.subject}\n\n{alert.text}",
        "alert.html": alert.html,
    }
    _match_golden(outputs)


def _match_golden(outputs: dict[str, str]) -> None:
    """Each output equals its file in tests/data/golden; ``VEILLE_UPDATE_GOLDEN=1``
    rewrites the files instead (then read the diff before committing it)."""
    for name, content in outputs.items():
        path = GOLDEN / name
        if os.environ.get("VEILLE_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        assert content == path.read_text(encoding="utf-8"), name


def test_source_notice_matches_its_golden_files() -> None:
    """The admins' notice when sources start failing or recover (build_source_notice),
    fixed clock. Regenerate with ``VEILLE_UPDATE_GOLDEN=1``."""
    changes = [
        broken("Wikipédia"),
        broken("Blogue <b>", "délai dépassé\u202e (30 s)\nFAUSSE LIGNE"),
        source("L'Express", failing_since=None, notified_failing=True),
    ]
    notice = build_source_notice(changes, now=NOW, zone=ZONE)
    recovered = build_source_notice(changes[2:], now=NOW, zone=ZONE)
    _match_golden(
        {
            "source_notice.txt": f"Subject: {notice.subject}\n\n{notice.text}",
            "source_notice.html": notice.html,
            "source_recovered.txt": f"Subject: {recovered.subject}\n\n{recovered.text}",
        }
    )


STORAGE_CONFIG = """\
brand:
  name: Cégep de Drummondville
sources:
  - {name: Journal, type: feed, url: "https://journal.test/rss"}
digest:
  to: [communications@cegep.example]
  admin_to: [informatique@cegep.example, direction@cegep.example]
  from: veille@cegep.example
  timezone: America/Montreal
"""


def _outbox_email(outbox: Path) -> tuple[str, str]:
    """The one email of ``outbox`` (then removed): its headers but Message-ID and its
    text part, in one golden text; its HTML part."""
    [path] = outbox.glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    path.unlink()
    headers = "".join(
        f"{name}: {message[name]}\n" for name in ("Subject", "From", "To", "Date", "X-Mailer")
    )
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html_part = message.get_body(("html",))
    html = html_part.get_content() if html_part is not None else ""
    return f"{headers}\n{text}", html


def test_storage_notice_matches_its_golden_files(tmp_path: Path) -> None:
    """The admins' notice when the store cannot be used, then works again, as the mailer
    writes it to the outbox (Notifier.send_storage_notice), fixed clock, Message-ID left out.
    Regenerate with ``VEILLE_UPDATE_GOLDEN=1``."""
    (tmp_path / "config.yaml").write_text(STORAGE_CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "config.yaml", source_types=options_models())
    mailer = Mailer(None, tmp_path / "outbox")
    store = MentionStore(open_database(f"sqlite:///{tmp_path / 'veille.db'}"))
    notifier = Notifier(config, store, mailer)
    error = StorageError(
        "la base de données /var/lib/veille/veille.db est en lecture seule : "
        "donnez le droit d'écriture à l'utilisateur qui lance veille <root>"
    )
    outputs = {}
    for name, problem in (("storage_notice", error), ("storage_recovered", None)):
        notifier.send_storage_notice(problem, NOW)
        text, html = _outbox_email(tmp_path / "outbox")
        outputs[f"{name}.txt"], outputs[f"{name}.html"] = text, html
    _match_golden(outputs)


# --- 3. Message-ID ------------------------------------------------------------------------


def test_stable_message_id_is_the_same_for_the_same_parts() -> None:
    first = stable_message_id("veille@cegep.example", "alerte", "42")
    assert first == stable_message_id("veille@cegep.example", "alerte", "42")
    assert first != stable_message_id("veille@cegep.example", "alerte", "43")
    assert first != stable_message_id("veille@cegep.example", "alerte4", "2")
    assert re.fullmatch(r"<veille\.[0-9a-f]{32}@cegep\.example>", first)
    named = stable_message_id("Veille <veille@cegep.example>", "résumé", "7", "1/2")
    assert named.endswith("@cegep.example>")
    assert new_message_id("Veille <veille@cegep.example>").endswith("@cegep.example>")


# --- 3. and 4. SMTP outcomes and errors ---------------------------------------------------


def smtp_config(port: int, **options: Any) -> SmtpConfig:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "starttls": False, "timeout": "5s"}
    values.update(options)
    return SmtpConfig(**values)


def a_message(size: int = 0, message_id: str = "<un@cegep.example>") -> Any:
    return compose(
        subject="Veille — essai",
        text="Bonjour\n" + "x" * size,
        html="<p>Bonjour</p>",
        sender="veille@cegep.example",
        to=["communications@cegep.example"],
        message_id=message_id,
        date=NOW,
    )


def send_error(mailer: Mailer, message: Any) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        mailer.send(message)
    error = caught.value
    assert "\n" not in str(error) and "Traceback" not in str(error)
    return error


def test_accepted_message_keeps_its_message_id(smtp_server: SmtpServer, tmp_path: Path) -> None:
    mailer = Mailer(smtp_config(smtp_server.port), tmp_path)
    message_id = stable_message_id("veille@cegep.example", "résumé", "3")

    assert mailer.send(a_message(message_id=message_id)) is None

    assert [str(m["Message-ID"]) for m in smtp_server.messages] == [message_id]


def test_size_refused_at_the_end_of_data_is_too_large(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    smtp_server.inbox.max_size = 5_000
    mailer = Mailer(smtp_config(smtp_server.port), tmp_path)

    error = send_error(mailer, a_message(20_000))

    assert error.too_large and not error.outcome_unknown
    assert f"127.0.0.1:{smtp_server.port}" in str(error)
    assert "trop volumineux" in str(error) and "552" in str(error)
    assert smtp_server.messages == []
    assert mailer.send(a_message(100)) is None  # a smaller one goes through


@pytest.fixture
def small_server() -> Iterator[SmtpServer]:
    """A server announcing SIZE 10000: a bigger message is refused at MAIL FROM."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), data_size_limit=10_000)
    controller.start()
    yield SmtpServer("127.0.0.1", controller.port, inbox, controller)
    controller.stop()


def test_size_refused_at_mail_from_is_too_large(small_server: SmtpServer, tmp_path: Path) -> None:
    mailer = Mailer(smtp_config(small_server.port), tmp_path)

    error = send_error(mailer, a_message(30_000))

    assert error.too_large and not error.outcome_unknown
    assert "trop volumineux" in str(error)
    assert small_server.messages == []


def test_other_refusals_are_plain_delivery_errors(smtp_server: SmtpServer, tmp_path: Path) -> None:
    smtp_server.inbox.refuse = True
    error = send_error(Mailer(smtp_config(smtp_server.port), tmp_path), a_message())
    assert not error.too_large and not error.outcome_unknown
    assert "451" in str(error) and f"127.0.0.1:{smtp_server.port}" in str(error)


def test_refused_recipient_is_named(smtp_server: SmtpServer, tmp_path: Path) -> None:
    smtp_server.inbox.refuse_rcpt = {"communications@cegep.example"}
    error = send_error(Mailer(smtp_config(smtp_server.port), tmp_path), a_message())
    assert "destinataire" in str(error) and "communications@cegep.example" in str(error)
    assert "550" in str(error) and f"127.0.0.1:{smtp_server.port}" in str(error)
    assert not error.too_large and not error.outcome_unknown


PASSWORD = "s3cret-Mot-de-passe"


@pytest.fixture
def auth_server() -> Iterator[SmtpServer]:
    """A server that refuses every login."""

    def refuse(*args: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    inbox = _Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=refuse,
        auth_require_tls=False,
    )
    controller.start()
    yield SmtpServer("127.0.0.1", controller.port, inbox, controller)
    controller.stop()


def test_refused_login_is_one_french_line_without_the_password(
    auth_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VEILLE_TEST_SMTP_PASSWORD", PASSWORD)
    config = smtp_config(
        auth_server.port, username="veille", password_env="VEILLE_TEST_SMTP_PASSWORD"
    )

    error = send_error(Mailer(config, tmp_path), a_message())

    text = str(error)
    assert text.startswith(
        f"le serveur SMTP 127.0.0.1:{auth_server.port} a refusé l'identification"
    )
    assert "VEILLE_TEST_SMTP_PASSWORD" in text
    assert PASSWORD not in text
    assert base64.b64encode(PASSWORD.encode()).decode()[:12] not in text


def test_starttls_not_offered(smtp_server: SmtpServer, tmp_path: Path) -> None:
    config = smtp_config(smtp_server.port, starttls=True)
    error = send_error(Mailer(config, tmp_path), a_message())
    assert str(error).startswith(
        f"le serveur SMTP 127.0.0.1:{smtp_server.port} ne propose pas STARTTLS"
    )
    assert "465 avec ssl: true" in str(error)


def test_ssl_on_a_plain_port_suggests_the_right_port(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    config = smtp_config(smtp_server.port, ssl=True)
    error = send_error(Mailer(config, tmp_path), a_message())
    assert f"négociation TLS avec le serveur SMTP 127.0.0.1:{smtp_server.port}" in str(error)
    assert "utilisez le port 465 avec ssl: true, ou 587 avec starttls: true" in str(error)
    assert smtp_server.messages == []


def test_connection_refused(tmp_path: Path) -> None:
    port = free_port()
    error = send_error(Mailer(smtp_config(port), tmp_path), a_message())
    assert str(error).startswith(f"connexion refusée par 127.0.0.1:{port}")


def test_unknown_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    config = smtp_config(25, host="smtp.introuvable.example")
    error = send_error(Mailer(config, tmp_path), a_message())
    assert str(error).startswith("serveur SMTP introuvable : smtp.introuvable.example:25")


class ScriptedSmtp:
    """A raw SMTP server on 127.0.0.1 that misbehaves on purpose.

    ``mode``: ``drip`` sends an endless multi-line banner one byte at a time;
    ``drop_at_data`` closes the connection on DATA (the message never went out);
    ``drop_after_data`` reads the whole message, then closes without answering;
    ``stall_after_data`` reads the whole message, then never answers.
    """

    def __init__(self, mode: str):
        self.mode = mode
        self.messages = 0
        self.done = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(20)
                with contextlib.suppress(OSError):
                    self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        if self.mode == "drip":
            stop = time.monotonic() + 15
            while not self.done.is_set() and time.monotonic() < stop:
                for byte in b"220-bienvenue\r\n":
                    conn.sendall(bytes([byte]))
                    time.sleep(0.05)
            return
        with conn.makefile("rb") as lines:
            conn.sendall(b"220 scripted ESMTP\r\n")
            for line in lines:
                command = line.strip().upper()
                if command.startswith(b"EHLO"):
                    conn.sendall(b"250-scripted\r\n250 8BITMIME\r\n")
                elif command == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                elif command == b"DATA":
                    if self.mode == "drop_at_data":
                        return
                    conn.sendall(b"354 go ahead\r\n")
                    for body in lines:
                        if body == b".\r\n":
                            break
                    self.messages += 1
                    if self.mode == "stall_after_data":
                        self.done.wait(20)
                    return
                else:
                    conn.sendall(b"250 OK\r\n")

    def close(self) -> None:
        self.done.set()
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def scripted() -> Iterator[Callable[[str], ScriptedSmtp]]:
    servers: list[ScriptedSmtp] = []

    def start(mode: str) -> ScriptedSmtp:
        servers.append(ScriptedSmtp(mode))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_connection_lost_after_the_whole_message_is_an_unknown_outcome(
    scripted: Callable[[str], ScriptedSmtp], tmp_path: Path
) -> None:
    server = scripted("drop_after_data")

    error = send_error(Mailer(smtp_config(server.port), tmp_path), a_message())

    assert server.messages == 1
    assert error.outcome_unknown and not error.too_large
    assert f"127.0.0.1:{server.port}" in str(error) and "peut-être accepté" in str(error)


def test_timeout_after_the_whole_message_is_an_unknown_outcome(
    scripted: Callable[[str], ScriptedSmtp], tmp_path: Path
) -> None:
    server = scripted("stall_after_data")
    started = time.monotonic()

    error = send_error(Mailer(smtp_config(server.port, timeout="1s"), tmp_path), a_message())

    assert time.monotonic() - started < 5
    assert error.outcome_unknown
    assert str(error).startswith(f"délai dépassé avec le serveur SMTP 127.0.0.1:{server.port}")


def test_connection_lost_before_the_message_went_out_is_a_plain_failure(
    scripted: Callable[[str], ScriptedSmtp], tmp_path: Path
) -> None:
    server = scripted("drop_at_data")

    error = send_error(Mailer(smtp_config(server.port), tmp_path), a_message())

    assert server.messages == 0
    assert not error.outcome_unknown and not error.too_large
    assert f"127.0.0.1:{server.port}" in str(error)


def test_a_server_dripping_its_banner_cannot_hold_the_send(
    scripted: Callable[[str], ScriptedSmtp], tmp_path: Path
) -> None:
    server = scripted("drip")
    mailer = Mailer(smtp_config(server.port, timeout="1s"), tmp_path)
    started = time.monotonic()

    error = send_error(mailer, a_message())

    elapsed = time.monotonic() - started
    assert elapsed < mailer.send_limit(len(a_message().as_bytes())) + 1.5, elapsed
    assert str(error).startswith(f"délai dépassé avec le serveur SMTP 127.0.0.1:{server.port}")
    assert not error.outcome_unknown
