"""A Parquet book's holds, opt-outs, contact attempts and promises are refused by name when
the run would read them as something else (a hold of an unknown kind, or of a borrower not in
the book, would stop nothing), on the whole-book read and on a night alike, and nothing is
written."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from arrears.adapters import book_folder
from arrears.adapters.book_inputs import check_contact_inputs
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.synthetic_frames import write_book
from tests.adapters.test_parquet_store import AS_OF, TABLES, YESTERDAY, run

AT = datetime(2025, 11, 17, 2, 0, tzinfo=UTC)


def _promise(
    promise_id: str,
    loan_id: str,
    amount: int = 50_000,
    due_on: date = AS_OF,
    status: str | None = None,
) -> dict[str, Any]:
    """One promise's row, made yesterday."""
    return {"promise_id": [promise_id], "loan_id": [loan_id], "amount": [amount],
            "made_on": [YESTERDAY], "due_on": [due_on], "status": [status]}  # fmt: skip


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
    ("holds", {"borrower_id": ["B00000001"], "kind": ["dispute"],
               "starts_on": [YESTERDAY], "ends_on": [YESTERDAY - timedelta(days=5)]},
     r"input holds: it ends before it starts: B00000001 dispute 2025-11-17"),
    ("contact_attempts", {"borrower_id": ["B00000001"], "contact_id": [None],
                          "channel": ["call"], "to_phone": ["+86 135 2238 4691"], "at": [AT],
                          "outcome": ["no_answer"]},
     r"input contact_attempts: a to_phone with \+ not in E\.164 .*: B00000001 call"),
    # The borrower's own number with its trunk 0 left in: the cap would count it apart
    # (found by helper-40).
    ("contact_attempts", {"borrower_id": ["B00000001"], "contact_id": [None],
                          "channel": ["call"], "to_phone": ["+86013522384691"], "at": [AT],
                          "outcome": ["no_answer"]},
     r"a to_phone with \+ not in E\.164: a 0 after the country code .*: B00000001 call"),
    ("contact_attempts", {"borrower_id": ["B00000001"], "contact_id": [None],
                          "channel": ["call"], "to_phone": ["n/a"], "at": [AT],
                          "outcome": ["no_answer"]},
     r"input contact_attempts: a to_phone that is no phone number .*: B00000001 call"),
    ("holds", {"borrower_id": ["B0000001"], "kind": ["dispute"],
               "starts_on": [YESTERDAY], "ends_on": [None]},
     r"input holds: a borrower not in borrowers: B0000001 dispute 2025-11-17"),
    ("opt_outs", {"borrower_id": ["B00000099"], "channel": ["call"], "since": [AT]},
     r"input opt_outs: a borrower not in borrowers: B00000099 call"),
    ("contact_attempts", {"borrower_id": ["b00000001"], "contact_id": [None],
                          "channel": ["call"], "to_phone": [None], "at": [AT],
                          "outcome": ["connected"]},
     r"input contact_attempts: a borrower not in borrowers: b00000001 call 2025-11-17"),
    ("promises", _promise("P1", "L00000099"), r"input promises: a loan not in loans: P1"),
    ("promises", {k: v + _promise("P1", "L00000002")[k]
                  for k, v in _promise("P1", "L00000001").items()},
     r"input promises: given twice: P1, P1"),
    ("promises", _promise("P2", "L00000001", amount=0),
     r"input promises: an amount not above zero: P2"),
    ("promises", _promise("P3", "L00000001", due_on=YESTERDAY - timedelta(days=1)),
     r"input promises: due before the day it was made: P3"),
    ("promises", _promise("P4", "L00000001", status="Kept"),
     r"input promises: a status not known \(known: open, kept, broken\): P4"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "rows", "message"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)]
)
@pytest.mark.parametrize("when", ["whole book", "night"])
def test_a_contact_input_the_packs_would_misread_is_refused(
    tmp_path: Path, name: str, rows: dict[str, Any], message: str, when: str
) -> None:
    tables = dict(TABLES)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    if when == "night":
        run(store, YESTERDAY)
    given = tables.get(name)
    known = given.schema if given is not None else {}
    frame = pl.DataFrame(rows, schema_overrides={k: t for k, t in known.items() if k in rows})
    added = frame if given is None else pl.concat([given, frame], how="diagonal_relaxed")
    added.write_parquet(store.folder.root / f"{name}.parquet")
    before = store.folder.runs()
    with pytest.raises(book_folder.BookFolderError, match=message):
        run(store, AS_OF)
    assert store.folder.runs() == before


NO_ONE = "input contact_attempts: a borrower not in borrowers"


def _attempt(borrower_id: str, channel: str = "call", outcome: str = "no_answer") -> pl.DataFrame:
    """One attempt to reach `borrower_id` (an unanswered call unless told), at AT."""
    return pl.DataFrame(
        {"borrower_id": [borrower_id], "contact_id": [None], "channel": [channel],
         "to_phone": [None], "at": [AT], "outcome": [outcome]},
        schema=TABLES["contact_attempts"].schema,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("attempt", "message"),
    [(_attempt("B0000001"), f"{NO_ONE}: B0000001"),
     (_attempt("B00000001", "sms", "connected"),
      "input contact_attempts: a channel not known, or an outcome its channel does not have"
      ".*: B00000001 sms")],
    ids=["borrower", "outcome"],
)  # fmt: skip
def test_a_night_checks_the_attempts_logged_since_in_a_new_part(
    tmp_path: Path, attempt: pl.DataFrame, message: str
) -> None:
    # Attempts as parts: the night checks the new part's borrowers and outcomes (the old part
    # was checked).
    store = ParquetEngineStore(write_book(dict(TABLES), tmp_path / "book"))
    parts = store.folder.root / "contact_attempts"
    parts.mkdir()
    (store.folder.root / "contact_attempts.parquet").rename(parts / "part-0.parquet")
    run(store, YESTERDAY)
    attempt.write_parquet(parts / "part-1.parquet")
    with pytest.raises(book_folder.BookFolderError, match=message):
        run(store, AS_OF)
    assert [r.as_of for r in store.folder.runs()] == [YESTERDAY]


