"""Phone numbers through `phonenumbers`: E.164 parsing and the time zones a number may ring in."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_zones

# A number written without +country code is read as Chinese, as the feeds read it.
DEFAULT_REGION = "CN"


def e164(raw: str) -> str:
    """A valid phone number in E.164 (+8613812345678), or ValueError saying how to write it."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(
            f"{raw!r} is not a valid phone number (write +country code, e.g. +8613812345678)"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def zones_for_number(phone: str) -> tuple[str, ...]:
    """Every IANA zone the number may be in (a US toll-free number has many); () if unknown."""
    try:
        number = phonenumbers.parse(phone, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return ()
    found = number_zones.time_zones_for_number(number)
    return tuple(name for name in found if _known_zone(name))


def _known_zone(name: str) -> bool:
    """Whether zoneinfo knows the zone (phonenumbers says `Etc/Unknown` when it does not)."""
    if name == number_zones.UNKNOWN_TIMEZONE:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class PhonenumbersZones:
    """The `PhoneNumbers` port on Google's libphonenumber data (the `phonenumbers` package)."""

    def normalise(self, raw: str) -> str:
        """The number in E.164, or ValueError."""
        return e164(raw)

    def zones(
        self, phone: str | None, default_zone: str, recorded: str | None = None
    ) -> tuple[str, ...]:
        """A person's candidate zones: the recorded zone wins, else the number's, else default."""
        if recorded:
            return (recorded,)
        return (zones_for_number(phone) if phone else ()) or (default_zone,)
