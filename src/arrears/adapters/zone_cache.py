"""Phone zones a Parquet book has worked out, kept under state/zones/ for later nights.

Working out a number's zones costs ~0.1 ms (libphonenumber's number type rules): too much
for a night that plans a hundred thousand contacts. The cache is keyed by everything the
answer depends on (number, recorded zone, the pack's default zone), so it is never stale;
each night adds the zones it learned as a new part (a part is written whole, then renamed).
"""

import secrets
from pathlib import Path

import polars as pl

from arrears.adapters.book_folder import part_files
from arrears.adapters.people_index import ZONE_KEYS, ZONES_SCHEMA

ZONES_DIR = "zones"
_COMPACT_AT = 32  # parts; then they are merged into one


def read_zones(state: Path) -> pl.DataFrame:
    """Every zone answer kept so far (ZONES_SCHEMA)."""
    parts = part_files(state / ZONES_DIR)
    if not parts:
        return pl.DataFrame(schema=ZONES_SCHEMA)
    frame = pl.read_parquet(parts).select(list(ZONES_SCHEMA)).cast(ZONES_SCHEMA)
    return frame.unique(list(ZONE_KEYS), keep="first")


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
