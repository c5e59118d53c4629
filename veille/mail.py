"""Handing emails over: to an SMTP server, or to ``outbox/`` as ``.eml`` files.

``compose`` builds a multipart (text/plain + text/html) UTF-8 message whose
accented subject is RFC 2047-encoded by the standard library; no header ever
carries a line break. ``Mailer.send`` returns only once the SMTP server
accepted the message (or the file is on disk); any failure is a
:class:`~veille.errors.DeliveryError` whose message is one French line naming
the server (``host:port``), never a traceback and never the password.

What a failed send tells the caller::

    DeliveryError                   not delivered; safe to send again later
    DeliveryError(too_large=True)   refused for its size (552): send less (a shorter
                                    digest, or the same mentions in parts)
    DeliveryError(outcome_unknown=True)
                                    the whole message went out but the connection
                                    was lost (or timed out) before the server's
                                    answer: it may have been accepted. Send it again
                                    unchanged, with the same Message-ID
                                    (:func:`stable_message_id`), so that a copy is
                                    a recognisable duplicate.

One send has an overall time limit (see :meth:`Mailer.send`): a server that
answers one byte at a time cannot hold a run for longer than that.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import smtplib
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from types import TracebackType
from typing import Any

from veille.config import SmtpConfig
from veille.errors import DeliveryError
from veille.sanitize import one_line

log = logging.getLogger(__name__)

# One send may last SEND_TIME_FACTOR × smtp.timeout, plus one second per
# MIN_BYTES_PER_SECOND bytes of message (a slow link still delivers a big digest).
SEND_TIME_FACTOR = 2
MIN_BYTES_PER_SECOND = 50_000


def _domain_of(sender: str) -> str:
    address = parseaddr(sender)[1] or sender
    domain = address.rsplit("@", 1)[-1] if "@" in address else ""
    return one_line(domain).strip("<>[] ") or "veille.local"


def new_message_id(sender: str) -> str:
    """A fresh, unique Message-ID at the sender's domain."""
    return make_msgid(idstring="veille", domain=_domain_of(sender))


