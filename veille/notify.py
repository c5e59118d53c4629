"""Every email veille sends leaves through one :class:`Notifier`, by one send path.

What goes out, and to whom:

- an urgent alert per urgent mention (``digest.to``), marked sent only after the
  server accepted it; its Message-ID derives from the mention, so a resend after
  an unknown outcome is a duplicate the mail client recognises;
- one notice to the admins (``digest.admin_to``) per run in which sources
  started failing or recovered; the sources are marked notified after it;
- a notice to the admins when the store cannot be used, or works again (the
  daemon sends it once per episode: the store cannot remember that it did);
- the daily digest (``digest.to``), exactly once:

  reserve → send → complete
      The unsent mentions are reserved for the digest with its Message-ID, the
      digest is sent, then marked sent. A refused delivery gives them back (abort)
      for the next run. When the server may have accepted it (connection lost
      after the whole message, or some parts accepted), the reservation stays and
      the next run sends the same message again, same Message-ID — as after a
      crash (:meth:`Notifier.send_digest` first resumes such digests).
  too large (552)
      The digest goes out in parts of :data:`DIGEST_PART_SIZE` mentions; if a
      part is still too large, one short digest that only counts them. Every
      part's Message-ID derives from the reservation's, so a resend repeats the
      same messages with the same ids.

Composing the message, its Message-ID (a new one unless a stable one is given)
and handing it to the :class:`~veille.mail.Mailer` happen in one place,
:meth:`Notifier._send`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from storage.store import DigestClaim, MentionRecord, MentionStore
from veille.alerts import (
    KeywordSpotter,
    Notice,
    build_alert,
    build_source_notice,
    build_spike_notice,
    build_storage_notice,
    is_spike,
)
from veille.config import Config
from veille.digest import LIST_LIMIT, Digest, build_digest, is_stale
from veille.errors import DeliveryError, StorageError
from veille.mail import Mailer, compose, new_message_id, stable_message_id

log = logging.getLogger(__name__)

SPIKE = "pic"  # the kind of daily notice « Pic de mentions »
SPIKE_DAYS = 28  # days the usual count is taken over

DIGEST_PART_SIZE = 50  # mentions per part when the server refuses the whole digest


class Notifier:
    """Sends veille's emails with ``mailer`` and records in ``store`` what went out."""

    def __init__(self, config: Config, store: MentionStore, mailer: Mailer):
        self.config = config
        self.store = store
        self.mailer = mailer
        # where the emails' links into the workspace point (web.base_url), if anywhere
        self.base_url = config.web.base_url if config.web else None

    # --- alerts and notices --------------------------------------------------------------

    def send_alerts(self, now: datetime, spotter: KeywordSpotter | None = None) -> int:
        """Send one email per urgent mention not yet alerted; mark each after acceptance.
        ``spotter`` finds the keyword again for mentions stored without it."""
        sent = 0
        digest = self.config.digest
        for mention in self.store.pending_alerts():
            notice = build_alert(
                mention,
                brand=self.config.brand.name,
                zone=digest.zone,
                spotter=spotter,
                base_url=self.base_url,
            )
            # the same id however often it is sent: a resend after an unknown outcome is a
            # duplicate the mail client recognises
            message_id = stable_message_id(
                digest.sender, "alerte", str(mention.id), mention.found_at.isoformat()
            )
            self._send(notice, to=digest.to, now=now, message_id=message_id)
            self.store.mark_alert_sent(mention.id, now)
            sent += 1
            log.info("Alerte urgente envoyée : %s", mention.title)
        return sent

    def send_source_notices(self, now: datetime) -> int:
        """Tell the admins once when a source starts failing and once when it recovers.

        Every change of this run goes into one email; the sources are marked
        notified only after the email was accepted. Returns the emails sent (0 or 1).
        """
        digest = self.config.digest
        names = [s.name for s in self.config.enabled_sources]
        changes = [r for r in self.store.sources(names).values() if r.failing != r.notified_failing]
        if not changes:
            return 0
        if digest.admin_to:
            notice = build_source_notice(changes, now=now, zone=digest.zone)
            self._send(notice, to=digest.admin_to, now=now)
        for record in changes:
            self.store.mark_notified(record.name, record.failing)
        return 1 if digest.admin_to else 0

    def send_storage_notice(self, error: StorageError | None, now: datetime) -> None:
        """Tell the admins that the store cannot be used (``error``), or works again (None).

        It never touches the store: the daemon calls it once per episode.
        """
        digest = self.config.digest
        if not digest.admin_to:
            return
        notice = build_storage_notice(error, now=now, zone=digest.zone)
        self._send(notice, to=digest.admin_to, now=now)

    def send_spike_notice(self, now: datetime) -> bool:
        """« Pic de mentions » to digest.to, once a day, when today's mentions stand out
        from the 28 days before (see :func:`veille.alerts.is_spike`)."""
        zone = self.config.digest.zone
        today = now.astimezone(zone).date()
        start = datetime.combine(today - timedelta(days=SPIKE_DAYS), time(), zone)
        per_day: dict[date, int] = {}
        for day, _, count in self.store.daily_counts(start, zone):
            per_day[day] = per_day.get(day, 0) + count
        count = per_day.get(today, 0)
        history = [per_day.get(today - timedelta(days=k), 0) for k in range(1, SPIKE_DAYS + 1)]
        first = self.store.first_found()
        if first is None or first > start:  # less than 28 days of history: no usual yet
            return False
        if not is_spike(count, history):
            return False
        if not self.store.claim_daily_notice(SPIKE, today, now):
            return False  # already sent today
        titles = self.store.top_titles(datetime.combine(today, time(), zone))
        mean = sum(history) / len(history)
        notice = build_spike_notice(count, mean, titles, brand=self.config.brand.name, day=today)
        try:
            self._send(notice, to=self.config.digest.to, now=now)
        except DeliveryError:
            self.store.release_daily_notice(SPIKE, today)
            raise
        log.info("Pic de mentions signalé : %d aujourd'hui (moyenne %.1f)", count, mean)
        return True

    # --- the digest ----------------------------------------------------------------------

    def send_digest(self, now: datetime, *, force: bool = False) -> str | None:
        """Send the digest of every mention not yet sent, if it is due (``digest.at`` has
        passed and none was sent today) or ``force`` (``veille digest``); returns its
        subject, None if none was sent.

        Digests a crash or an unknown outcome left reserved are first sent again, as
        they were. Raises :class:`~veille.errors.DeliveryError` when one could not be
        sent: its mentions go into the next digest, or, if the server may have
        accepted it, it is resent unchanged next time.
        """
        self.resume_pending_digests(now)
        if not force and not self._digest_due(now):
            return None
        day = now.astimezone(self.config.digest.zone).date()
        claim = self.store.claim_digest(
            day=day, now=now, message_id=new_message_id(self.config.digest.sender)
        )
        if not claim.mentions and not self.config.digest.send_empty:
            self.store.abort_digest(claim.id)
            return None
        try:
            return self._deliver(claim, now)
        except DeliveryError as exc:
            if not exc.outcome_unknown:
                self.store.abort_digest(claim.id)
            raise

    def resume_pending_digests(self, now: datetime) -> int:
        """Send again, unchanged and with the same Message-ID, any digest a crash left
        between "reserved" and "marked sent". If the server had accepted it before the
        crash, the copy is a recognisable duplicate (same Message-ID)."""
        claims = self.store.pending_digests()
        for claim in claims:
            log.warning("Résumé interrompu (%s) : nouvel envoi à l'identique", claim.message_id)
            self._deliver(claim, now)
        return len(claims)

    def preview_digest(self, now: datetime) -> Digest:
        """The digest :meth:`send_digest` would send now (``veille digest --dry-run``);
        nothing is reserved or marked."""
        day = now.astimezone(self.config.digest.zone).date()
        return self._digest_of(self.store.unsent_mentions(), day=day, now=now)

    def _digest_due(self, now: datetime) -> bool:
        local = now.astimezone(self.config.digest.zone)
        return local.time() >= self.config.digest.at and not self.store.digest_sent_on(local.date())

    def _digest_of(
        self,
        mentions: Sequence[MentionRecord],
        *,
        day: date,
        now: datetime,
        list_limit: int = LIST_LIMIT,
        part: tuple[int, int] | None = None,
    ) -> Digest:
        """The digest of ``mentions``, with the sources' health for its footer."""
        enabled = self.config.enabled_sources
        records = self.store.sources([s.name for s in enabled])
        stale = [s.name for s in enabled if is_stale(s, records.get(s.name), now)]
        return build_digest(
            mentions,
            brand=self.config.brand.name,
            day=day,
            now=now,
            zone=self.config.digest.zone,
            sources=list(records.values()),
            total_mentions=self.store.counts()["mentions"],
            stale=stale,
            list_limit=list_limit,
            part=part,
            base_url=self.base_url,
        )

    def _deliver(self, claim: DigestClaim, now: datetime) -> str:
        """Send a reserved digest (in parts if it is refused for its size) and mark it
        sent; returns the subject."""

        def send(mentions: Sequence[MentionRecord], message_id: str, **shape: Any) -> str:
            digest = self._digest_of(mentions, day=claim.day, now=now, **shape)
            self._send(digest, to=self.config.digest.to, now=now, message_id=message_id)
            return digest.subject

        try:
            subject = send(claim.mentions, claim.message_id)
        except DeliveryError as exc:
            if not exc.too_large:
                raise
            log.warning("Résumé refusé pour sa taille : envoi en plusieurs parties")
            subject = self._deliver_in_parts(claim, send)
        self.store.complete_digest(claim.id, now, subject)
        log.info("Résumé envoyé (%s) : %s", self.mailer.destination, subject)
        return subject

    def _deliver_in_parts(self, claim: DigestClaim, send: Callable[..., str]) -> str:
        sender = self.config.digest.sender
        ordered = sorted(claim.mentions, key=lambda m: (not m.urgent, m.id))
        size = DIGEST_PART_SIZE
        parts = [ordered[start : start + size] for start in range(0, len(ordered), size)] or [[]]
        subject = ""
        for number, mentions in enumerate(parts, start=1):
            part_id = stable_message_id(sender, claim.message_id, f"partie {number}/{len(parts)}")
            try:
                sent = send(mentions, part_id, list_limit=size, part=(number, len(parts)))
            except DeliveryError as exc:
                if not exc.too_large:
                    if number > 1:  # parts were accepted: keep the reservation, resend as is
                        raise DeliveryError(str(exc), outcome_unknown=True) from exc
                    raise
                log.warning("Partie %d du résumé encore trop grande : résumé abrégé", number)
                return send(
                    claim.mentions,
                    stable_message_id(sender, claim.message_id, "abrégé"),
                    list_limit=0,
                )
            subject = subject or sent
        return subject

    # --- the one send path ---------------------------------------------------------------

    def _send(
        self,
        email: Notice | Digest,
        *,
        to: Sequence[str],
        now: datetime,
        message_id: str | None = None,
    ) -> None:
        """Compose ``email`` and hand it to the mailer (a new Message-ID unless one is
        given); returns once it was accepted, else raises DeliveryError."""
        sender = self.config.digest.sender
        self.mailer.send(
            compose(
                subject=email.subject,
                text=email.text,
                html=email.html,
                sender=sender,
                to=to,
                message_id=message_id or new_message_id(sender),
                date=now,
            )
        )
