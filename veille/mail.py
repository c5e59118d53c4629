"""Handing emails over: to an SMTP server, or to ``outbox/`` as ``.eml`` files.

``compose`` builds a multipart (text/plain + text/html) UTF-8 message whose
accented subject is RFC 2047-encoded by the standard library. ``Mailer.send``
returns only once the SMTP server accepted the message (or the file is on
disk); any failure is a :class:`~veille.errors.DeliveryError`.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from veille.config import SmtpConfig
from veille.errors import DeliveryError

log = logging.getLogger(__name__)


def new_message_id(sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1] or "veille.local"
    return make_msgid(idstring="veille", domain=domain)


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
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["X-Mailer"] = "veille"
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


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
        """Deliver ``message``; returns the outbox file when there is no SMTP server."""
        if self.smtp is None:
            return self._write_outbox(message)
        self._send_smtp(self.smtp, message)
        return None

    def _send_smtp(self, smtp: SmtpConfig, message: EmailMessage) -> None:
        password = smtp.password()
        if smtp.password_env and password is None:
            raise DeliveryError(
                f"la variable d'environnement {smtp.password_env} (mot de passe SMTP) "
                "n'est pas définie"
            )
        timeout = smtp.timeout.total_seconds()
        try:
            client: smtplib.SMTP
            if smtp.ssl:
                client = smtplib.SMTP_SSL(
                    smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
            with client:
                if smtp.starttls and not smtp.ssl:
                    client.starttls(context=ssl.create_default_context())
                if smtp.username:
                    client.login(smtp.username, password or "")
                refused = client.send_message(message)
        except smtplib.SMTPAuthenticationError:
            raise DeliveryError(
                f"le serveur SMTP {smtp.host} a refusé l'identification de {smtp.username}"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryError(
                f"le serveur SMTP {smtp.host} ne propose pas STARTTLS (mettez starttls: false "
                "seulement sur un réseau de confiance)"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"envoi impossible par {smtp.host}:{smtp.port} ({exc.__class__.__name__}: {exc})"
            ) from None
        if refused:
            log.warning("Destinataires refusés par le serveur SMTP : %s", ", ".join(refused))

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