def stable_message_id(sender: str, *parts: str) -> str:
    """A Message-ID derived from ``parts`` only: the same parts give the same id.

    ``stable_message_id(sender, "alerte", "42")`` is the id of the alert of
    mention 42 however often it is sent, so a resend after an unknown outcome is
    a duplicate the mail client recognises.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"<veille.{digest}@{_domain_of(sender)}>"


def compose(
    *,
    subject: str,
    text: str,
    html: str,
    sender: str,
    to: Sequence[str],
    message_id: str,
    date: datetime,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = one_line(subject)
    message["From"] = one_line(sender)
    message["To"] = ", ".join(one_line(address) for address in to)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = one_line(message_id)
    message["X-Mailer"] = "veille"
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


class _Watchdog:
    """Shuts the connection's sockets down once ``limit`` seconds have passed.

    smtplib's timeout applies to each socket operation: a server that sends one
    byte every few seconds never trips it. Shutting the socket down from this
    timer thread makes the blocked read or write fail at once.
    """

    def __init__(self, limit: float):
        self.limit = limit
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(limit, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        self._timer.join()


def _shut(sock: socket.socket) -> None:
    # A closed socket object has no descriptor any more (-1): this never touches
    # a descriptor reused by someone else.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedContext(ssl.SSLContext):
    """An SSL context whose sockets the watchdog knows before their handshake."""

    watchdog: _Watchdog

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLSocket:
        wrapped = super().wrap_socket(
            sock,
            server_side=server_side,
            do_handshake_on_connect=False,
            suppress_ragged_eofs=suppress_ragged_eofs,
            server_hostname=server_hostname,
            session=session,
        )
        self.watchdog.watch(wrapped)
        if do_handshake_on_connect:
            try:
                wrapped.do_handshake()
            except BaseException:
                wrapped.close()
                raise
        return wrapped


def _tls_context(watchdog: _Watchdog) -> _WatchedContext:
    """What ``ssl.create_default_context()`` gives (certificates and host checked)."""
    context = _WatchedContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    context.watchdog = watchdog
    return context


class _Connection(smtplib.SMTP):
    """smtplib.SMTP that knows how far a send went and lets the watchdog cut it short."""

    def __init__(
        self,
        host: str,
        *,
        timeout: float,
        watchdog: _Watchdog,
        implicit_tls: ssl.SSLContext | None,
    ):
        self.watchdog = watchdog
        self.implicit_tls = implicit_tls  # ssl: true (port 465): TLS from the first byte
        self.stage = "connexion"
        self.message_sent = False  # the whole message and its final dot went out
        self.accepted = False  # the server answered 250 to the message
        super().__init__(timeout=timeout)  # no host: Mailer calls connect() itself
        self._host = host  # the name STARTTLS checks the certificate against

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = socket.create_connection((host, port), timeout, self.source_address)
        self.watchdog.watch(raw)
        if self.implicit_tls is None:
            return raw
        self.stage = "TLS"
        return self.implicit_tls.wrap_socket(raw, server_hostname=host)

    def mail(self, sender: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        self.stage = "expéditeur"
        return super().mail(sender, options)

    def rcpt(self, recip: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        self.stage = "destinataire"
        return super().rcpt(recip, options)

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.stage = "message"
        code, response = super().data(msg)
        self.accepted = code == 250
        return code, response

    def send(self, s: Any) -> None:
        super().send(s)
        if self.stage == "message" and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.message_sent = True


def _reply(response: bytes | str) -> str:
    text = response.decode("utf-8", "replace") if isinstance(response, bytes) else response
    return one_line(text)[:200]


def _is_too_large(code: int, response: bytes | str) -> bool:
    """552 (RFC 5321: storage exceeded), or an enhanced code / text about the size."""
    text = _reply(response).lower()
    if code == 552 or "5.3.4" in text or "5.2.3" in text:
        return True
    return code in (550, 554) and any(w in text for w in ("size", "too large", "volumineux"))


def _timed_out(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class Mailer:
    """Sends through SMTP when configured, else writes ``.eml`` files to the outbox."""

    def __init__(self, smtp: SmtpConfig | None, outbox_dir: Path):
        self.smtp = smtp
        self.outbox_dir = outbox_dir

    @property
    def destination(self) -> str:
        if self.smtp is None:
            return f"dossier {self.outbox_dir}"
        return f"serveur SMTP {self.smtp.host}:{self.smtp.port}"

    def send(self, message: EmailMessage) -> Path | None:
        """Deliver ``message``; returns the outbox file when there is no SMTP server.

        One SMTP send lasts at most ``SEND_TIME_FACTOR`` (2) × ``smtp.timeout``
        plus one second per ``MIN_BYTES_PER_SECOND`` (50 kB) of message, from
        the connection to the server's answer; past that the connection is cut
        and the send fails with « délai dépassé ». (A name lookup of
        ``smtp.host`` that hangs is the system resolver's to time out.)

        Raises :class:`DeliveryError`, with ``too_large`` or ``outcome_unknown``
        set as described in the module docstring.
        """
        if self.smtp is None:
            return self._write_outbox(message)
        self._send_smtp(self.smtp, message)
        return None

    def send_limit(self, size: int) -> float:
        """Seconds one SMTP send of ``size`` bytes may last."""
        assert self.smtp is not None
        return SEND_TIME_FACTOR * self.smtp.timeout.total_seconds() + size / MIN_BYTES_PER_SECOND

    def _send_smtp(self, smtp: SmtpConfig, message: EmailMessage) -> None:
        password = smtp.password()
        if smtp.password_env and password is None:
            raise DeliveryError(
                f"la variable d'environnement {smtp.password_env} (mot de passe SMTP) "
                "n'est pas définie"
            )
        size = len(message.as_bytes())
        limit = self.send_limit(size)
        started = time.monotonic()
        with _Watchdog(limit) as watchdog:
            client = _Connection(
                smtp.host,
                timeout=smtp.timeout.total_seconds(),
                watchdog=watchdog,
                implicit_tls=_tls_context(watchdog) if smtp.ssl else None,
            )
            try:
                refused = self._converse(client, smtp, password, message, watchdog)
            except (smtplib.SMTPException, OSError) as exc:
                raise self._error(smtp, client, exc, size, limit, watchdog.expired) from None
            finally:
                client.close()
        if refused:
            log.warning(
                "Destinataires refusés par le serveur SMTP %s:%s : %s",
                smtp.host,
                smtp.port,
                ", ".join(one_line(str(r)) for r in refused),
            )
        elapsed = time.monotonic() - started
        log.debug("Message accepté par %s:%s en %.1f s", smtp.host, smtp.port, elapsed)

    @staticmethod
    def _converse(
        client: _Connection,
        smtp: SmtpConfig,
        password: str | None,
        message: EmailMessage,
        watchdog: _Watchdog,
    ) -> dict[str, tuple[int, bytes]]:
        code, banner = client.connect(smtp.host, smtp.port)
        if code != 220:
            raise smtplib.SMTPConnectError(code, banner)
        client.stage = "accueil"
        client.ehlo_or_helo_if_needed()
        if smtp.starttls and not smtp.ssl:
            client.stage = "STARTTLS"
            client.starttls(context=_tls_context(watchdog))
            client.ehlo()
        if smtp.username:
            client.stage = "identification"
            client.login(smtp.username, password or "")
        refused = client.send_message(message)
        client.stage = "fin"
        try:  # accepted: whatever happens now does not change that
            client.quit()
        except (smtplib.SMTPException, OSError) as exc:
            log.debug("QUIT après acceptation : %s", exc)
        return refused

    @staticmethod
    def _error(
        smtp: SmtpConfig,
        client: _Connection,
        exc: BaseException,
        size: int,
        limit: float,
        expired: bool,
    ) -> DeliveryError:
        """The French one-line DeliveryError for what went wrong."""
        server = f"{smtp.host}:{smtp.port}"
        unknown = client.message_sent and not client.accepted
        if unknown and not isinstance(exc, smtplib.SMTPResponseException):
            why = "délai dépassé" if expired or _timed_out(exc) else "connexion perdue"
            return DeliveryError(
                f"{why} avec le serveur SMTP {server} après l'envoi complet du message, "
                "avant sa réponse : il l'a peut-être accepté (il sera renvoyé à l'identique, "
                "même Message-ID)",
                outcome_unknown=True,
            )
        if expired:
            return DeliveryError(
                f"délai dépassé avec le serveur SMTP {server} : pas de réponse complète en "
                f"{limit:.0f} s (étape : {client.stage}) ; vérifiez smtp.host, smtp.port et "
                "le chiffrement (465 avec ssl: true, 587 avec starttls: true)"
            )
        kilobytes = f"{size / 1000:.0f} ko"
        if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError) and _is_too_large(
            exc.smtp_code, exc.smtp_error
        ):  # at MAIL FROM or at DATA
            return DeliveryError(
                f"le serveur SMTP {server} refuse le message, trop volumineux ({kilobytes}) : "
                f"{exc.smtp_code} {_reply(exc.smtp_error)}",
                too_large=True,
            )
        if isinstance(exc, smtplib.SMTPSenderRefused):
            return DeliveryError(
                f"le serveur SMTP {server} refuse l'expéditeur {one_line(str(exc.sender))} : "
                f"{exc.smtp_code} {_reply(exc.smtp_error)} (vérifiez digest.from)"
            )
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            refused = "; ".join(
                f"{one_line(str(address))} ({code} {_reply(text)})"
                for address, (code, text) in exc.recipients.items()
            )
            return DeliveryError(
                f"le serveur SMTP {server} refuse le(s) destinataire(s) : {refused} "
                "(vérifiez digest.to)"
            )
        if isinstance(exc, smtplib.SMTPDataError):
            return DeliveryError(
                f"le serveur SMTP {server} a refusé le message : "
                f"{exc.smtp_code} {_reply(exc.smtp_error)}"
            )
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return DeliveryError(
                f"le serveur SMTP {server} a refusé l'identification de "
                f"{one_line(smtp.username or '')} : {exc.smtp_code} {_reply(exc.smtp_error)} "
                f"(vérifiez smtp.username et le mot de passe dans {smtp.password_env or '?'})"
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            if client.stage == "STARTTLS":
                return DeliveryError(
                    f"le serveur SMTP {server} ne propose pas STARTTLS : s'il attend une "
                    "connexion chiffrée dès le départ, utilisez le port 465 avec ssl: true ; "
                    "sinon starttls: false, seulement sur un réseau de confiance"
                )
            if client.stage == "identification":
                return DeliveryError(
                    f"le serveur SMTP {server} ne propose pas l'identification (AUTH) sur "
                    "cette connexion : activez starttls: true (port 587) ou ssl: true (port "
                    "465), ou retirez smtp.username"
                )
            return DeliveryError(f"le serveur SMTP {server} ne prend pas en charge : {exc}")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return DeliveryError(
                f"certificat TLS du serveur SMTP {server} refusé : "
                f"{one_line(exc.verify_message or str(exc))} (vérifiez smtp.host : le nom doit "
                "être celui du certificat)"
            )
        if isinstance(exc, ssl.SSLError):
            hint = (
                "ce port n'attend pas une connexion chiffrée dès le départ : utilisez le port "
                "465 avec ssl: true, ou 587 avec starttls: true"
            )
            return DeliveryError(
                f"échec de la négociation TLS avec le serveur SMTP {server} "
                f"({one_line(exc.reason or exc.__class__.__name__)}) : {hint}"
            )
        if isinstance(exc, smtplib.SMTPConnectError):
            return DeliveryError(
                f"le serveur SMTP {server} refuse la connexion : "
                f"{exc.smtp_code} {_reply(exc.smtp_error)}"
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            return DeliveryError(
                f"le serveur SMTP {server} a répondu {exc.smtp_code} {_reply(exc.smtp_error)} "
                f"(étape : {client.stage})"
            )
        if isinstance(exc, socket.gaierror):
            return DeliveryError(
                f"serveur SMTP introuvable : {server} (nom d'hôte inconnu ; vérifiez smtp.host)"
            )
        if isinstance(exc, ConnectionRefusedError):
            return DeliveryError(
                f"connexion refusée par {server} : aucun serveur SMTP n'écoute là "
                "(vérifiez smtp.host et smtp.port)"
            )
        if _timed_out(exc):
            return DeliveryError(
                f"délai dépassé avec le serveur SMTP {server} (étape : {client.stage}) ; "
                "vérifiez smtp.host, smtp.port et le chiffrement (465 avec ssl: true, 587 "
                "avec starttls: true)"
            )
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return DeliveryError(
                f"connexion fermée par le serveur SMTP {server} (étape : {client.stage})"
            )
        reason = one_line(getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__)
        return DeliveryError(f"envoi impossible par le serveur SMTP {server} : {reason}")

    def _write_outbox(self, message: EmailMessage) -> Path:
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            fd, temp = tempfile.mkstemp(prefix=f".{stamp}-", suffix=".tmp", dir=self.outbox_dir)
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            final = Path(temp).with_name(Path(temp).name.lstrip(".").removesuffix(".tmp") + ".eml")
            os.replace(temp, final)
            return final
        except OSError as exc:
            raise DeliveryError(
                f"écriture impossible dans le dossier d'envoi {self.outbox_dir} ({exc.strerror})"
            ) from None
