"""Delivery receipts of texts: what an SMSC says became of a part it took, and what a text's
parts together say of it."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

DELIVERED, UNDELIVERED = "delivered", "undelivered"
# The final states of a receipt's text (SMPP 3.4, Appendix B) and of its message_state
# parameter (5.2.28), read as delivered or not; the others (ENROUTE, UNKNOWN) say nothing
# final yet. ACCEPTD is final but means someone took it on the borrower's behalf (customer
# service), not that it reached them: not delivered.
_TEXT_STATES = {"DELIVRD": DELIVERED, "EXPIRED": UNDELIVERED, "DELETED": UNDELIVERED,
                "UNDELIV": UNDELIVERED, "REJECTD": UNDELIVERED, "ACCEPTD": UNDELIVERED}  # fmt: skip
_TLV_STATES = {2: DELIVERED, 3: UNDELIVERED, 4: UNDELIVERED, 5: UNDELIVERED, 6: UNDELIVERED,
               8: UNDELIVERED}  # fmt: skip
_ID = re.compile(r"\bid:(\S+)")
_STAT = re.compile(r"\bstat:(\w+)")
_ERR = re.compile(r"\berr:(\w+)")


@dataclass(frozen=True)
class Receipt:
    """A part's receipt: the SMSC's id of the part, delivered or undelivered (None: not
    final yet), and the receipt's own words."""

    message_id: str
    state: str | None
    said: str
    address: str = ""  # the number the part went to, as the receipt names it (its source)


def read_receipt(text: str, message_id: str | None, message_state: int | None) -> Receipt | None:
    """A receipt from a deliver_sm's text ("id:… sub:… dlvrd:… stat:DELIVRD err:000 …") and
    its receipted_message_id and message_state parameters, which win when given (the text's
    layout is only a convention); None when it names no message."""
    found = _ID.search(text)
    named = message_id or (found.group(1) if found else None)
    if not named:
        return None
    stat = _STAT.search(text)
    if message_state is not None:
        state = _TLV_STATES.get(message_state)
    else:
        state = _TEXT_STATES.get(stat.group(1).upper()) if stat is not None else None
    err = _ERR.search(text)
    said = " ".join(part for part in (stat.group(0) if stat else "", err.group(0) if err else "")
                    if part) or text[:60]  # fmt: skip
    return Receipt(named, state, said)


def text_outcome(parts: Sequence[str | None]) -> str | None:
    """What a text's parts' receipts say of it: undelivered once any part is, delivered once
    every part is, else None (not known yet)."""
    if any(p == UNDELIVERED for p in parts):
        return UNDELIVERED
    if parts and all(p == DELIVERED for p in parts):
        return DELIVERED
    return None
