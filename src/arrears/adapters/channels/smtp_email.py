"""E-mail through an SMTP server (smtplib), one connection for a batch of messages."""

import contextlib
import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from types import TracebackType

from arrears.domain.messages import Message
from arrears.services.dispatch_ports import SendFailed

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class EmailGateway:
    """Where e-mail goes out: the server, who it is from, and how to sign in."""

    host: str
    port: int
    sender: str  # the From header: "催收中心 <collections@example.com>"
    sender_address: str  # its one address: the envelope's sender, the Message-ID's domain
    starttls: bool = False
    username: str | None = None
    password: str | None = None  # read from the environment, never from the settings file


class SmtpEmailSender:
    """Sends each message as a plain-text UTF-8 e-mail; use it as a context manager."""

    def __init__(self, gateway: EmailGateway) -> None:
        self.gateway = gateway
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpEmailSender":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._smtp is not None:
            # The messages sent are sent; a server gone at the end changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None

    def send(self, to: str, message: Message, key: str, at: datetime) -> tuple[str, ...]:
        """Send one e-mail to one address; its Message-ID is made from `key`. SendFailed:
        the sender refused is the gateway's fault; the recipient or the message refused is
        permanent on a 5xx answer; once the message was handed over, no answer is permanent
        and may have been sent (never sent twice). The details never name the address."""
        sender = self.gateway.sender_address
        try:
            mail = _mail(self.gateway.sender, sender, to, message, (key, at))
        except ValueError as error:  # a header the e-mail package refuses: nothing went
            raise SendFailed(f"the message cannot be written as an e-mail: {_said(str(error), to)}",
                             permanent=True) from None  # fmt: skip
        smtp = self._open()
        where = f"SMTP {self.gateway.host}:{self.gateway.port}"
        try:
            code, said = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                raise SendFailed(f"{where} refused the sender {sender}: {code} {_said(said)}",
                                 permanent=False, gateway=True)  # fmt: skip
            code, said = smtp.rcpt(to)
            if code not in (250, 251):
                smtp.rset()
                raise SendFailed(f"the recipient refused: {code} {_said(said, to)}",
                                 permanent=code >= 500)  # fmt: skip
        except (smtplib.SMTPException, OSError) as error:  # before the message: nothing sent
            self._drop()
            raise SendFailed(f"{where}: {_said(str(error), to)}", permanent=False) from None
        try:
            # RFC 5321 2.3.8: lines end in CRLF on the wire.
            code, said = smtp.data(mail.as_bytes(policy=policy.SMTP))
        except smtplib.SMTPDataError as error:  # the DATA command refused: nothing sent
            try:
                smtp.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()  # it hung up as it refused: the next message opens another
            raise SendFailed(f"{where} refused the message: {error.smtp_code} "
                             f"{_said(error.smtp_error, to)}",
                             permanent=error.smtp_code >= 500) from None  # fmt: skip
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise SendFailed(f"{where}: no answer once the message was handed over "
                             f"({_said(str(error), to)}): it may have been sent, so it is not "
                             f"sent again", permanent=True, maybe_sent=True) from None  # fmt: skip
        if code != 250:  # the server answered the message itself: not taken
            raise SendFailed(f"{where} refused the message: {code} {_said(said, to)}",
                             permanent=code >= 500)  # fmt: skip
        return (str(mail["Message-ID"]),)

    def _open(self) -> smtplib.SMTP:
        """The batch's connection, opened (and signed in) on first use."""
        if self._smtp is None:
            gateway = self.gateway
            try:
                smtp = smtplib.SMTP(gateway.host, gateway.port, timeout=TIMEOUT_SECONDS)
            except (smtplib.SMTPException, OSError) as error:
                raise SendFailed(f"SMTP {gateway.host}:{gateway.port}: {error}",
                                 permanent=False, gateway=True) from None  # fmt: skip
            try:
                smtp.ehlo_or_helo_if_needed()
                if gateway.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()  # RFC 3207 4.2: what the server offers is asked again
                if gateway.username:
                    smtp.login(gateway.username, gateway.password or "")
            except (smtplib.SMTPException, OSError) as error:
                smtp.close()
                raise SendFailed(f"SMTP {gateway.host}:{gateway.port} sign-in: {error}",
                                 permanent=False, gateway=True) from None  # fmt: skip
            self._smtp = smtp
        return self._smtp

    def _drop(self) -> None:
        """Forget a connection in an unknown state: the next message opens another."""
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _mail(
    sender: str, address: str, to: str, message: Message, keyed: tuple[str, datetime]
) -> EmailMessage:
    """The e-mail of `message` from `sender` (its address `address`), dated and with its
    Message-ID made from its row's key (`keyed`: the key, the moment)."""
    key, at = keyed
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(at)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    mail["Message-ID"] = f"<{digest}@{address.rpartition('@')[2]}>"
    # Base64: seven-bit lines any server takes, whatever the text's script.
    mail.set_content(message.body, cte="base64")
    return mail


def _said(answer: bytes | str, address: str = "") -> str:
    """A server's answer as text, with the recipient's address (which many quote) masked:
    the borrower's address is kept in the delivery, never printed."""
    text = answer.decode(errors="replace") if isinstance(answer, bytes) else answer
    return text.replace(address, "<recipient>") if address else text
