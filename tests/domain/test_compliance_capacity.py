"""What a contact planner reads: the lawful window of a local day and what is left of the day."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from arrears.domain.compliance import lawful_window, remaining_capacity
from arrears.domain.contact import Hold, OptOut
from tests.contact_factories import (
    CN,
    CN_OTHER_PHONE,
    CN_PHONE,
    DAY,
    LOS_ANGELES,
    NEW_YORK,
    SHANGHAI,
    US,
    US_PHONE,
    attempt,
    decide,
    facts,
    local,
    reason,
)


def test_the_cn_window_is_8_to_22_shanghai_time() -> None:
    assert lawful_window(DAY, [SHANGHAI], CN) == (local(DAY, "08:00"), local(DAY, "22:00"))


def test_the_us_window_is_where_every_zone_allows() -> None:
    # 08:00 in Los Angeles is 11:00 in New York; 21:00 in New York is 18:00 in Los Angeles.
    window = lawful_window(DAY, [NEW_YORK, LOS_ANGELES], US, day_zone=NEW_YORK)
    assert window == (local(DAY, "11:00", NEW_YORK), local(DAY, "21:00", NEW_YORK))


def test_zones_a_world_apart_can_share_a_window() -> None:
    # Guam (UTC+10) and Pago Pago (UTC-11) are both on US toll-free numbers' list.
    window = lawful_window(DAY, ["Pacific/Pago_Pago", "Pacific/Guam"], US)
    pago = "Pacific/Pago_Pago"
    assert window == (local(DAY, "11:00", pago), local(DAY, "21:00", pago))


def test_zones_with_no_common_hours_have_no_window() -> None:
    # 08:00-21:00 is 00:00-13:00 UTC in Shanghai, 08:00-21:00 UTC in London (winter) and
    # 16:00-05:00 UTC in Los Angeles (winter): no instant suits all three.
    assert lawful_window(DAY, [SHANGHAI, "Europe/London", LOS_ANGELES], US) is None
    # Any two of them share a stretch (13 allowed hours each leave no 24-hour gap).
    assert lawful_window(DAY, [SHANGHAI, NEW_YORK], US) == (
        local(DAY, "08:00"),
        local(DAY, "10:00"),
    )


def test_the_window_follows_a_daylight_saving_change() -> None:
    spring = date(2026, 3, 8)  # clocks go forward at 02:00 in New York
    start, end = lawful_window(spring, [NEW_YORK], US) or (None, None)
    assert start == datetime.combine(spring, time(8), ZoneInfo(NEW_YORK))
    assert start is not None
    assert start.astimezone(UTC).hour == 12
    assert end == datetime.combine(spring, time(21), ZoneInfo(NEW_YORK))


def test_every_instant_of_the_window_passes_the_quiet_hours_check() -> None:
    start, end = lawful_window(DAY, [NEW_YORK, LOS_ANGELES], US, day_zone=NEW_YORK) or (
        None,
        None,
    )
    assert start is not None
    assert end is not None
    known = facts(zones=(NEW_YORK, LOS_ANGELES), day_zone=NEW_YORK, contacts={})
    for probe, inside in ((start, True), (end - timedelta(seconds=1), True), (end, False)):
        passed = reason(decide(US, probe, known, to=US_PHONE), "us.inconvenient_time").passed
        assert passed is inside
    before = start - timedelta(seconds=1)
    assert not reason(decide(US, before, known, to=US_PHONE), "us.inconvenient_time").passed


def test_cn_capacity_is_the_tighter_of_the_conversation_and_dial_caps() -> None:
    history = [
        attempt(local(DAY, "08:00"), "connected"),
        attempt(local(DAY, "09:00"), "connected"),
        attempt(local(DAY, "09:30"), "no_answer"),
        attempt(local(DAY, "10:00"), "no_answer", to=CN_OTHER_PHONE),
    ]
    capacity = remaining_capacity(facts(history), DAY, CN, to_phone=CN_PHONE)
    assert capacity.remaining["call"] == 1  # 3 conversations - 2 (dials left: 6 - 3 = 3)
    assert capacity.remaining["sms"] is None  # no daily SMS limit in the cn pack
    assert capacity.windows["call"] == (local(DAY, "08:00"), local(DAY, "22:00"))
    assert capacity.allows("call")
    assert capacity.allows("sms")


def test_cn_capacity_counts_the_whole_local_day() -> None:
    history = [attempt(local(DAY, "21:00") + timedelta(minutes=i), "busy") for i in range(6)]
    capacity = remaining_capacity(facts(history), DAY, CN, to_phone=CN_PHONE)
    assert capacity.remaining["call"] == 0
    assert not capacity.allows("call")
    assert (
        remaining_capacity(
            facts(history), DAY + timedelta(days=1), CN, to_phone=CN_PHONE
        ).remaining["call"]
        == 3
    )


def test_a_hold_leaves_nothing_and_an_opt_out_closes_its_channel() -> None:
    held = remaining_capacity(facts(holds=[Hold("hardship", DAY)]), DAY, CN)
    assert set(held.remaining.values()) == {0}
    opted = remaining_capacity(facts(opt_outs=[OptOut("sms", local(DAY, "15:00"))]), DAY, CN)
    assert opted.remaining["sms"] == 0
    assert opted.remaining["call"] == 3


def test_us_capacity_rolls_over_seven_days_and_stops_after_a_conversation() -> None:
    calls = [
        attempt(local(DAY - timedelta(days=n), "10:00", NEW_YORK), to=US_PHONE) for n in range(5)
    ]
    known = facts(calls, zones=(NEW_YORK,), contacts={})
    assert remaining_capacity(known, DAY, US, to_phone=US_PHONE).remaining["call"] == 2
    talk = attempt(local(DAY - timedelta(days=1), "10:00", NEW_YORK), "connected", to=US_PHONE)
    talked = facts([talk], zones=(NEW_YORK,), contacts={})
    assert remaining_capacity(talked, DAY, US).remaining["call"] == 0
    assert remaining_capacity(talked, DAY + timedelta(days=6), US).remaining["call"] == 7


def test_no_window_means_no_capacity() -> None:
    apart = facts(zones=(SHANGHAI, "Europe/London", LOS_ANGELES), contacts={})
    capacity = remaining_capacity(apart, DAY, US)
    assert capacity.windows["email"] is None
    assert capacity.remaining["email"] == 0


def test_without_a_number_the_dial_cap_counts_every_call_to_the_borrower() -> None:
    history = [
        attempt(local(DAY, "09:00") + timedelta(minutes=i), "busy", to=phone)
        for i, phone in enumerate([CN_PHONE, CN_PHONE, CN_OTHER_PHONE, CN_OTHER_PHONE])
    ]
    assert remaining_capacity(facts(history), DAY, CN).remaining["call"] == 2
    assert remaining_capacity(facts(history), DAY, CN, to_phone=CN_PHONE).remaining["call"] == 3
