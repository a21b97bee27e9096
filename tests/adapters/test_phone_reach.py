"""A borrower's reach: the zone answers kept for their (phone, recorded zone, default zone) are
used as they are, the others worked out and learned."""

import polars as pl

from arrears.adapters.people_index import ZONES_SCHEMA, PhoneReach

BORROWERS = pl.DataFrame({
    "borrower_id": ["B1", "B2", "B3", "B4"],
    "phone": ["+8613800000001", "+12125550100", "+8613800000003", "+8613800000001"],
    "timezone": [None, None, "Asia/Urumqi", None],
    "default_zone": ["Asia/Shanghai", "America/New_York", "Asia/Shanghai", "Europe/London"],
})  # fmt: skip
# Kept answers: B1's key (an answer the phone alone would not give, so that its use shows) and
# a key no borrower has.
KNOWN = pl.DataFrame([
    ("+8613800000001", None, "Asia/Shanghai", "Asia/Harbin", "Asia/Harbin"),
    ("+8613899999999", None, "Asia/Shanghai", "Asia/Chongqing", "Asia/Chongqing"),
], schema=ZONES_SCHEMA, orient="row")  # fmt: skip


def _reach_of(reach: PhoneReach, *ids: str) -> dict[str, tuple[str, str]]:
    found = reach.of(pl.Series(ids))
    return {b: (zones, day) for b, zones, day in found.select("borrower_id", "zones", "day_zone")
            .iter_rows()}  # fmt: skip


def test_kept_answers_are_used_and_the_others_learned() -> None:
    reach = PhoneReach(BORROWERS, KNOWN)
    got = _reach_of(reach, "B1", "B2", "B3", "B4")
    assert got == {
        "B1": ("Asia/Harbin", "Asia/Harbin"),  # kept (a null recorded zone is a key too)
        "B2": ("America/New_York", "America/New_York"),  # from the number
        "B3": ("Asia/Urumqi", "Asia/Urumqi"),  # the recorded zone wins
        # Same number as B1, another default: not B1's answer.
        "B4": ("Asia/Shanghai", "Asia/Shanghai"),
    }
    assert sorted(str(row[0]) for row in reach.learned) == [
        "+12125550100", "+8613800000001", "+8613800000003",
    ]  # fmt: skip
    # Asked again, nothing more is learned: the answers worked out are kept.
    assert _reach_of(reach, "B4", "B2") == {"B4": got["B4"], "B2": got["B2"]}
    assert len(reach.learned) == 3
