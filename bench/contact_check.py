"""Benchmark: a desk's contact decision reading a borrower's contact file on a large SQLite book.

    python bench/contact_check.py [--borrowers 1000000] [--calls 300000] [--dir bench/out]

A decision (`arrears contact check`, `contact log`, the desk's call) reads the borrower's file:
their attempts, holds, opt-outs, contacts, and the calls other borrowers' desks made to the
numbers concerned (the dial cap counts them), some of them logged without a number (so to
the borrower's own). The book: `--borrowers` borrowers with their own numbers, `--calls`
calls logged without a number on random borrowers. Times `SqlContactStore.load_contact_file`
for 50 borrowers as shipped, then with `ix_borrowers_phone` dropped (the scan the index
saves), in one run; the last line is one JSON object: {"borrowers", "calls", "median_ms",
"without_index_ms", "ratio"} (ratio: without the index over with it).
"""

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from arrears.adapters.db.contact_store import SqlContactStore
from arrears.adapters.db.engine import make_engine
from arrears.adapters.db.migrate import upgrade
from arrears.adapters.db.tables import borrowers, contact_attempts

BATCH = 50_000


def build(path: Path, count: int, calls: int) -> None:
    """A migrated SQLite book of `count` borrowers and `calls` calls logged without a number."""
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    rng = random.Random(7)
    start = datetime(2025, 10, 1, 2, tzinfo=UTC)
    with engine.begin() as conn:
        for first in range(0, count, BATCH):
            conn.execute(insert(borrowers), [
                {"borrower_id": f"B{n:08d}", "name": "n", "phone": f"+86138{n:08d}"}
                for n in range(first, min(count, first + BATCH))
            ])  # fmt: skip
        for first in range(0, calls, BATCH):
            conn.execute(insert(contact_attempts), [
                {"borrower_id": f"B{rng.randrange(count):08d}", "channel": "call",
                 "to_phone": None, "at": start + timedelta(minutes=n), "outcome": "no_answer",
                 "recorded_at": start + timedelta(minutes=n), "allowed": True, "reasons": []}
                for n in range(first, min(calls, first + BATCH))
            ])  # fmt: skip
    engine.dispose()


def timed(path: Path, asked: list[str]) -> float:
    """The median milliseconds of reading each asked borrower's contact file."""
    engine = make_engine(f"sqlite:///{path}")
    store = SqlContactStore(engine)
    store.load_contact_file(asked[0])  # the connection and the pages of the first read
    took = []
    for borrower in asked:
        began = time.perf_counter()
        assert store.load_contact_file(borrower) is not None
        took.append((time.perf_counter() - began) * 1000)
    engine.dispose()
    return statistics.median(took)


def main() -> None:
    """Build the book, time the reads with and without the index, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=300_000)
    parser.add_argument("--dir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / "contacts.db"
    build(path, args.borrowers, args.calls)
    rng = random.Random(11)
    asked = [f"B{rng.randrange(args.borrowers):08d}" for _ in range(50)]
    shipped = timed(path, asked)
    print(f"as shipped: {shipped:.3f} ms a file (median of {len(asked)})")
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_borrowers_phone"))
    engine.dispose()
    without = timed(path, asked)
    print(f"without ix_borrowers_phone: {without:.3f} ms a file")
    print(json.dumps({
        "borrowers": args.borrowers, "calls": args.calls, "median_ms": round(shipped, 3),
        "without_index_ms": round(without, 3), "ratio": round(without / shipped, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
