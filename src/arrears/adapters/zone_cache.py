"""Phone zones a Parquet book has worked out, kept under state/zones-2/ for later nights.

Working out a number's zones through phonenumbers costs ~25 us (its parse and number type
rules; phone_zones.country_zone spares it for countries of one zone): too much for a night
that plans a hundred thousand contacts. The cache is keyed by everything the
answer depends on (number, recorded zone, the pack's default zone), so it is never stale;
each night adds the zones it learned as a new part (a part is written whole, then renamed).
A recorded zone is its own answer: none is kept for it (parts written by earlier versions
may hold some; they are never read). A part that cannot be read (a damaged disk) is left
out: being a cache, its answers are worked out again, and the part goes when the parts are
next merged.
"""

import secrets
from pathlib import Path

import polars as pl

from arrears.adapters.book_folder import UNREADABLE, part_files
from arrears.adapters.people_index import ZONE_KEYS, ZONES_SCHEMA

# Versioned by the rule that picks a number's day zone (contact_rules.day_zone): answers kept
# under an earlier rule's folder ("zones": the pack's default for a number of several zones)
# are not read.
ZONES_DIR = "zones-2"
_COMPACT_AT = 32  # parts; then they are merged into one


def read_zones(state: Path) -> pl.DataFrame:
    """Every zone answer kept so far (ZONES_SCHEMA). A key is in one part only: a night keeps
    only the answers it had to work out (PhoneReach.learned: keys in no part yet), so the
    parts are not made distinct here (160,000 answers: 40 ms and 50 MB of a bench night);
    PhoneReach makes them so should a key come twice all the same."""
    parts = part_files(state / ZONES_DIR)
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


def add_zones(state: Path, learned: list[tuple[str | None, str | None, str, str, str]]) -> None:
    """Keep newly worked-out zones (merging the parts once they are many)."""
    if not learned:
        return
    folder = state / ZONES_DIR
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
