"""Flags people set on a loan, which a ladder's entry rules read (`flags = ["legal"]`).

The set is closed: a ladder naming a flag nothing sets would never match, so the loader
refuses it. `legal` (转法务) refers the loan to the legal track: the case's supervisor sets it
with a reason (the legal officer, who sees the case once referred, may withdraw it), opening
the legal track sets it, and withdrawing the referral or closing the track clears it. The
seeds' legal stage takes a loan beyond M6, or earlier when legal takes it (fraud, a borrower
who says they will not pay: 网贷催收流程).
"""

from dataclasses import dataclass

from arrears.domain.access import Permission
from arrears.domain.errors import Refusal

REASON_CHARS = 500  # what the stores keep of a flag's reason (loan_flags.reason)


@dataclass(frozen=True)
class Flag:
    """A flag a person may set on a loan, and the permission it takes (its labels are the
    pages' catalogue's, `flag:<name>`)."""

    name: str
    permission: Permission


FLAGS = {"legal": Flag("legal", Permission.REFER)}


def check_flag(name: str) -> Flag:
    """The flag called `name`, or a refusal naming the known ones."""
    flag = FLAGS.get(name)
    if flag is None:
        raise Refusal(
            "flag {name} is unknown (known: {known})",
            name=repr(name),
            known=", ".join(sorted(FLAGS)),
        )
    return flag


def check_reason(reason: str) -> str:
    """A flag's reason, trimmed: required (a referral says why) and at most REASON_CHARS."""
    text = reason.strip()
    if not text:
        raise Refusal("a flag needs a reason")
    if len(text) > REASON_CHARS:
        raise Refusal("a flag's reason is at most {most} characters", most=str(REASON_CHARS))
    return text
