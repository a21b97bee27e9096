"""The audit chain: any change, removal or reordering of an entry is found."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from arrears.domain.audit_chain import GENESIS, AuditEntry, ChainedEntry, entry_hash, verify_chain
from arrears.domain.errors import DomainError

START = datetime(2025, 10, 1, 2, 30, tzinfo=UTC)


def chain(n: int) -> list[ChainedEntry]:
    entries, previous = [], GENESIS
    for seq in range(1, n + 1):
        entry = AuditEntry(START + timedelta(seconds=seq), f"u{seq}", "note.add", "loan:L1",
                           {"chars": seq})  # fmt: skip
        digest = entry_hash(seq, entry, previous)
        entries.append(ChainedEntry(seq, entry, previous, digest))
        previous = digest
    return entries


def test_an_intact_chain_verifies() -> None:
    check = verify_chain(chain(5))
    assert check.intact
    assert check.entries == 5


def test_a_changed_detail_breaks_the_chain_at_that_entry() -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], entry=replace(entries[2].entry, detail={"chars": 99}))
    check = verify_chain(entries)
    assert (check.broken_at, check.problem) == (3, "its content does not match its hash")


def test_a_removed_entry_is_found() -> None:
    entries = chain(5)
    del entries[1]
    assert verify_chain(entries).broken_at == 3
    assert verify_chain(entries).problem == "entry 2 is missing"


def test_a_rehashed_forgery_is_found_by_the_next_entry() -> None:
    entries = chain(4)
    forged_entry = replace(entries[1].entry, actor="someone-else")
    forged = ChainedEntry(2, forged_entry, entries[1].prev_hash,
                          entry_hash(2, forged_entry, entries[1].prev_hash))  # fmt: skip
    entries[1] = forged
    check = verify_chain(entries)
    assert check.broken_at == 3
    assert check.problem == "its previous hash is not the entry before's"


def test_an_entry_is_in_utc() -> None:
    with pytest.raises(DomainError, match="must be in UTC"):
        AuditEntry(datetime(2025, 10, 1, 10, 30, tzinfo=timezone(timedelta(hours=8))),
                   "u", "a", "s", {})  # fmt: skip


def test_entries_cut_from_the_end_are_found_with_the_head() -> None:
    entries = chain(5)
    head = (5, entries[-1].hash)
    assert verify_chain(entries, head).intact
    check = verify_chain(entries[:3], head)
    assert check.broken_at == 4
    assert "missing" in (check.problem or "")
    assert verify_chain(entries, (3, entries[2].hash)).intact  # newer than the head: later


def test_entries_past_the_head_are_verified_too() -> None:
    # Appended after the head was read, they must still chain: a row written around the log
    # (past its head, hashes made up) is found, not skipped as "appended meanwhile".
    entries = chain(5)
    head = (3, entries[2].hash)
    assert verify_chain(entries, head).last_seq == 5
    made_up = ChainedEntry(6, entries[4].entry, "x", "y")
    check = verify_chain([*entries, made_up], head)
    assert (check.broken_at, check.problem) == (6, "its previous hash is not the entry before's")
