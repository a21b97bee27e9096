"""Phone numbers through `phonenumbers`: E.164 parsing and the time zones a number may ring in."""

import re
from collections.abc import Mapping, Sequence
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import polars as pl
from phonenumbers import PhoneNumberType, is_number_type_geographical
from phonenumbers import timezone as number_zones
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

# A number written without +country code is read as Chinese, as the feeds read it.
DEFAULT_REGION = "CN"
# The release of phonenumbers in use, whose data (numbering plans, their zones) gives every
# answer here: a cache of answers is kept per release (zone_cache).
ZONE_DATA_VERSION: str = phonenumbers.__version__


def phone_region(code: object) -> str:
    """A region code phone numbers can be read under (ISO 3166 alpha-2, as phonenumbers knows
    them: "CN", "US", "GB"), upper-cased; ValueError naming it otherwise."""
    region = str(code).strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"{code!r} is not a region phone numbers are read in (ISO 3166, e.g. CN, US, GB)"
        )
    return region


def e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """A valid phone number in E.164 (+8613812345678), or ValueError saying how to write it;
    a number written without +country code is read as a number of `region` (ISO 3166)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        read = "" if region == DEFAULT_REGION else f"; without it, it is read as {region}'s"
        raise ValueError(
            f"{raw!r} is not a valid phone number (write +country code, e.g. +8613812345678{read})"
        )
    if number.extension:
        # E.164 has no extension: kept, it would be lost without a word.
        raise ValueError(f"{raw!r} has an extension ({number.extension}); give the number alone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Numbers that say nothing of where their holder is: a toll-free (+1 800…), premium-rate,
# shared-cost, personal (+1 500…), UAN, VoIP, pager or voicemail number rings wherever it is
# routed. phonenumbers gives one its country's zones (a +1 one, every zone of the North
# American plan's 42): not the consumer's location (12 CFR 1006.6(b)(1)(i)). A mobile number
# gives its country's too where mobiles are not geographic: that is where its holder may be.
NON_GEOGRAPHIC = frozenset({
    PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER,
    PhoneNumberType.UAN, PhoneNumberType.VOICEMAIL,
})  # fmt: skip


def zones_for_number(phone: str) -> tuple[str, ...]:
    """Every IANA zone the number may be in (a US toll-free number has many); () if unknown."""
    return number_location(phone)[0]


def number_location(phone: str) -> tuple[tuple[str, ...], bool]:
    """The IANA zones the number may be in (() if unknown), and whether it is a number of a
    kind that carries no location (NON_GEOGRAPHIC: its zones are its whole country's)."""
    try:
        number = phonenumbers.parse(phone, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return (), False
    # The number's type, as time_zones_for_number works it out first (most of its cost),
    # then its zones as that looks them up: a geographic number's by its digits, another's
    # by its country code (tests: the same answer).
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return (), False
    code = number.country_code or 0
    if is_number_type_geographical(kind, code):
        found = number_zones.time_zones_for_geographical_number(number)
        if code == NANP:
            found = _with_area_zones(found, str(number.national_number)[:3])
    else:
        found = _country_zones(code)
    zones = tuple(name for name in found if _known_zone(name))
    return zones, kind in NON_GEOGRAPHIC


# The North American plan's country code. Its area codes are where its numbers are placed,
# and some span two zones: a time is convenient only if it is so in every zone the
# information puts the consumer in (12 CFR 1006.6(b)(1)(i); REGULATIONS.md: "if the number
# maps to several zones, the time must be convenient in all of them"). phonenumbers gives a
# number of such an area code the zone of its exchange where its data lists the exchange,
# else the area code's main zone alone: +1 270 200 1234 (Kentucky) New York's, not Chicago's
# too, so a call at 08:15 there rang at 07:15 in the area code's Central part.
NANP = 1


# Area codes laid over the land of others (an overlay: new numbers for the same places), each
# with the codes it overlays, as NANPA's and the CNAC's area code records give them: their
# zones are its zones too. phonenumbers gives an overlay only the zone of its own prefixes,
# one where the land spans two: +1 364 200 1234 (western Kentucky, over 270) New York's alone,
# so a call at 08:15 there rang at 07:15 in its Central part (12 CFR 1006.6(b)(1)(i)). Only
# overlays of codes spanning several zones are listed: the others' add nothing.
OVERLAYS: Mapping[str, tuple[str, ...]] = {
    "986": ("208",),  # Idaho
    "236": ("250", "604"), "257": ("250", "604"), "672": ("250", "604"),  # British Columbia
    "778": ("250", "604"),
    "364": ("270",),  # western Kentucky
    "367": ("418",), "581": ("418",),  # eastern Quebec
    "458": ("541",),  # Oregon outside Portland
    "879": ("709",),  # Newfoundland and Labrador
    "930": ("812",),  # southern Indiana
    "448": ("850",),  # the Florida panhandle
}  # fmt: skip


def _with_area_zones(found: Sequence[str], area: str) -> tuple[str, ...]:
    """The zones phonenumbers gives a +1 number, then the other zones its area code spans."""
    more = _area_zones().get(area, ())
    return (*found, *(zone for zone in more if zone not in found))


@cache
def _area_zones() -> dict[str, tuple[str, ...]]:
    """Each North American area code's zones: those of every prefix of it in phonenumbers'
    data, and an overlay's those of the codes it overlays (OVERLAYS), sorted."""
    spans: dict[str, set[str]] = {}
    for prefix, zones in TIMEZONE_DATA.items():
        if prefix.startswith(str(NANP)) and len(prefix) >= 4:
            spans.setdefault(prefix[1:4], set()).update(zones)
    for overlay, bases in OVERLAYS.items():
        spans.setdefault(overlay, set()).update(*(spans.get(base, ()) for base in bases))
    return {area: tuple(sorted(zones)) for area, zones in spans.items()}


def _country_zones(code: int) -> tuple[str, ...]:
    """The zones of a country calling code, as phonenumbers looks them up for a number that
    is not geographic (the longest prefix of the code its data has)."""
    digits = str(code)
    for length in range(TIMEZONE_LONGEST_PREFIX, 0, -1):
        found = TIMEZONE_DATA.get(digits[: 1 + length])
        if found is not None:
            return tuple(found)
    return ()


def _known_zone(name: str) -> bool:
    """Whether zoneinfo knows the zone (phonenumbers says `Etc/Unknown` when it does not)."""
    if name == number_zones.UNKNOWN_TIMEZONE:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# A number in E.164: "+", its country calling code (never 0), its digits and nothing else
# (phonenumbers reads some other forms otherwise: a tel: URI's phone-context comes first).
_E164 = re.compile(r"\+([1-9][0-9]{0,2})[0-9]*")


@cache
def _one_zone_countries() -> dict[int, str]:
    """The country calling codes all of whose numbers phonenumbers places in one known zone
    (China's, Hong Kong's, Taiwan's, Japan's, ...), each with its zone: the zones it gives a
    number are those of the longest prefix of the number's digits it has data for (or of its
    country code alone), so they are one of those or unknown. Each prefix of the data is
    put with the code it starts with (9 ms, where testing every prefix against every code
    took 120; every prefix of the data starts with a code, which the tests check)."""
    codes = {str(code): code for code in COUNTRY_CODE_TO_REGION_CODE}
    answers: dict[int, set[tuple[str, ...]]] = {}
    for prefix, zones in TIMEZONE_DATA.items():
        for code in (codes[prefix[:n]] for n in range(1, 4) if prefix[:n] in codes):
            answers.setdefault(code, set()).add(zones)
    found = {}
    for code, given in answers.items():
        if len(given) == 1:
            (zones,) = given
            if len(zones) == 1 and _known_zone(zones[0]):
                found[code] = zones[0]
    return found


def country_zone(phone: str) -> str | None:
    """The one zone every number of the phone's country may be in, for a number in E.164 of
    a country with one (None: another country, or another form). The country code is read
    as phonenumbers reads it: the first of the number's first 1-3 digits that is one (no
    code is the start of another)."""
    match = _E164.fullmatch(phone)
    if match is None:
        return None
    digits = match.group(1)
    for length in range(1, len(digits) + 1):
        code = int(digits[:length])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return _one_zone_countries().get(code)
    return None


class PhonenumbersZones:
    """The `PhoneNumbers` port on Google's libphonenumber data (the `phonenumbers` package)."""

    def normalise(self, raw: str, like: str | None = None) -> str:
        """The number in E.164, or ValueError; written without +country code, it is read as
        a number of the country of `like` (a number in E.164), else as a Chinese one."""
        return e164(raw, _region_of(like) or DEFAULT_REGION)

    def zones(
        self,
        phone: str | None,
        default_zone: str,
        recorded: str | None = None,
        *,
        number_too: bool = False,
    ) -> tuple[str, ...]:
        """A person's candidate zones: the recorded zone wins (with `number_too`, the recorded
        zone and then the number's, unless the number carries no location), else the
        number's, else default."""
        if recorded:
            if not number_too:
                return (recorded,)
            number, nowhere = self.number_zones(phone, default_zone)
            if nowhere:  # a toll-free number adds no place the consumer may be
                return (recorded,)
            return (recorded, *(zone for zone in number if zone != recorded))
        return self.number_zones(phone, default_zone)[0]

    def number_zones(self, phone: str | None, default_zone: str) -> tuple[tuple[str, ...], bool]:
        """The zones of the number (else default, as `zones` with none recorded) and whether
        it is non-geographic (NON_GEOGRAPHIC: toll-free, personal, ...): with a zone
        recorded, such a number's zones (a +1 800 number's: every North American one) are
        no location information, and are not added to it (12 CFR 1006.6(b)(1)(i): the
        time must suit every place the collector's information puts the consumer in). With
        none recorded they are all that is known of where the consumer may be: every one of
        them must allow the time."""
        if not phone:
            return (default_zone,), False
        if country_zone(phone) == default_zone:
            # The number's zones are its country's one zone or none, and the default is
            # that zone: the same answer either way, without parsing the number (25 us a
            # number; a night's first contacts of a Chinese book: 7,400 numbers, 0.19 s).
            return (default_zone,), False
        zones, nowhere = number_location(phone)
        return zones or (default_zone,), nowhere


def zero_after_code(numbers: pl.Series) -> pl.Series:
    """Whether each number (+ and digits) has a 0 right after its country code: a national
    trunk prefix left in (`+86013812345678`, which is `+8613812345678`), or a country whose
    numbers keep theirs (Italy's `+39 06…`). The code is read as phonenumbers reads it: the
    one of the first 1-3 digits that is one (no code is the start of another)."""
    after = pl.lit(None, pl.String)
    for length in (1, 2, 3):
        codes = sorted(str(c) for c in COUNTRY_CODE_TO_REGION_CODE if len(str(c)) == length)
        code = pl.col("n").str.slice(1, length)
        after = (
            pl.when(code.is_in(codes)).then(pl.col("n").str.slice(1 + length, 1)).otherwise(after)
        )
    return numbers.to_frame("n").select((after == "0").fill_null(False)).to_series()


def dialled_in_e164(raw: str | None, like: str | None) -> str | None:
    """A number dialled, in E.164: written without +country code (`13812345678`), it is read
    as a number of the country of `like` (the borrower's own, in E.164), as `contact log --to`
    reads it; no number, or one that cannot be read, stays as written."""
    if raw is None or raw.startswith("+"):
        return raw
    try:
        return e164(raw, _region_of(like) or DEFAULT_REGION)
    except ValueError:
        return raw


def _region_of(phone: str | None) -> str | None:
    """The region (ISO 3166) of a number in E.164 (None: no number, or not one)."""
    if not phone:
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None
    # "001": a non-geographic number (its country code is not one region's).
    return region if region and region not in ("ZZ", "001") else None