def test_a_night_checks_every_attempt_again_when_the_borrowers_change(tmp_path: Path) -> None:
    # A borrower with no loan, called before, taken out of borrowers: their attempts (unchanged
    # since the last run) now name no one.
    stranger = TABLES["borrowers"].head(1).with_columns(pl.lit("B-GONE").alias("borrower_id"))
    called = pl.concat([TABLES["contact_attempts"], _attempt("B-GONE")])
    tables = {**TABLES, "borrowers": pl.concat([TABLES["borrowers"], stranger]),
              "contact_attempts": called}  # fmt: skip
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    run(store, YESTERDAY)
    TABLES["borrowers"].write_parquet(store.folder.root / "borrowers.parquet")
    with pytest.raises(book_folder.BookFolderError, match=f"{NO_ONE}: B-GONE"):
        run(store, AS_OF)
    assert [r.as_of for r in store.folder.runs()] == [YESTERDAY]


@pytest.mark.parametrize(("name", "column"), [("contact_attempts", "at"), ("opt_outs", "since")])
@pytest.mark.parametrize("when", ["whole book", "night"])
def test_times_without_a_zone_are_refused_not_read_as_utc(
    tmp_path: Path, name: str, column: str, when: str
) -> None:
    # A core system's export of Beijing wall-clock times: read as UTC they would move calls
    # eight hours, onto another local day.
    tables = dict(TABLES)
    if name not in tables:
        tables[name] = pl.DataFrame(
            {"borrower_id": ["B00000001"], "channel": ["sms"], "since": [AT]},
            schema={"borrower_id": pl.String, "channel": pl.String,
                    "since": pl.Datetime("us", "UTC")},
        )  # fmt: skip
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    if when == "night":
        run(store, YESTERDAY)
    local = tables[name].with_columns(
        pl.col(column).dt.convert_time_zone("Asia/Shanghai").dt.replace_time_zone(None)
    )
    local.write_parquet(store.folder.root / f"{name}.parquet")
    before = store.folder.runs()
    with pytest.raises(book_folder.BookFolderError,
                       match=f"input {name}: {name}.parquet: column '{column}' holds times "
                             "without a zone"):  # fmt: skip
        run(store, AS_OF)
    assert store.folder.runs() == before


def test_ids_written_as_categories_read_as_the_texts_they_are(tmp_path: Path) -> None:
    # A pandas `category` or Arrow dictionary column: the same book, the same run.
    plain = ParquetEngineStore(write_book(dict(TABLES), tmp_path / "plain"))
    coded = {name: frame.with_columns(pl.col(c).cast(pl.Categorical) for c in frame.columns
                                      if c.endswith("_id") and frame.schema[c] == pl.String)
             for name, frame in TABLES.items()}  # fmt: skip
    assert coded["payments"].schema["loan_id"] == pl.Categorical
    store = ParquetEngineStore(write_book(coded, tmp_path / "coded"))
    for day in (YESTERDAY, AS_OF):
        assert run(store, day) == run(plain, day)


def test_a_part_whose_read_panics_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A damaged page can make Polars panic (a BaseException, not one of its errors).
    store = ParquetEngineStore(write_book(dict(TABLES), tmp_path / "book"))

    def damaged(*_: object, **__: object) -> pl.DataFrame:
        raise pl.exceptions.PanicException("assertion failed: offset + length <= self.length")

    monkeypatch.setattr(pl, "read_parquet", damaged)  # as book_folder calls it
    with pytest.raises(
        book_folder.BookFolderError,
        match=r"input \w+: \w+\.parquet: cannot read it: assertion failed",
    ):
        run(store, AS_OF)
    assert store.folder.runs() == []


def test_a_number_whose_country_keeps_its_zero_is_taken_as_written() -> None:
    # Italy's numbers keep the 0 after +39: in E.164 as written, not a trunk prefix left in.
    attempts = _attempt("B00000001").with_columns(pl.lit("+39061234567").alias("to_phone"))
    none = pl.DataFrame(schema={"borrower_id": pl.String, "kind": pl.String,
                                "starts_on": pl.Date, "ends_on": pl.Date})  # fmt: skip
    outs = pl.DataFrame(schema={"borrower_id": pl.String, "channel": pl.String,
                                "since": pl.Datetime("us", "UTC")})  # fmt: skip
    check_contact_inputs(none, outs, attempts, TABLES["borrowers"])  # refuses nothing
    with pytest.raises(book_folder.BookFolderError, match="a 0 after the country code"):
        check_contact_inputs(none, outs, attempts.with_columns(
            pl.lit("+39006123456").alias("to_phone")), TABLES["borrowers"])  # fmt: skip
