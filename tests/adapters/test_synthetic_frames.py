"""The synthetic book is the same for the same seed, in any process: the bench compares nights
of two codes on books drawn apart, and the tests draw theirs again on every run."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from arrears.adapters.synthetic_frames import synthetic_frames, write_book

AS_OF = date(2025, 11, 18)
DRAW = (
    "import sys; from datetime import date; from pathlib import Path; "
    "from arrears.adapters.synthetic_frames import synthetic_frames, write_book; "
    "write_book(synthetic_frames(3_000, date(2025, 11, 18), seed=5), Path(sys.argv[1]))"
)


def _drawn_in_a_process(folder: Path) -> Path:
    """The book drawn by a process of its own (a hashed unique or join orders its rows by a
    seed of that process)."""
    subprocess.run([sys.executable, "-c", DRAW, str(folder)], check=True)
    return folder


def test_the_same_seed_draws_the_same_book_in_another_process(tmp_path: Path) -> None:
    there = _drawn_in_a_process(tmp_path / "there")
    here = write_book(synthetic_frames(3_000, AS_OF, seed=5), tmp_path / "here")
    for name in ("borrowers", "loans", "installments", "payments", "contact_attempts",
                 "promises"):  # fmt: skip
        theirs, mine = (pl.read_parquet(book / f"{name}.parquet") for book in (there, here))
        assert mine.height > 0, name
        assert_frame_equal(theirs, mine)
