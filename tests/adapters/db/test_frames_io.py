"""Frames read from and written to the databases: types as asked, keys deleted, only changes
written (SQLite and PostgreSQL)."""

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from arrears.adapters.db.frames_io import delete_keys, read_frame, write_changes, write_frame

_META = MetaData()
LINES = Table(
    "frames_io_lines",
    _META,
    Column("loan_id", String(16), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("due", Date, nullable=False),
    Column("owed", BigInteger),
    Column("late", Boolean),
    Column("at", DateTime(timezone=True)),
    Column("note", Text),
    PrimaryKeyConstraint("loan_id", "seq", "due"),
)
SCHEMA: dict[str, Any] = {
    "loan_id": pl.String, "seq": pl.Int64, "due": pl.Date, "owed": pl.Int64,
    "late": pl.Boolean, "at": pl.Datetime("us", "UTC"), "note": pl.String,
}  # fmt: skip
ORDER = ["loan_id", "seq", "due"]


def _lines(n: int) -> pl.DataFrame:
    """n rows of every type, nulls among them."""
    return pl.DataFrame(
        {
            "loan_id": [f"L{i % 7}" for i in range(n)],
            "seq": list(range(n)),
            "due": [date(2025, 1 + i % 12, 1 + i % 28) for i in range(n)],
            "owed": [None if i % 5 == 0 else i * 100 for i in range(n)],
            "late": [None if i % 4 == 0 else i % 3 == 0 for i in range(n)],
            "at": [None if i % 6 == 0 else datetime(2025, 3, 1, 8, i % 60, tzinfo=UTC)
                   for i in range(n)],
            # Empty texts are not nulls; a text of `\.` is not the end of PostgreSQL's COPY.
            "note": [None if i % 3 == 0 else "" if i % 7 == 1 else "\\." if i % 7 == 2
                     else f"备注 {i}, \"quoted\"\n第二行" for i in range(n)],
        },
        schema=SCHEMA,
    )  # fmt: skip


def _stored(engine: Engine) -> pl.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, "SELECT * FROM frames_io_lines", SCHEMA).sort(ORDER)


def _row_ids(engine: Engine) -> dict[tuple[str, int], str]:
    """Each row's physical identity: SQLite's rowid, PostgreSQL's inserting transaction."""
    marker = "rowid" if engine.dialect.name == "sqlite" else "xmin::text"
    with engine.connect() as conn:
        found = conn.exec_driver_sql(f"SELECT loan_id, seq, {marker} FROM frames_io_lines")
        return {(loan, seq): str(mark) for loan, seq, mark in found}


def test_a_frame_read_back_has_the_types_and_values_written(engine: Engine) -> None:
    LINES.create(engine)
    written = _lines(1_200)
    with engine.begin() as conn:
        write_frame(conn, LINES, written)
    assert_frame_equal(_stored(engine), written.sort(ORDER))


def test_a_column_of_values_of_another_type_is_still_read(engine: Engine) -> None:
    """Digits kept as text, asked for as numbers: cast as before (the driver's text does not
    fit the column type asked for, so Polars infers it), not refused."""
    table = Table("frames_io_text", MetaData(), Column("k", Integer, primary_key=True),
                  Column("digits", Text))  # fmt: skip
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"k": 1, "digits": "42"}, {"k": 2, "digits": None}])
        read = read_frame(conn, "SELECT k, digits FROM frames_io_text ORDER BY k",
                          {"k": pl.Int64, "digits": pl.Int64})  # fmt: skip
    assert read.to_dicts() == [{"k": 1, "digits": 42}, {"k": 2, "digits": None}]


def test_keys_deleted_are_exactly_the_rows_named(engine: Engine) -> None:
    """Composite keys with a date among them, more of them than one statement's list."""
    LINES.create(engine)
    every = _lines(1_500)
    with engine.begin() as conn:
        write_frame(conn, LINES, every)
        named = every.filter(pl.col("seq") % 2 == 0)
        # A key that matches no row (another day) deletes nothing.
        stray = every.head(1).with_columns(pl.lit(date(2030, 1, 1)).alias("due"))
        delete_keys(conn, LINES, ORDER, pl.concat([named, stray]))
    assert_frame_equal(_stored(engine), every.filter(pl.col("seq") % 2 == 1).sort(ORDER))


def test_only_the_rows_changed_new_or_gone_are_written(engine: Engine) -> None:
    LINES.create(engine)
    before = _lines(900)
    with engine.begin() as conn:
        write_frame(conn, LINES, before)
    ids = _row_ids(engine)
    changed = pl.col("seq").is_in([3, 10, 11])
    after = pl.concat([
        before.filter(pl.col("seq") != 20).with_columns(
            # A null becoming a value, a value becoming null, a value changed.
            pl.when(changed).then(pl.lit(7)).otherwise(pl.col("owed")).alias("owed"),
            pl.when(changed).then(pl.lit(None, pl.String)).otherwise(pl.col("note"))
            .alias("note"),
        ),
        _lines(905).tail(5),  # new rows
    ])  # fmt: skip
    with engine.begin() as conn:
        write_changes(conn, LINES, ORDER, before, after)
    assert_frame_equal(_stored(engine), after.sort(ORDER))
    now = _row_ids(engine)
    untouched = {k for k in ids if k[1] not in (3, 10, 11, 20)}
    assert {k: now[k] for k in untouched} == {k: ids[k] for k in untouched}
    assert all(now[k] != ids[k] for k in ids if k[1] in (3, 10, 11))
    assert not any(k[1] == 20 for k in now)
