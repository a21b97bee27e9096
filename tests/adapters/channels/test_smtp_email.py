"""E-mails through a real SMTP server (aiosmtpd): a Chinese subject and sender intact, one
recipient, a Message-ID made from the key; each refusal read as passing, lasting or the
gateway's own fault; no answer once the message was handed over is never sent again."""

from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parseaddr

import pytest

from arrears.adapters.channels.smtp_email import EmailGateway, SmtpEmailSender
from arrears.domain.messages import Message
from arrears.services.dispatch_ports import SendFailed
from tests.channel_servers import Mailbox, closed_port, running_smtp

AT = datetime(2025, 9, 30, 2, tzinfo=UTC)
MAIL = Message("email", "王芳您好，您的借款已逾期。", "【速还金融】借款L1逾期提醒")


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    with running_smtp() as server:
        yield server


def sender(port: int) -> SmtpEmailSender:
    return SmtpEmailSender(
        EmailGateway(
            "127.0.0.1", port, "速还金融 <collect@suhuan.example>", "collect@suhuan.example"
        )
    )


def test_an_email_arrives_as_written_with_a_message_id_of_its_key(
    smtp: tuple[int, Mailbox],
) -> None:
    port, mailbox = smtp
    with sender(port) as gateway:
        (first,) = gateway.send("a@example.com", MAIL, "key-1", AT)
        (again,) = gateway.send("b@example.com", MAIL, "key-1", AT)
        (other,) = gateway.send("a@example.com", MAIL, "key-2", AT)
    assert first == again != other
    mail = mailbox.mails[0]
    assert mail["Subject"] == "【速还金融】借款L1逾期提醒"
    assert parseaddr(mail["From"]) == ("速还金融", "collect@suhuan.example")
    assert mail["To"] == "a@example.com"
    assert mail["Message-ID"] == first
    assert first.endswith("@suhuan.example>")
    assert mail.get_content().strip() == "王芳您好，您的借款已逾期。"
    assert [m["To"] for m in mailbox.mails] == ["a@example.com", "b@example.com", "a@example.com"]


def test_a_message_no_header_can_hold_is_refused_for_good_before_anything_goes(
    smtp: tuple[int, Mailbox],
) -> None:
    # The e-mail package refuses it before the server is spoken to: nothing went, so it is
    # not "may have been sent" (helper-117).
    port, mailbox = smtp
    broken = Message("email", "正文", "借款L1\u2028逾期")
    with sender(port) as gateway, pytest.raises(SendFailed) as refused:
        gateway.send("a@example.com", broken, "key-1", AT)
    assert refused.value.permanent
    assert not refused.value.maybe_sent
    assert "cannot be written as an e-mail" in str(refused.value)
    assert mailbox.mails == []


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [("550 5.1.1 No such user", True), ("450 4.2.1 Mailbox busy", False)],
)
def test_a_recipient_refused_is_lasting_or_passing_by_its_code(
    smtp: tuple[int, Mailbox], answer: str, permanent: bool
) -> None:
    port, mailbox = smtp
    mailbox.refuse["a@example.com"] = answer
    with sender(port) as gateway:
        with pytest.raises(SendFailed) as refused:
            gateway.send("a@example.com", MAIL, "k", AT)
        gateway.send("b@example.com", MAIL, "k2", AT)  # the connection goes on
    assert (refused.value.permanent, refused.value.gateway) == (permanent, False)
    assert answer[:3] in refused.value.detail
    assert [m["To"] for m in mailbox.mails] == ["b@example.com"]


def test_the_sender_refused_is_the_gateways_fault(smtp: tuple[int, Mailbox]) -> None:
    port, mailbox = smtp
    mailbox.refuse_sender = "553 5.7.1 Sender not allowed"
    with sender(port) as gateway, pytest.raises(SendFailed) as refused:
        gateway.send("a@example.com", MAIL, "k", AT)
    assert refused.value.gateway
    assert mailbox.mails == []


def test_no_answer_once_the_message_was_handed_over_is_never_sent_again(
    smtp: tuple[int, Mailbox],
) -> None:
    port, mailbox = smtp
    mailbox.hang_up_after_data = True
    with sender(port) as gateway, pytest.raises(SendFailed) as refused:
        gateway.send("a@example.com", MAIL, "k", AT)
    assert (refused.value.permanent, refused.value.maybe_sent) == (True, True)
    assert "it may have been sent" in refused.value.detail
    assert len(mailbox.mails) == 1  # the server had it


def test_a_server_not_there_is_the_gateways_fault() -> None:
    with closed_port() as port, sender(port) as gateway, pytest.raises(SendFailed) as refused:
        gateway.send("a@example.com", MAIL, "k", AT)
    assert refused.value.gateway


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [("554 5.7.1 Message rejected as spam", True), ("451 4.3.0 Try again later", False)],
)
def test_the_message_refused_once_handed_over_is_not_sent(
    smtp: tuple[int, Mailbox], answer: str, permanent: bool
) -> None:
    port, mailbox = smtp
    mailbox.refuse_message = answer
    with sender(port) as gateway:
        with pytest.raises(SendFailed) as refused:
            gateway.send("a@example.com", MAIL, "k", AT)
        mailbox.refuse_message = None
        gateway.send("b@example.com", MAIL, "k2", AT)  # the same connection goes on
    assert (refused.value.permanent, refused.value.maybe_sent) == (permanent, False)
    assert answer[:3] in refused.value.detail
    assert [m["To"] for m in mailbox.mails] == ["b@example.com"]


def test_lines_end_in_crlf_and_the_text_is_seven_bit(smtp: tuple[int, Mailbox]) -> None:
    port, mailbox = smtp
    with sender(port) as gateway:
        gateway.send("a@example.com", MAIL, "k", AT)
    (raw,) = mailbox.raw
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare LF (RFC 5321 2.3.8)


def test_the_recipients_address_is_never_in_the_detail(smtp: tuple[int, Mailbox]) -> None:
    port, mailbox = smtp
    mailbox.refuse["wang.fang@example.com"] = "550 5.1.1 <wang.fang@example.com>: no such user"
    with sender(port) as gateway, pytest.raises(SendFailed) as refused:
        gateway.send("wang.fang@example.com", MAIL, "k", AT)
    assert "wang.fang" not in refused.value.detail
    assert "<recipient>" in refused.value.detail
