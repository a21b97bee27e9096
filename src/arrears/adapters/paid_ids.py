"""The ids of the payments in the parts a Parquet book's runs read (whatever their day),
kept in the state as sorted 64-bit fingerprints (FNV-1a of each id's UTF-8 bytes), so that a
night tells an id it is given again from a new one without reading every payment of the book.

A run that writes a base (book_folder.RunRecord.kind) keeps every id read up to it
(`PAID_FULL`); a delta run keeps the ids of the parts it read first (`PAID_NEW`). A night's
ids are those of its base, then of each delta after it. A fingerprint two ids share only
sends the night to read that id's payments (ParquetEngineStore._given_before); it never
refuses anything alone.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

PAID_FULL, PAID_NEW = "paid_ids", "paid_ids_new"  # state tables of a run folder
_PART = "part-0.npy"
_EMPTY = np.empty(0, dtype=np.uint64)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)  # FNV-1a 64-bit (Fowler, Noll, Vo)
_FNV_PRIME = np.uint64(0x100000001B3)


def fingerprints(ids: pl.Series) -> np.ndarray:
    """Each id's fingerprint, in order (the same on every machine and release: FNV-1a over
    the UTF-8 bytes, not Polars' hash, which may change between its versions)."""
    out = np.full(ids.len(), _FNV_OFFSET, dtype=np.uint64)
    if ids.len() == 0:
        return out
    strings = ids.cast(pl.String).rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    _, offsets_buffer, data_buffer = strings.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[strings.offset :][: ids.len() + 1]
    data = np.frombuffer(data_buffer if data_buffer is not None else b"\0", dtype=np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    # The ids of each length together, a byte of each at a time (ids are short, of few
    # lengths): numpy's unsigned arithmetic wraps, as FNV's does modulo 2**64.
    for length in np.flatnonzero(np.bincount(lengths)).tolist():
        rows = np.flatnonzero(lengths == length)
        at, hashed = starts[rows], out[rows]
        for k in range(length):
            hashed ^= data[at + k]
            hashed *= _FNV_PRIME
        out[rows] = hashed
    return out


# A payment's print mixes its id's fingerprint with its day and amount (odd multipliers of
# the golden ratio's and xxHash's, so nearby days and amounts scatter); 40 bits of it, so a
# loan's sum of many stays far inside 64 bits.
_DAY_MIX, _AMOUNT_MIX = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)
_PRINT_SHIFT = np.uint64(24)


def payment_prints(payments: pl.DataFrame) -> pl.Series:
    """Each payment's print (`payments_print`), from its id, day and amount, the same on every
    machine and release: a loan's sum of its payments' prints changes when one of them is
    given another day or amount, or two are swapped, which their count and sum miss."""
    ids = fingerprints(payments.get_column("payment_id"))
    days = payments.get_column("paid_on").cast(pl.Int32).cast(pl.Int64).to_numpy()
    amounts = payments.get_column("amount").cast(pl.Int64).to_numpy()
    with np.errstate(over="ignore"):
        mixed = (
            ids ^ (days.astype(np.uint64) * _DAY_MIX) ^ (amounts.astype(np.uint64) * _AMOUNT_MIX)
        )
        mixed *= _FNV_PRIME
    return pl.Series("payments_print", (mixed >> _PRINT_SHIFT).astype(np.int64))


@dataclass(frozen=True)
class PaidIds:
    """The fingerprints of the ids read so far: a sorted base and the deltas after it."""

    base: np.ndarray  # sorted
    deltas: np.ndarray  # sorted too

    @classmethod
    def of(cls, prints: np.ndarray) -> "PaidIds":
        """Fingerprints (`prints`, in any order) as a base alone."""
        return cls(np.sort(prints), _EMPTY)

    def seen(self, prints: np.ndarray) -> np.ndarray:
        """Whether each of `prints` is among the ids read."""
        found = np.zeros(prints.size, dtype=np.bool_)
        if self.base.size:
            # In order: the look-ups then walk the base's pages once (twice as fast).
            order = np.argsort(prints)
            asked = prints[order]
            at = np.searchsorted(self.base, asked).clip(max=self.base.size - 1)
            found[order] = self.base[at] == asked
        return found | np.isin(prints, self.deltas)

    def every(self, more: np.ndarray) -> np.ndarray:
        """Every fingerprint, `more` too, sorted (a new base: sorted arrays merged, not sorted
        again)."""
        merged = np.asarray(self.base)
        for extra in (self.deltas, np.sort(more)):
            merged = np.insert(merged, np.searchsorted(merged, extra), extra)
        return merged


@dataclass(frozen=True)
class NightIds:
    """A night's payment ids: those of the parts read before it, those of its new parts, and
    whether its chain keeps them all (else it keeps them all: a book begun before they were
    kept)."""

    before: PaidIds
    tonight: np.ndarray
    kept: bool
    # The new parts' ids given before (each sent again exactly as it was, else refused).
    resent: frozenset[str] = frozenset()

    def to_keep(self, base: bool) -> tuple[str, np.ndarray]:
        """What the night keeps (table, sorted fingerprints): every id in a base (`base`) or
        where its chain kept none, else its new parts' ids."""
        if base or not self.kept:
            return PAID_FULL, self.before.every(self.tonight)
        return PAID_NEW, np.sort(self.tonight)


def read_paid(state: Path, chain: list[str]) -> PaidIds | None:
    """The ids a chain of run folders (base first) read, from the last folder that keeps
    them all and the deltas after it; None when no folder of the chain keeps them all (a
    book whose runs began before they were kept)."""
    deltas: list[np.ndarray] = []
    for folder in reversed(chain):
        full = state / folder / PAID_FULL / _PART
        if full.is_file():
            # Mapped, not read: a night's look-ups touch a part of the pages only.
            base = np.load(full, mmap_mode="r")
            return PaidIds(base, np.sort(np.concatenate(deltas)) if deltas else _EMPTY)
        new = state / folder / PAID_NEW / _PART
        if not new.is_file():
            return None
        deltas.append(np.load(new))
    return None


def write_paid(folder: Path, name: str, prints: np.ndarray) -> None:
    """Keep sorted fingerprints as a run folder's table `name` (PAID_FULL or PAID_NEW)."""
    target = folder / name
    target.mkdir(parents=True, exist_ok=True)
    np.save(target / _PART, prints, allow_pickle=False)
