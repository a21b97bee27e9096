"""The applied payments' id fingerprints: stable, found exactly, kept along a chain of runs."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.adapters.paid_ids import (
    PAID_FULL,
    PAID_NEW,
    PaidIds,
    fingerprints,
    read_paid,
    write_paid,
)


def test_fingerprints_are_fnv1a_64_of_the_utf8_bytes() -> None:
    # The published FNV-1a 64-bit test vectors (Fowler, Noll, Vo): the same on every machine
    # and release, as ids kept by one release are looked up by the next.
    ids = pl.Series(["x", "", "a", "foobar", "付"]).slice(1)  # an offset into Arrow's buffers
    expected = [0xCBF29CE484222325, 0xAF63DC4C8601EC8C, 0x85944171F73967E8]
    assert fingerprints(ids)[:3].tolist() == expected
    by_hand = 0xCBF29CE484222325
    for byte in "付".encode():
        by_hand = ((by_hand ^ byte) * 0x100000001B3) % 2**64
    assert int(fingerprints(ids)[3]) == by_hand
    assert fingerprints(pl.Series([], dtype=pl.String)).size == 0


ID = st.text(alphabet="PAY-0123456789付款", max_size=6)


@settings(max_examples=60, deadline=None)
@given(base=st.lists(ID, max_size=30), deltas=st.lists(ID, max_size=10),
       asked=st.lists(ID, max_size=20))  # fmt: skip
def test_seen_is_membership_and_every_is_the_union(
    base: list[str], deltas: list[str], asked: list[str]
) -> None:
    def prints(ids: list[str]) -> np.ndarray:
        return fingerprints(pl.Series(ids, dtype=pl.String))

    paid = PaidIds(np.sort(prints(base)), np.sort(prints(deltas)))
    applied = set(base) | set(deltas)
    assert paid.seen(prints(asked)).tolist() == [a in applied for a in asked]
    union = paid.every(prints(asked))
    assert union.tolist() == sorted(prints(base + deltas + asked).tolist())
    assert PaidIds.of(prints(base)).seen(prints(asked)).tolist() == [a in base for a in asked]


def test_a_chain_reads_its_last_full_set_and_the_deltas_after(tmp_path: Path) -> None:
    def kept(folder: str, name: str, ids: list[str]) -> None:
        write_paid(tmp_path / folder, name, np.sort(fingerprints(pl.Series(ids))))

    kept("run-1", PAID_FULL, ["A", "B"])
    kept("run-2", PAID_NEW, ["C"])
    kept("run-3", PAID_FULL, ["A", "B", "C", "D"])
    kept("run-4", PAID_NEW, ["E"])
    paid = read_paid(tmp_path, ["run-1", "run-2", "run-3", "run-4"])
    assert paid is not None
    asked = fingerprints(pl.Series(["A", "C", "D", "E", "F"]))
    assert paid.seen(asked).tolist() == [True, True, True, True, False]
    assert read_paid(tmp_path, ["run-1", "run-2"]) is not None
    # A run folder that kept neither (written before ids were kept): none known.
    (tmp_path / "run-0").mkdir()
    assert read_paid(tmp_path, ["run-0", "run-2"]) is None


@pytest.mark.parametrize("ids", [["B", "A", "A"], []])
def test_kept_fingerprints_come_back(tmp_path: Path, ids: list[str]) -> None:
    prints = np.sort(fingerprints(pl.Series(ids, dtype=pl.String)))
    write_paid(tmp_path, PAID_FULL, prints)
    paid = read_paid(tmp_path.parent, [tmp_path.name])
    assert paid is not None
    assert np.asarray(paid.base).tolist() == sorted(prints.tolist())
    assert paid.seen(prints).all()
