"""Phone numbers: E.164, and the zones a number may ring in (all of them for toll-free)."""

import pytest

from arrears.adapters.phone_zones import PhonenumbersZones, e164, zones_for_number

PHONES = PhonenumbersZones()


def test_a_chinese_mobile_rings_in_shanghai() -> None:
    assert zones_for_number("+8613812345678") == ("Asia/Shanghai",)


def test_a_us_toll_free_number_maps_to_every_us_zone() -> None:
    zones = zones_for_number("+18005550199")
    assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu"} <= set(zones)
    assert len(zones) > 10


def test_a_borrowers_recorded_zone_wins_over_the_phone() -> None:
    assert PHONES.zones("+18005550199", "America/New_York", "America/Chicago") == (
        "America/Chicago",
    )


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
