"""Texts through a real SMSC (smpp34's server): GSM 7-bit or UCS-2 as the text needs, long
ones in parts cut on characters' boundaries and joined again, the source address typed as
set, and each refusal read as passing, lasting or the gateway's own fault."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import smpplib.consts

from arrears.adapters.channels.smpp_sms import SmppSmsSender, SmsGateway
from arrears.adapters.channels.sms_parts import short_messages
from arrears.domain.messages import Message
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
