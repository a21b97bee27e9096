"""Personal identifiers shown masked unless the viewer's role may unmask them (PIPL Art. 51).

Masks follow common practice in Chinese finance: a mobile number keeps its first three and
last four digits (138****1234), a national id its first and last four characters, an address
its first six characters.
"""

from dataclasses import dataclass

from arrears.domain.access import Permission, Principal

MASK = "*"


def mask_phone(phone: str) -> str:
    """+8613812341234 → +86138****1234: the four digits before the last four starred."""
    if len(phone.lstrip("+")) <= 8:
        return MASK * len(phone)
    return f"{phone[:-8]}{MASK * 4}{phone[-4:]}"


def mask_national_id(value: str) -> str:
    """110101199003071234 → 1101**********1234."""
    if len(value) <= 8:
        return MASK * len(value)
    return f"{value[:4]}{MASK * (len(value) - 8)}{value[-4:]}"


def mask_address(value: str) -> str:
    """The first six characters, the rest starred (at most six stars: its length is private)."""
    if len(value) <= 6:
        return MASK * len(value)
    return f"{value[:6]}{MASK * 6}"


@dataclass(frozen=True)
class PiiField:
    """A personal identifier: its name, how it is masked, who may unmask it."""

    name: str
    permission: Permission

    def mask(self, value: str) -> str:
        """The value as shown to someone who has not unmasked it."""
        return _MASKS[self.name](value)


def mask_email(value: str) -> str:
    """zhu.fang@example.cn → z******@example.cn (the first letter and the domain kept)."""
    name, at, domain = value.partition("@")
    return f"{name[:1]}{MASK * 6}{at}{domain}" if at else MASK * len(value)


_MASKS = {
    "phone": mask_phone,
    "national_id": mask_national_id,
    "address": mask_address,
    "email": mask_email,
}
PII_FIELDS = {
    "phone": PiiField("phone", Permission.UNMASK_PHONE),
    "national_id": PiiField("national_id", Permission.UNMASK_NATIONAL_ID),
    "address": PiiField("address", Permission.UNMASK_ADDRESS),
    # an e-mail address reaches the person as a phone number does: the same permission
    "email": PiiField("email", Permission.UNMASK_PHONE),
}


def shown(principal: Principal, field: str, value: str | None, *, unmasked: bool) -> str | None:
    """The value as the principal sees it: in clear only when they asked to unmask it (a
    logged action) and their role allows it; masked otherwise."""
    if value is None:
        return None
    spec = PII_FIELDS[field]
    if unmasked and principal.may(spec.permission):
        return value
    return spec.mask(value)
