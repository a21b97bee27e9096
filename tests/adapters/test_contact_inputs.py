"""A Parquet book's holds, opt-outs and contact attempts are refused by name when the rule
packs would read them as something else (a hold of an unknown kind would stop nothing), on
the whole-book read and on a night alike, and nothing is written."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from arrears.adapters import book_folder
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.synthetic_frames import write_book
from tests.adapters.test_parquet_store import AS_OF, TABLES, YESTERDAY, run

AT = datetime(2025, 11, 17, 2, 0, tzinfo=UTC)
BAD: list[tuple[str, dict[str, Any], str]] = [
    ("holds", {"borrower_id": ["B00000001"], "kind": ["Dispute"],
               "starts_on": [YESTERDAY], "ends_on": [None]},
     r"input holds: a kind not known \(known: dispute, hardship, deceased, cease_contact\): "
     r"B00000001 Dispute 2025-11-17"),
    ("opt_outs", {"borrower_id": ["B00000001"], "channel": ["wechat"], "since": [AT]},
     r"input opt_outs: a channel not known .*: B00000001 wechat"),
    ("contact_attempts", {"borrower_id": ["B00000001"], "contact_id": [None],
                          "channel": ["sms"], "to_phone": [None], "at": [AT],
                          "outcome": ["connected"]},
     r"input contact_attempts: a channel not known, or an outcome its channel does not have"
     r".*: B00000001 sms 2025-11-17 02:00:00\S* connected"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "rows", "message"), BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("when", ["whole book", "night"])
def test_a_contact_input_the_packs_would_misread_is_refused(
    tmp_path: Path, name: str, rows: dict[str, Any], message: str, when: str
) -> None:
    tables = dict(TABLES)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    if when == "night":
        run(store, YESTERDAY)
    given = tables.get(name)
    frame = pl.DataFrame(rows, schema=given.schema if given is not None else None)
    added = frame if given is None else pl.concat([given, frame], how="vertical_relaxed")
    added.write_parquet(store.folder.root / f"{name}.parquet")
    before = store.folder.runs()
    with pytest.raises(book_folder.BookFolderError, match=message):
        run(store, AS_OF)
    assert store.folder.runs() == before
