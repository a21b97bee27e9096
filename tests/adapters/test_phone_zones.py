"""Phone numbers: E.164, and the zones a number may ring in (all of them for toll-free)."""

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import is_number_type_geographical
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE
from phonenumbers.timezone import time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA

from arrears.adapters.phone_zones import (
    OVERLAYS,
    PhonenumbersZones,
    _known_zone,
    _one_zone_countries,
    country_zone,
    e164,
    zones_for_number,
)

PHONES = PhonenumbersZones()


def test_a_chinese_mobile_rings_in_shanghai() -> None:
    assert zones_for_number("+8613812345678") == ("Asia/Shanghai",)


@pytest.mark.parametrize(("phone", "zones"), [
    # Kentucky's 270: phonenumbers places 678 of its exchanges in New York's zone alone and
    # 123 in Chicago's; a number of the first must be lawful in both (12 CFR 1006.6(b)(1)(i),
    # a time convenient in every zone the number may be in): at 08:15 in New York it is 07:15
    # in Chicago.
    ("+12702001234", ("America/New_York", "America/Chicago")),
    ("+18505551234", ("America/New_York", "America/Chicago")),  # the Florida panhandle
    ("+14235551234", ("America/Chicago", "America/New_York")),  # East Tennessee
    ("+12125551234", ("America/New_York",)),  # Manhattan's spans one
])  # fmt: skip
def test_a_north_american_number_may_be_in_every_zone_its_area_code_spans(
    phone: str, zones: tuple[str, ...]
) -> None:
    assert zones_for_number(phone) == zones


@pytest.mark.parametrize(("phone", "zones"), [
    # Western Kentucky's overlay of 270: phonenumbers places it in New York's zone alone, but
    # its numbers ring on the same land, Central in part: at 08:15 in New York it is 07:15
    # there (12 CFR 1006.6(b)(1)(i)).
    ("+13642001234", ("America/New_York", "America/Chicago")),
    ("+19302001234", ("America/New_York", "America/Chicago")),  # southern Indiana, over 812
    ("+14482001234", ("America/New_York", "America/Chicago")),  # the Florida panhandle, 850
    ("+14582001234", ("America/Los_Angeles", "America/Denver")),  # Oregon, over 541
    ("+17782001234", ("America/Vancouver", "America/Edmonton")),  # British Columbia, 250
    ("+15812001234", ("America/Toronto", "America/Halifax")),  # eastern Quebec, over 418
])  # fmt: skip
def test_an_overlay_area_code_may_be_in_every_zone_of_the_codes_it_overlays(
    phone: str, zones: tuple[str, ...]
) -> None:
    assert zones_for_number(phone) == zones


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_each_overlay_listed_is_of_its_codes_country_and_spans_their_zones(overlay: str) -> None:
    """A typo in the table would give a number another land's zones, or none of its own."""
    number = phonenumbers.parse(f"+1{overlay}2001234")
    assert phonenumbers.is_valid_number(number)
    zones = set(zones_for_number(f"+1{overlay}2001234"))
    for base in OVERLAYS[overlay]:
        theirs = phonenumbers.parse(f"+1{base}2001234")
        assert phonenumbers.region_code_for_number(theirs) == (
            phonenumbers.region_code_for_number(number)
        )
        assert set(zones_for_number(f"+1{base}2001234")) <= zones
    # Listed only where it adds a zone: every overlay of a code spanning several.
    assert len(zones) > 1


def test_a_us_toll_free_number_maps_to_every_us_zone() -> None:
    zones = zones_for_number("+18005550199")
    assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu"} <= set(zones)
    assert len(zones) > 10


def test_a_borrowers_recorded_zone_wins_over_the_phone() -> None:
    assert PHONES.zones("+18005550199", "America/New_York", "America/Chicago") == (
        "America/Chicago",
    )


def test_a_number_that_carries_no_location_adds_no_zone_to_a_recorded_one() -> None:
    """A toll-free (+1 800) or personal (+1 500) number rings wherever it is routed: its 42
    zones are the North American plan's, not where the consumer is, so under a pack that
    wants the number's zones too a recorded zone stands alone (12 CFR 1006.6(b)(1)(i)); a
    New York number is information on where they may be, and so is a mobile of a country
    whose mobiles are not geographic (a British one: its country's zones)."""
    los_angeles, new_york = "America/Los_Angeles", "America/New_York"
    for number in ("+18005550199", "+15005550100", "+448001234567"):
        assert PHONES.zones(number, new_york, los_angeles, number_too=True) == (los_angeles,)
        assert PHONES.number_zones(number, new_york)[1]
    assert PHONES.zones("+12125551234", new_york, los_angeles, number_too=True) == (
        los_angeles, new_york,
    )  # fmt: skip
    assert PHONES.zones("+447911123456", new_york, los_angeles, number_too=True) == (
        los_angeles, "Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/London",
    )  # fmt: skip
    # With no zone recorded, its zones are all that is known of where the consumer may be.
    assert len(PHONES.zones("+18005550199", new_york)) > 10
    assert not PHONES.number_zones("+12125551234", new_york)[1]
    assert PHONES.number_zones(None, new_york) == ((new_york,), False)


