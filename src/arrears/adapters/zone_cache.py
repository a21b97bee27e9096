"""Phone zones a Parquet book has worked out, kept under state/zones-5-phonenumbers-<version>/
for later nights.

Working out a number's zones through phonenumbers costs ~25 us (its parse and number type
rules; phone_zones.country_zone spares it for countries of one zone): too much for a night
that plans a hundred thousand contacts. The cache is keyed by everything the
answer depends on (number, recorded zone, the pack's default zone, and the data of the
phonenumbers release that gave it: its folder's name), so it is never stale; each night adds
the zones it learned as a new part (a part is written whole, then renamed). After an upgrade
of phonenumbers (unpinned: its data follows the numbering plans' changes) the answers are
worked out again: a number moved from one zone to another would otherwise keep the old one,
and a call planned by it could ring at 07:00 in the new zone (12 CFR 1006.6(b)(1)(i)). The
folders of other releases, never read again, go when the new one is first written.
A recorded zone is its own answer: none is kept for it (parts written by earlier versions
may hold some; they are never read). A part that cannot be read (a damaged disk) is left
out: being a cache, its answers are worked out again, and the part goes when the parts are
next merged.
"""

import re
import secrets
import shutil
from pathlib import Path

import polars as pl

from arrears.adapters.book_folder import UNREADABLE, part_files
from arrears.adapters.people_index import ZONE_KEYS, ZONES_SCHEMA, ZoneAnswer
from arrears.adapters.phone_zones import ZONE_DATA_VERSION

# Versioned by the rules of the answers: answers kept under an earlier rule's folder are not
# read ("zones": the pack's default as the day zone of a number of several zones, before
# contact_rules.day_zone; "zones-2": no `non_geographic`, which keeps a toll-free number's
# zones from being added to a recorded one; "zones-3": a North American number's zones
# without the other zones its area code spans, phone_zones.NANP; "zones-4": an overlay area
# code's without those of the codes it overlays, phone_zones.OVERLAYS).
ZONES_DIR = "zones-5"
_COMPACT_AT = 32  # parts; then they are merged into one


def zones_folder(state: Path) -> Path:
    """The folder of the answers of this rule (ZONES_DIR) and of the phonenumbers release in
    use (ZONE_DATA_VERSION), e.g. state/zones-5-phonenumbers-9.0.43."""
    release = re.sub(r"[^0-9A-Za-z.]+", "_", ZONE_DATA_VERSION)
    return state / f"{ZONES_DIR}-phonenumbers-{release}"


def read_zones(state: Path) -> pl.DataFrame:
    """Every zone answer kept so far (ZONES_SCHEMA). A key is in one part only: a night keeps
    only the answers it had to work out (PhoneReach.learned: keys in no part yet), so the
    parts are not made distinct here (160,000 answers: 40 ms and 50 MB of a bench night);
    PhoneReach makes them so should a key come twice all the same."""
    parts = part_files(zones_folder(state))
    try:
        return _read(parts)
    except UNREADABLE:  # a part damaged: the others, one by one
        return pl.concat([pl.DataFrame(schema=ZONES_SCHEMA), *_readable(parts)])


def _read(parts: list[Path]) -> pl.DataFrame:
    """The answers of `parts` (ZONES_SCHEMA)."""
    if not parts:
        return pl.DataFrame(schema=ZONES_SCHEMA)
    return pl.read_parquet(parts).select(list(ZONES_SCHEMA)).cast(ZONES_SCHEMA)


def _readable(parts: list[Path]) -> list[pl.DataFrame]:
    """The answers of each of `parts` that can be read."""
    found = []
    for part in parts:
        try:
            found.append(_read([part]))
        except UNREADABLE:
            continue
    return found


def add_zones(state: Path, learned: list[ZoneAnswer]) -> None:
    """Keep newly worked-out zones (merging the parts once they are many)."""
    if not learned:
        return
    folder = zones_folder(state)
    if not folder.is_dir():
        _drop_other_releases(state, folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame(learned, schema=ZONES_SCHEMA, orient="row")
    parts = part_files(folder)
    if len(parts) >= _COMPACT_AT:
        frame = pl.concat([read_zones(state), frame]).unique(list(ZONE_KEYS), keep="first")
    token = secrets.token_hex(6)
    temporary = folder / f".part-{token}.parquet"
    frame.write_parquet(temporary)
    temporary.rename(folder / f"part-{token}.parquet")
    if len(parts) >= _COMPACT_AT:
        for old in parts:
            old.unlink()


def _drop_other_releases(state: Path, kept: Path) -> None:
    """Remove the answers kept under other phonenumbers releases or earlier rules (state/zones,
    state/zones-2, ...): they are never read again."""
    for old in (state / "zones", *state.glob("zones-*")):
        if old != kept and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
