"""Texts through a real SMSC (smpp34's server): GSM 7-bit or UCS-2 as the text needs, long
ones in parts cut on characters' boundaries and joined again, the source address typed as
set, and each refusal read as passing, lasting or the gateway's own fault."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import smpplib.consts
from hypothesis import given
from hypothesis import strategies as st

from arrears.adapters.channels.smpp_sms import (
    SmppReceiptReader,
    SmppSmsSender,
    SmsGateway,
    reply_number,
)
from arrears.adapters.channels.sms_parts import (
    concatenation,
    read_short_message,
    short_messages,
)
from arrears.domain.messages import Message
from arrears.domain.receipts import Receipt
from arrears.domain.replies import Reply, ReplyPart
from arrears.services.dispatch_ports import SendFailed
from tests.channel_servers import Smsc, closed_port, running_smsc

AT = datetime(2025, 9, 30, 2, tzinfo=UTC)
TO = "+447700900123"


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    with running_smsc() as server:
        yield server


def sender(port: int, source: str = "10690000", ton: int = 0, npi: int = 1) -> SmppSmsSender:
    return SmppSmsSender(SmsGateway("127.0.0.1", port, "lender1", "pw", source, ton, npi,
                                    timeout=1.0))  # fmt: skip


@pytest.mark.parametrize(
    ("body", "parts"),
    [
        ("Hi Ann: £12.50 @ your_loan [L1] {x} €3", 1),  # GSM, its escapes and specials
        ("A" * 152 + "€" + "B" * 10, 2),  # the € would straddle parts: it moves whole
        ("A" * 160, 1),  # exactly one GSM message
        ("A" * 161, 2),
        ("【速还金融】您好" * 10, 2),  # UCS-2: 70 alone, 67 a part
        ("字" * 70, 1),
        ("字" * 66 + "𠮷" + "字" * 5, 2),  # a character outside the BMP is never cut
    ],
)
def test_a_text_arrives_whole_in_as_many_parts_as_it_needs(
    smsc: Smsc, body: str, parts: int
) -> None:
    with sender(smsc.port) as gateway:
        ids = gateway.send(TO, Message("sms", body), "key-1", AT)
    (text,) = smsc.texts  # the SMSC refuses a part over 140 octets
    assert (text.body, text.parts, text.destination) == (body, parts, TO.lstrip("+"))
    assert (text.dest_ton, text.dest_npi) == (1, 1)  # E.164: international, ISDN
    assert len(ids) == parts


def test_the_source_goes_with_its_type_of_number_and_plan(smsc: Smsc) -> None:
    with sender(smsc.port, "SuhuanFin", 5, 0) as gateway:
        gateway.send(TO, Message("sms", "hello"), "k", AT)
    (text,) = smsc.texts
    assert (text.source, text.source_ton, text.source_npi) == ("SuhuanFin", 5, 0)


def test_more_than_six_parts_is_refused_before_any_goes(smsc: Smsc) -> None:
    with sender(smsc.port) as gateway, pytest.raises(SendFailed) as refused:
        gateway.send(TO, Message("sms", "字" * (7 * 67)), "k", AT)
    assert refused.value.permanent
    assert smsc.submits == 0


@pytest.mark.parametrize(
    ("status", "permanent", "gateway"),
    [
        (smpplib.consts.SMPP_ESME_RTHROTTLED, False, False),
        (smpplib.consts.SMPP_ESME_RMSGQFUL, False, False),
        (smpplib.consts.SMPP_ESME_RINVDSTADR, True, False),
        # The lender's own side: every text would be refused alike.
        (smpplib.consts.SMPP_ESME_RINVSRCADR, True, True),
    ],
)
def test_a_refusal_is_passing_lasting_or_the_gateways(
    smsc: Smsc, status: int, permanent: bool, gateway: bool
) -> None:
    smsc.refuse.append(status)
    with sender(smsc.port) as sms, pytest.raises(SendFailed) as refused:
        sms.send(TO, Message("sms", "hello"), "k", AT)
    assert (refused.value.permanent, refused.value.gateway) == (permanent, gateway)
    assert refused.value.sent_parts == 0
    assert f"0x{status:08x}" in refused.value.detail


def test_a_later_part_refused_says_how_many_went(smsc: Smsc) -> None:
    smsc.refuse.extend([0, smpplib.consts.SMPP_ESME_RINVDSTADR])
    with sender(smsc.port) as sms, pytest.raises(SendFailed) as refused:
        sms.send(TO, Message("sms", "字" * 100), "k", AT)
    assert refused.value.sent_parts == 1
    assert smsc.texts == []  # never whole


def test_an_smsc_not_there_is_the_gateways_fault() -> None:
    with closed_port() as port, sender(port) as sms, pytest.raises(SendFailed) as refused:
        sms.send(TO, Message("sms", "hello"), "k", AT)
    assert refused.value.gateway
    assert not refused.value.permanent


def test_no_answer_to_a_part_is_never_sent_again_and_may_have_gone(smsc: Smsc) -> None:
    smsc.silent = True
    with sender(smsc.port) as sms, pytest.raises(SendFailed) as refused:
        sms.send(TO, Message("sms", "hello"), "k", AT)
    assert (refused.value.permanent, refused.value.maybe_sent) == (True, True)
    assert "it may have been sent" in refused.value.detail


@pytest.mark.parametrize(
    ("char", "code"),
    [("@", b"\x00"), ("£", b"\x01"), ("$", b"\x02"), ("_", b"\x11"), ("¤", b"\x24"),
     ("Ä", b"\x5b"), ("Ö", b"\x5c"), ("Ñ", b"\x5d"), ("Ü", b"\x5e"), ("§", b"\x5f"),
     ("¿", b"\x60"), ("ä", b"\x7b"), ("ö", b"\x7c"), ("ñ", b"\x7d"), ("ü", b"\x7e"),
     ("à", b"\x7f"), ("€", b"\x1b\x65"), ("[", b"\x1b\x3c"), ("^", b"\x1b\x14")],
)  # fmt: skip
def test_the_gsm_codes_are_the_standards(char: str, code: bytes) -> None:
    # 3GPP TS 23.038, 6.2.1: the default alphabet and its extension table.
    assert short_messages(char, 0).parts == (code,)
    assert short_messages(char, 0).coding == 0


def _no_receipt(receipt: Receipt) -> bool:
    raise AssertionError(f"no receipt was pushed, got {receipt}")


def _unwritten(reply: Reply) -> bool:
    return not reply  # the database busy: not written


def gateway_of(port: int) -> SmsGateway:
    return SmsGateway("127.0.0.1", port, "lender1", "pw", "10690000", 0, 1, timeout=1.0)


def read_replies(smsc: Smsc, region: str = "CN") -> list[Reply]:
    taken: list[Reply] = []

    def keep_reply(reply: Reply) -> bool:
        taken.append(reply)
        return True

    kept = SmppReceiptReader(gateway_of(smsc.port), region).read(2.0, _no_receipt, keep_reply)
    assert kept == len(taken) == smsc.counted("replies_taken", kept)
    return taken


def test_replies_are_read_in_any_coding_with_their_number_and_parts(smsc: Smsc) -> None:
    long_reply = "我已经还款了，" * 12  # 84 UCS-2 units: two parts with a header each
    smsc.replies[:] = [
        ("+8613812345678", "TD"), ("+8613812345678", "退订"),
        ("+12125551234", "Stop @ once $_"), ("+8613812345678", long_reply),
    ]  # fmt: skip
    taken = read_replies(smsc)
    assert [(r.number, r.text, r.part) for r in taken[:3]] == [
        ("+8613812345678", "TD", None), ("+8613812345678", "退订", None),
        ("+12125551234", "Stop @ once $_", None),
    ]  # fmt: skip
    # Each part of the long one, its header left out and read: a 16-bit reference.
    assert [r.part for r in taken[3:]] == [ReplyPart(0x5A5A, 2, 1), ReplyPart(0x5A5A, 2, 2)]
    assert "".join(r.text for r in taken[3:]) == long_reply


@pytest.mark.parametrize(
    ("ton", "national", "region", "number"),
    [
        (1, None, "CN", "+447911123456"),
        (0, None, "CN", "+447911123456"),  # the country code given without its +
        (2, "44", "GB", "+447911123456"),  # national: the settings' region
    ],
)
def test_a_replys_number_is_read_as_its_smsc_gives_it(
    smsc: Smsc, ton: int, national: str | None, region: str, number: str
) -> None:
    smsc.reply_ton, smsc.reply_national = ton, national
    smsc.replies[:] = [("+447911123456", "STOP")]
    (reply,) = read_replies(smsc, region)
    assert (reply.number, reply.text) == (number, "STOP")


def test_a_reply_not_written_is_left_for_the_smsc_to_send_again(smsc: Smsc) -> None:
    smsc.replies[:] = [("+8613812345678", "TD")]
    kept = SmppReceiptReader(gateway_of(smsc.port)).read(1.0, _no_receipt, _unwritten)
    assert (kept, smsc.replies_taken, smsc.replies) == (0, 0, [("+8613812345678", "TD")])
    # No reply handler: left for the lender's own ("try later"), never acknowledged.
    kept = SmppReceiptReader(gateway_of(smsc.port)).read(1.0, _no_receipt)
    assert (kept, smsc.replies_taken, len(smsc.replies)) == (0, 0, 1)


@pytest.mark.parametrize(
    ("source", "ton", "region", "number"),
    [
        ("8613812345678", 1, "CN", "+8613812345678"),  # international by its type of number
        ("+12125551234", 0, "CN", "+12125551234"),
        ("13812345678", 2, "CN", "+8613812345678"),  # national: the settings' region
        ("8613812345678", 0, "CN", "+8613812345678"),  # the country code without its +
        ("2125551234", 0, "US", "+12125551234"),
        ("447911123456", 0, "CN", "+447911123456"),  # not of the region: its country code
        ("8613812345678", 0, "US", "+8613812345678"),
        ("008613812345678", 1, "CN", "+8613812345678"),  # an international prefix left in
        ("10690000", 0, "CN", "10690000"),  # a service code: kept as given
        ("Bank", 5, "CN", "Bank"),  # an alphanumeric sender
        ("", 0, "CN", ""),
    ],
)
def test_a_replys_number_is_read_as_e164_when_it_can_be(
    source: str, ton: int, region: str, number: str
) -> None:
    assert reply_number(source, ton, region) == number


# What a borrower writes: any character but a control one (read as U+FFFD, tested below).
_WRITTEN = st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\n\r\t")


@given(st.text(_WRITTEN, max_size=400), st.integers(0, 255))
def test_a_short_message_reads_back_as_the_text_coded(text: str, reference: int) -> None:
    coded = short_messages(text, reference)
    # Every part decodes alone (a header each, none cut inside a character).
    assert "".join(read_short_message(p, coded.coding, coded.esm_class)
                   for p in coded.parts) == text  # fmt: skip


def test_a_control_character_is_no_part_of_a_reply() -> None:
    # An SMSC that counts the C string's NUL in; an escape sequence a borrower typed.
    assert read_short_message(b"STOP\x00", 3, 0) == "STOP\ufffd"
    assert read_short_message(b"ok\x1b[1A", 1, 0) == "ok\ufffd[1A"
    assert read_short_message(b"a\nb\tc\r", 1, 0) == "a\nb\tc\r"  # lines and tabs stay


def test_a_part_says_where_it_stands_in_its_reply() -> None:
    assert concatenation(bytes([5, 0, 3, 0x2A, 3, 2]) + b"ab", 0x40) == (0x2A, 3, 2)
    assert concatenation(bytes([6, 8, 4, 1, 2, 2, 1]) + b"ab", 0x40) == (258, 2, 1)
    # Another element first (0x24, a national language shift) is passed over.
    assert concatenation(bytes([8, 0x24, 1, 1, 0, 3, 9, 2, 2]) + b"x", 0x40) == (9, 2, 2)
    assert concatenation(bytes([5, 0, 3, 9, 2, 2]), 0) is None  # no header by esm_class
    assert concatenation(bytes([5, 0, 3, 9, 2, 3]), 0x40) is None  # part 3 of 2: no such
    assert concatenation(b"", 0x40) is None


def test_latin1_and_ia5_replies_read_as_such() -> None:
    assert read_short_message("Señor".encode("latin-1"), 3, 0) == "Señor"
    assert read_short_message(b"STOP", 1, 0) == "STOP"
    assert read_short_message(b"\x1b\x65 5", 0, 0) == "€ 5"  # an escape of the GSM alphabet
    assert read_short_message(b"\x00\x54\x00", 8, 0) == "T"  # an odd octet left out