def test_an_unknown_number_falls_back_to_the_packs_zone() -> None:
    assert PHONES.zones(None, "Asia/Shanghai") == ("Asia/Shanghai",)
    assert PHONES.zones("+882 not a number", "Europe/London") == ("Europe/London",)
    assert PHONES.zones("+80012345678", "Europe/London") == (
        "Europe/London",
    )  # international freephone


def test_numbers_are_stored_in_e164() -> None:
    assert e164("138 1234 5678") == "+8613812345678"
    assert PHONES.normalise("+1 (212) 555-1234") == "+12125551234"


@pytest.mark.parametrize("raw", ["123", "not a phone", "+1 555"])
def test_a_number_that_is_not_one_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a valid phone number"):
        e164(raw)


def test_a_country_with_one_zone_is_known_by_its_code() -> None:
    assert country_zone("+8613812345678") == "Asia/Shanghai"
    assert country_zone("+85291234567") == "Asia/Hong_Kong"
    assert country_zone("+886912345678") == "Asia/Taipei"
    # The United States and Russia span many zones; the United Kingdom's code covers the
    # Channel Islands and the Isle of Man, zones of their own.
    assert country_zone("+12125551234") is None
    assert country_zone("+74951234567") is None
    assert country_zone("+442071234567") is None
    # Not in E.164: phonenumbers decides (a tel: URI's phone-context, read first, may name
    # another country).
    assert country_zone("13812345678") is None
    assert country_zone("+0861234") is None
    assert country_zone("+ 8613812345678") is None
    assert country_zone("+86 138 1234 5678") is None
    assert country_zone("+8613812345678;phone-context=+1") is None


def test_the_one_zone_table_tests_every_prefix_of_the_data_against_every_code() -> None:
    """The table as its definition reads: a code's zones are those of every prefix of the
    data that starts with it or that it starts with (one known zone: the code's)."""
    expected = {}
    for code in COUNTRY_CODE_TO_REGION_CODE:
        digits = str(code)
        given = {zones for prefix, zones in TIMEZONE_DATA.items()
                 if prefix.startswith(digits) or digits.startswith(prefix)}  # fmt: skip
        if len(given) == 1 and len(zones := next(iter(given))) == 1 and _known_zone(zones[0]):
            expected[code] = zones[0]
    assert _one_zone_countries() == expected
    assert expected[86] == "Asia/Shanghai"


DEFAULTS = st.sampled_from(["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Tokyo", "America/New_York",
                            "Europe/London"])  # fmt: skip
WRITTEN = st.one_of(
    st.from_regex(r"\+861[3-9][0-9]{9}", fullmatch=True),  # Chinese mobiles
    st.from_regex(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True),  # North American numbers
    st.from_regex(r"\+(86|852|886|81|44|7|1|8|0|99|999)[0-9 ()-]{0,14}", fullmatch=True),
    st.from_regex(r"[0-9+ ]{0,16}", fullmatch=True),
    st.from_regex(r"\+(86|1)[0-9]{2,11};phone-context=\+(1|86|44)[0-9]{0,10}", fullmatch=True),
)


def _phonenumbers_own(phone: str) -> tuple[str, ...]:
    """The zones phonenumbers' time_zones_for_number gives a number (() if unknown), then,
    for a geographic North American number, the other zones of every prefix of its area
    code, and of the codes it overlays, in phonenumbers' data."""
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return ()
    own = tuple(z for z in time_zones_for_number(number) if _known_zone(z))
    kind = phonenumbers.number_type(number)
    if number.country_code != 1 or not is_number_type_geographical(kind, 1):
        return own
    area = str(number.national_number)[:3]
    codes = ("1" + code for code in (area, *OVERLAYS.get(area, ())))
    spanned = {z for code in codes for prefix, zones in TIMEZONE_DATA.items()
               if prefix.startswith(code) for z in zones if _known_zone(z)}  # fmt: skip
    return own + tuple(sorted(spanned - set(own)))


@given(WRITTEN, DEFAULTS)
def test_the_zones_of_a_number_are_phonenumbers_own(phone: str, default: str) -> None:
    """The shortcut for one-zone countries, and the lookup by the number's type worked out
    once, give what phonenumbers gives (with every zone a North American area code spans)."""
    assert zones_for_number(phone) == _phonenumbers_own(phone)
    assert PHONES.zones(phone, default) == (
        (_phonenumbers_own(phone) if phone else ()) or (default,)
    )
