"""Delivery receipts: read from the receipt's text or its parameters (which win), final or
not; a text is delivered once every part is and undelivered once any part is not."""

import pytest

from arrears.domain.receipts import DELIVERED, UNDELIVERED, read_receipt, text_outcome

# SMPP 3.4, Appendix B: the receipt's text as most SMSCs write it.
TEXT = ("id:{id} sub:001 dlvrd:001 submit date:2509301000 done date:2509301001 "
        "stat:{stat} err:{err} text:")  # fmt: skip


@pytest.mark.parametrize(
    ("stat", "state"),
    [("DELIVRD", DELIVERED), ("UNDELIV", UNDELIVERED), ("EXPIRED", UNDELIVERED),
     ("REJECTD", UNDELIVERED), ("DELETED", UNDELIVERED), ("ACCEPTD", UNDELIVERED),
     ("ENROUTE", None), ("UNKNOWN", None)],
)  # fmt: skip
def test_a_receipts_text_says_its_state(stat: str, state: str | None) -> None:
    receipt = read_receipt(TEXT.format(id="abc123", stat=stat, err="000"), None, None)
    assert receipt is not None
    assert (receipt.message_id, receipt.state) == ("abc123", state)
    assert receipt.said == f"stat:{stat} err:000"


def test_the_parameters_win_over_the_text() -> None:
    text = TEXT.format(id="fromtext", stat="DELIVRD", err="000")
    receipt = read_receipt(text, "fromtlv", 5)  # message_state 5: UNDELIVERABLE
    assert receipt is not None
    assert (receipt.message_id, receipt.state) == ("fromtlv", UNDELIVERED)
    # The parameter's state stands, final or not (the text's layout is only a convention).
    later = read_receipt(text, "fromtlv", 1)  # ENROUTE
    assert later is not None
    assert later.state is None


def test_a_message_naming_no_part_is_no_receipt() -> None:
    assert read_receipt("reply: I will pay tomorrow", None, None) is None


def test_a_text_is_delivered_once_every_part_is_and_undelivered_once_any_is_not() -> None:
    assert text_outcome([DELIVERED, DELIVERED]) == DELIVERED
    assert text_outcome([DELIVERED, None]) is None
    assert text_outcome([None, UNDELIVERED]) == UNDELIVERED
    assert text_outcome([]) is None
