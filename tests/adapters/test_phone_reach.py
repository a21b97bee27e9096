"""A borrower's reach: a recorded zone is its own answer; for the others the zone answers kept
for their (phone, default zone) are used as they are, the rest worked out and learned."""

from pathlib import Path
from unittest.mock import patch

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.adapters import people_index, zone_cache
from arrears.adapters.people_index import ZONE_KEYS, ZONES_SCHEMA, PhoneReach
from arrears.adapters.phone_zones import PhonenumbersZones
from arrears.adapters.zone_cache import add_zones, read_zones, zones_folder

BORROWERS = pl.DataFrame({
    "borrower_id": ["B1", "B2", "B3", "B4"],
    "jurisdiction": ["cn", "us", "cn", "uk"],
    "phone": ["+8613800000001", "+12125550100", "+8613800000003", "+8613800000001"],
    "timezone": [None, None, "Asia/Urumqi", None],
    "default_zone": ["Asia/Shanghai", "America/New_York", "Asia/Shanghai", "Europe/London"],
})  # fmt: skip
# Kept answers: B1's key (an answer the phone alone would not give, so that its use shows) and
# a key no borrower has.
KNOWN = pl.DataFrame([
    ("+8613800000001", None, "Asia/Shanghai", "Asia/Harbin", "Asia/Harbin", False),
    ("+8613899999999", None, "Asia/Shanghai", "Asia/Chongqing", "Asia/Chongqing", False),
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
    # B2's and B4's answers were worked out; B3's recorded zone needs none kept.
    assert sorted(reach.learned) == [
        ("+12125550100", None, "America/New_York", "America/New_York", "America/New_York", False),
        ("+8613800000001", None, "Europe/London", "Asia/Shanghai", "Asia/Shanghai", False),
    ]
    # Asked again, nothing more is learned: the answers worked out are kept.
    assert _reach_of(reach, "B4", "B2", "B3") == {b: got[b] for b in ("B4", "B2", "B3")}
    assert len(reach.learned) == 2


def test_a_recorded_zone_wins_over_an_answer_kept_for_it() -> None:
    """A cache written by an earlier version kept answers for recorded zones too: never read,
    the recorded zone is the answer (an answer kept for the same number without one is not
    the recorded borrower's)."""
    kept = pl.DataFrame([
        ("+8613800000003", "Asia/Urumqi", "Asia/Shanghai", "Asia/Kashgar", "Asia/Kashgar", False),
        ("+8613800000003", None, "Asia/Shanghai", "Asia/Harbin", "Asia/Harbin", False),
    ], schema=ZONES_SCHEMA, orient="row")  # fmt: skip
    reach = PhoneReach(BORROWERS, kept)
    assert _reach_of(reach, "B3") == {"B3": ("Asia/Urumqi", "Asia/Urumqi")}
    assert reach.learned == []


def test_a_key_kept_twice_gives_each_borrower_one_answer() -> None:
    """The zone cache's parts are read as they are (each key is in one part only); should a
    key come twice all the same, each borrower asked for still gets one row."""
    twice = pl.concat([KNOWN, KNOWN.head(1)])
    found = PhoneReach(BORROWERS, twice).of(pl.Series(["B1", "B2"]))
    assert sorted(found.get_column("borrower_id").to_list()) == ["B1", "B2"]
    assert found.filter(pl.col("borrower_id") == "B1").get_column("zones").to_list() == [
        "Asia/Harbin"
    ]


def test_the_cache_keeps_each_key_once_across_nights(tmp_path: Path) -> None:
    """What one night learns is written as a part, and the next night asked about the same
    borrowers learns nothing: read back, the parts hold each key once."""
    first = PhoneReach(BORROWERS, read_zones(tmp_path))
    _reach_of(first, "B1", "B2", "B3")
    add_zones(tmp_path, first.learned)
    second = PhoneReach(BORROWERS, read_zones(tmp_path))
    _reach_of(second, "B1", "B2", "B3", "B4")
    add_zones(tmp_path, second.learned)
    assert [row[0] for row in second.learned] == ["+8613800000001"]  # B4's key only
    kept = read_zones(tmp_path)
    assert kept.height == 3  # B1's, B2's and B4's (B3's zone is recorded)
    assert kept.select(ZONE_KEYS).is_unique().all()


def test_under_the_us_pack_a_recorded_zone_is_joined_by_the_numbers() -> None:
    # A New York number recorded in California: the time must suit both (12 CFR
    # 1006.6(b)(1)(i)), days still counted in the recorded zone; under cn the recorded wins.
    borrowers = pl.DataFrame({
        "borrower_id": ["B1", "B2", "B3"], "jurisdiction": ["us", "cn", "us"],
        "phone": ["+12125550100", "+8613800000001", "+12125550100"],
        "timezone": ["America/Los_Angeles", "Asia/Urumqi", "America/New_York"],
        "default_zone": ["America/New_York", "Asia/Shanghai", "America/New_York"],
    })  # fmt: skip
    assert _reach_of(PhoneReach(borrowers), "B1", "B2", "B3") == {
        "B1": ("America/Los_Angeles,America/New_York", "America/Los_Angeles"),
        "B2": ("Asia/Urumqi", "Asia/Urumqi"),
        "B3": ("America/New_York", "America/New_York"),
    }


def test_under_the_us_pack_a_toll_free_number_adds_no_zone_to_the_recorded_one() -> None:
    # A consumer recorded in Los Angeles on a toll-free number: its 42 zones (Guam to
    # Newfoundland) are no place the consumer is; without them the window is Los Angeles'
    # 08:00-21:00, not an hour and a half. Not recorded, the number's zones are all there is.
    borrowers = pl.DataFrame({
        "borrower_id": ["B1", "B2", "B3"], "jurisdiction": ["us", "us", "us"],
        "phone": ["+18005550100", "+18005550100", "+15005550100"],
        "timezone": ["America/Los_Angeles", None, "America/Chicago"],
        "default_zone": ["America/New_York"] * 3,
    })  # fmt: skip
    reach = PhoneReach(borrowers)
    got = _reach_of(reach, "B1", "B2", "B3")
    assert got["B1"] == ("America/Los_Angeles", "America/Los_Angeles")
    assert got["B3"] == ("America/Chicago", "America/Chicago")
    assert len(got["B2"][0].split(",")) > 10
    assert [(row[0], row[-1]) for row in sorted(reach.learned)] == [
        ("+15005550100", True), ("+18005550100", True)
    ]  # fmt: skip
    # Read back from a cache, the same.
    kept = pl.DataFrame(reach.learned, schema=ZONES_SCHEMA, orient="row")
    assert _reach_of(PhoneReach(borrowers, kept), "B1", "B2", "B3") == got


def test_a_number_of_several_zones_counts_days_in_one_of_them() -> None:
    # An Alaskan number: its days are Adak's (the first of its area code's zones), not the
    # pack's New York ones (a call at 20:30 in Anchorage is past midnight there); a
    # toll-free number may be anywhere, New York among its zones: the pack's default stays.
    borrowers = pl.DataFrame({
        "borrower_id": ["B1", "B2"], "jurisdiction": ["us", "us"],
        "phone": ["+19075550129", "+18005550100"], "timezone": [None, None],
        "default_zone": ["America/New_York", "America/New_York"],
    }, schema_overrides={"timezone": pl.String})  # fmt: skip
    got = _reach_of(PhoneReach(borrowers), "B1", "B2")
    assert got["B1"] == (
        "America/Adak,America/Anchorage,America/Juneau,Pacific/Honolulu",
        "America/Adak",
    )
    assert got["B2"][1] == "America/New_York"


def test_answers_kept_under_the_earlier_day_zone_rule_are_not_read(tmp_path: Path) -> None:
    # state/zones/ held answers whose day zone was the pack's default for a number of several
    # zones: they are never read (state/zones-5-phonenumbers-<release>/ holds this rule's).
    old = pl.DataFrame([("+19075550129", None, "America/New_York",
                         "America/Adak,America/Anchorage", "America/New_York", False)],
                       schema=ZONES_SCHEMA, orient="row")  # fmt: skip
    (tmp_path / "zones").mkdir()
    old.write_parquet(tmp_path / "zones" / "part-old.parquet")
    assert read_zones(tmp_path).height == 0


def test_answers_kept_under_another_phonenumbers_release_are_worked_out_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Kentucky exchange on Central time, which an earlier release of phonenumbers placed in
    the area code's other zone (New York): kept under that release, its answer is not read
    after an upgrade (a call planned by it would open at 08:00 in New York, 07:00 where the
    consumer is: 12 CFR 1006.6(b)(1)(i)), and that release's answers go once this one's are
    kept."""
    phone, new_york = "+12702020000", "America/New_York"
    fresh = PhonenumbersZones().zones(phone, new_york)
    # This release's answer: the exchange's zone, and the area code's other one.
    assert fresh == ("America/Chicago", new_york)
    borrowers = pl.DataFrame({
        "borrower_id": ["B1"], "jurisdiction": ["us"], "phone": [phone], "timezone": [None],
        "default_zone": [new_york],
    }, schema_overrides={"timezone": pl.String})  # fmt: skip
    with monkeypatch.context() as earlier:
        earlier.setattr(zone_cache, "ZONE_DATA_VERSION", "8.13.0")
        add_zones(tmp_path, [(phone, None, new_york, new_york, new_york, False)])
        # Under that release, its own answer is read.
        assert _reach_of(PhoneReach(borrowers, read_zones(tmp_path)), "B1") == {
            "B1": (new_york, new_york)
        }
    # Kept before the cache named its release (state/zones-2/), or by this release under
    # the rules before the area codes' zones and before the overlays' (zones-3- and
    # zones-4-phonenumbers-<this release>): not read.
    stale = pl.DataFrame([(phone, None, new_york, "America/Chicago", "America/Chicago", False)],
                         schema=ZONES_SCHEMA, orient="row")  # fmt: skip
    this = zones_folder(tmp_path).name
    for folder in ("zones-2", *(this.replace("zones-5", f"zones-{n}") for n in (3, 4))):
        (tmp_path / folder).mkdir(exist_ok=True)
        stale.write_parquet(tmp_path / folder / "part-old.parquet")
    assert read_zones(tmp_path).height == 0
    reach = PhoneReach(borrowers, read_zones(tmp_path))
    both = "America/Chicago,America/New_York"
    assert _reach_of(reach, "B1") == {"B1": (both, new_york)}
    add_zones(tmp_path, reach.learned)
    assert [p.name for p in tmp_path.iterdir()] == [zones_folder(tmp_path).name]
    assert read_zones(tmp_path).rows() == [(phone, None, new_york, both, new_york, False)]


def _book_of_borrowers(count: int) -> pl.DataFrame:
    """`count` borrowers in borrower_id order, every third with a second row (a loan under
    another pack), every other without a recorded zone, two by two sharing a number, some of
    those without a zone without a number either."""
    rows = []
    for n in range(count):
        phone = None if n % 14 == 1 else f"+86138{n // 2:08d}"
        zone = None if n % 2 else "Asia/Urumqi"
        rows.append((f"B{n:05d}", "cn", phone, zone, "Asia/Shanghai"))
        if n % 3 == 0:
            rows.append((f"B{n:05d}", "us", phone, zone, "America/New_York"))
    return pl.DataFrame(rows, schema=dict.fromkeys(["borrower_id", *BORROWERS.columns[1:]],
                                                   pl.String), orient="row")  # fmt: skip


def _kept_for(borrowers: pl.DataFrame) -> pl.DataFrame:
    """An answer kept for each of the borrowers' keys (no number is a key too) that no number
    alone would give (Harbin), among as many kept for numbers none of them has."""
    keys = borrowers.select("phone", "default_zone").unique().rows()
    theirs = [(phone, None, default, "Asia/Harbin", "Asia/Harbin", False)
              for phone, default in keys]  # fmt: skip
    others = [(f"+86139{n:08d}", None, "Asia/Shanghai", "Asia/Chongqing", "Asia/Chongqing", False)
              for n in range(len(keys))]  # fmt: skip
    return pl.DataFrame(theirs + others, schema=ZONES_SCHEMA, orient="row")


@settings(max_examples=40, deadline=None)
@given(asked=st.lists(st.integers(0, 1_100), min_size=1, max_size=12))
def test_a_few_borrowers_asked_about_get_the_rows_every_row_tested_would_give(
    asked: list[int],
) -> None:
    """Asked about a few of many borrowers, their rows are found by bisection (borrowers by
    id, some twice, some not there at all, in any order) and their answers among the few
    kept for their numbers: the same rows, in the same order, with the same answers, as
    testing every row and joining every answer kept give."""
    borrowers = _book_of_borrowers(1_000)
    kept = _kept_for(borrowers)
    ids = pl.Series([f"B{n:05d}" for n in asked])
    few = PhoneReach(borrowers, kept)
    found = few.of(ids)
    assert few._in_order  # the borrowers are in order: found by bisection
    with patch.object(people_index, "_FEW", 10**9):  # never few: every row, every answer
        every = PhoneReach(borrowers, kept).of(ids)
    assert found.equals(every)
    assert sorted(found.get_column("borrower_id").unique()) == sorted(
        {f"B{n:05d}" for n in asked if n < 1_000}
    )
    unrecorded = found.join(borrowers.filter(pl.col("timezone").is_null()),
                            on=["borrower_id", "jurisdiction"], how="semi")  # fmt: skip
    assert set(unrecorded.get_column("zones")) <= {"Asia/Harbin"}
    assert few.learned == []  # every answer was among those kept
