"""Reading feed files: encodings, headers, row numbers across batches, Parquet types."""

import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from arrears.adapters.feeds import sources
from arrears.adapters.feeds.parsed import FrameFeed
from arrears.adapters.feeds.reader import FileFeedReader
from arrears.services.feed import FeedError, FeedKind, FeedRejected
from tests.feed_files import BOOK, PRODUCTS, write_csv, write_parquet

PAYMENTS_HEADER = "payment_id,loan_id,amount,paid_on"


def read(path: Path, kind: FeedKind = "payments") -> FrameFeed:
    return FileFeedReader().read(kind, path, PRODUCTS)


def refused(path: Path, kind: FeedKind = "payments") -> list[FeedError]:
    with pytest.raises(FeedRejected) as rejection:
        read(path, kind)
    return rejection.value.errors


def csv_file(tmp_path: Path, text: str, name: str = "payments.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_a_utf8_bom_and_spaces_around_names_and_cells_are_ignored(tmp_path: Path) -> None:
    feed = read(
        csv_file(tmp_path, "\ufeffpayment_id, loan_id ,amount,paid_on\n P1 ,L1, 1.50 ,2026-02-01\n")
    )
    assert feed.errors == []
    assert feed.frame.select("payment_id", "loan_id", "amount").row(0) == ("P1", "L1", 150)


def test_blank_lines_are_skipped_and_still_counted_in_row_numbers(tmp_path: Path) -> None:
    text = f"{PAYMENTS_HEADER}\nP1,L1,1.00,2026-02-01\n\nP2,L1,-1.00,2026-02-01\n\n"
    feed = read(csv_file(tmp_path, text))
    assert feed.rows_read == 2
    assert feed.errors == [FeedError(4, "amount", "-1.00 is negative")]


def test_windows_line_ends_read_alike(tmp_path: Path) -> None:
    text = f"{PAYMENTS_HEADER}\r\nP1,L1,1.00,2026-02-01\r\n\r\nP2,L1,x,2026-02-01\r\n"
    feed = read(csv_file(tmp_path, text))
    assert feed.frame["paid_on"].to_list() == [date(2026, 2, 1)] * 2
    assert feed.errors == [FeedError(4, "amount", "'x' is not an amount (e.g. 1234.56)")]


def test_a_row_with_the_wrong_number_of_fields_is_named_and_later_rows_keep_their_numbers(
    tmp_path: Path,
) -> None:
    text = f"{PAYMENTS_HEADER}\nP1,L1,1.00\nP2,L1,1.00,2026-02-01,x\nP3,L1,abc,2026-02-01\n"
    assert read(csv_file(tmp_path, text)).errors == [
        FeedError(2, None, "has 3 fields, the header has 4"),
        FeedError(3, None, "has 5 fields, the header has 4"),
        FeedError(4, "amount", "'abc' is not an amount (e.g. 1234.56)"),
    ]


def test_row_numbers_run_on_across_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "CSV_BLOCK_BYTES", 256)
    lines = [f"P{i},L1,1.00,2026-02-01" for i in range(2, 1002)]
    lines[997 - 2] = "P997,L1,1.00,2026-02-31"
    lines[500 - 2] = "P500,L1"
    feed = read(csv_file(tmp_path, "\n".join([PAYMENTS_HEADER, *lines]) + "\n"))
    assert feed.rows_read == 999
    assert feed.errors == [
        FeedError(500, None, "has 2 fields, the header has 4"),
        FeedError(997, "paid_on", "2026-02-31 is not a real calendar date"),
    ]


def test_quoted_values_may_hold_commas_and_quotes(tmp_path: Path) -> None:
    text = 'contact_id,borrower_id,name,phone,relation\nC1,B1,"Lee, ""Ann""",13912345678,friend\n'
    feed = read(csv_file(tmp_path, text, "contacts.csv"), "contacts")
    assert feed.frame["name"].to_list() == ['Lee, "Ann"']


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("payment_id,loan_id,paid_on", [FeedError(None, "amount", "missing required column")]),
        (
            "payment_id,loan_id,amount,paid_on,chanel",
            [
                FeedError(
                    None,
                    "chanel",
                    "unknown column (expected payment_id, loan_id, amount, paid_on, channel)",
                )
            ],
        ),
        (
            "payment_id,loan_id,amount,amount,paid_on",
            [FeedError(None, "amount", "column appears more than once")],
        ),
    ],
)
def test_columns_must_be_exactly_the_feeds(
    tmp_path: Path, header: str, expected: list[FeedError]
) -> None:
    assert refused(csv_file(tmp_path, header + "\n")) == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("payments.xlsx", b"x", "unsupported file type '.xlsx': use .csv or .parquet"),
        ("payments.csv", b"", "the file is empty (no header row)"),
        ("payments.parquet", b"not parquet", "cannot read the file"),
        ("payments.csv", "payment_id".encode("utf-16"), "the file is UTF-16: save it as"),
    ],
)
def test_unreadable_files_are_refused_as_a_whole(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    [error] = refused(path)
    assert (error.row, error.column) == (None, None)
    assert error.message.startswith(message)


GBK = "not UTF-8 (the file must be UTF-8; was it saved as GBK?)"
BORROWERS_HEADER = "borrower_id,name,phone"


def test_a_cell_that_is_not_utf8_is_named_by_row_and_column(tmp_path: Path) -> None:
    # Small enough to be read with the header: its bad bytes once failed the whole file there
    # ("'utf-8' codec can't decode byte 0xd5 in position 26"), naming neither row nor column.
    path = tmp_path / "borrowers.csv"
    path.write_bytes(
        f"{BORROWERS_HEADER}\nB1,张三,13800000000\n".encode()
        + "B2,张三,13800000001\n".encode("gbk")
        + b"B3,Caf\xe9,13800000002\nB4,ok,x\n"
    )
    assert read(path, "borrowers").errors == [
        FeedError(3, "name", GBK),
        FeedError(4, "name", "not UTF-8 (the file must be UTF-8)"),
        FeedError(5, "phone", "'x' is not a valid phone number (write +country code, e.g. "
                  "+8613812345678)"),
    ]  # fmt: skip


def test_cells_not_utf8_are_named_across_blocks_and_past_a_row_of_the_wrong_width(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrow named only "In CSV column #1: Row #1502". Neither a blank line nor a row of the
    # wrong width before it may shift the row numbers.
    monkeypatch.setattr(sources, "CSV_BLOCK_BYTES", 512)
    for width_at in (None, 700):
        lines = [f"B{i},N{i},+86138{i:08d}".encode() for i in range(2, 2002)]
        lines[1502 - 2] = "B1502,王五,+8613800001502".encode("gbk")
        lines[900 - 2] = b""
        if width_at:
            lines[width_at - 2] = b"B700,x"
        path = tmp_path / "borrowers.csv"
        path.write_bytes(b"\n".join([BORROWERS_HEADER.encode(), *lines]) + b"\n")
        feed = read(path, "borrowers")
        width = [FeedError(width_at, None, "has 2 fields, the header has 3")] if width_at else []
        assert feed.errors == [*width, FeedError(1502, "name", GBK)]
        assert feed.rows_read == 1999 - len(width)


def test_a_header_not_utf8_is_named_as_row_1(tmp_path: Path) -> None:
    path = tmp_path / "borrowers.csv"
    path.write_bytes("borrower_id,姓名,phone\n".encode("gbk"))
    assert refused(path, "borrowers") == [FeedError(1, None, f"the header {GBK}")]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_cell_holding_a_control_character_is_named(tmp_path: Path, suffix: str) -> None:
    # PostgreSQL's text cannot hold NUL: stored on SQLite, it failed the write on PostgreSQL.
    rows = [["B1", "x\x00y", "13800000000"], ["B2", "a\x1b[31m", "13800000001"],
            ["B3", "Lee\tAnn", "13800000002"]]  # fmt: skip
    writer = write_csv if suffix == "csv" else write_parquet
    path = writer(tmp_path / f"borrowers.{suffix}", BORROWERS_HEADER.split(","), rows)
    assert read(path, "borrowers").errors == [
        FeedError(2, "name", "holds a NUL byte (U+0000) at character 2: text may hold none"),
        FeedError(3, "name", "holds a control character (U+001B) at character 2: text may "
                  "hold none"),
    ]  # fmt: skip


def test_arrow_is_given_no_python_callback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrow's threads release such a callback taking the GIL; one doing so while the
    # interpreter exits aborts the process ("terminate called without an active exception",
    # exit 134), seen on 2 of 9 imports of a file refused with a bad row.
    given: list[pacsv.ParseOptions] = []
    open_csv = pacsv.open_csv

    def spy(*args: Any, **kwargs: Any) -> Any:
        given.append(kwargs["parse_options"])
        return open_csv(*args, **kwargs)

    monkeypatch.setattr(pacsv, "open_csv", spy)
    read(csv_file(tmp_path, f"{PAYMENTS_HEADER}\nP1,L1,1.00\n"))
    assert [options.invalid_row_handler for options in given] == [None]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    assert refused(tmp_path / "payments.csv") == [FeedError(None, None, "no such file")]


def test_an_empty_feed_has_no_rows(tmp_path: Path) -> None:
    feed = read(csv_file(tmp_path, PAYMENTS_HEADER + "\n"))
    assert (feed.rows_read, feed.errors) == (0, [])


def test_parquet_and_csv_feeds_parse_alike(tmp_path: Path) -> None:
    for kind, (header, rows) in BOOK.items():
        from_csv = read(write_csv(tmp_path / f"{kind}.csv", header, rows), kind)
        typed = read(write_parquet(tmp_path / f"{kind}.parquet", header, rows), kind)
        text = read(write_parquet(tmp_path / f"t{kind}.parquet", header, rows, typed=False), kind)
        assert from_csv.errors == typed.errors == text.errors == []
        assert from_csv.frame.equals(typed.frame)
        assert from_csv.frame.equals(text.frame)


def _payments_parquet(tmp_path: Path, amount: pa.Array, paid_on: pa.Array | None = None) -> Path:
    rows = len(amount)
    table = pa.table(
        {
            "payment_id": [f"P{i}" for i in range(rows)],
            "loan_id": ["L1"] * rows,
            "amount": amount,
            "paid_on": paid_on if paid_on is not None else pa.array([date(2026, 2, 1)] * rows),
        }
    )
    path = tmp_path / "payments.parquet"
    pq.write_table(table, path)
    return path


def test_parquet_floats_are_refused_because_they_are_not_exact(tmp_path: Path) -> None:
    [error] = refused(_payments_parquet(tmp_path, pa.array([0.1, 0.2])))
    assert (error.row, error.column) == (None, "amount")
    assert error.message.startswith("is a floating-point column (double): floats are not exact")


def test_parquet_timestamps_are_not_dates(tmp_path: Path) -> None:
    stamps = pa.array([0], pa.timestamp("ms"))
    [error] = refused(_payments_parquet(tmp_path, pa.array(["1.00"]), stamps))
    assert error == FeedError(
        None, "paid_on", "has type timestamp[ms]; store it as date32 or ISO text (YYYY-MM-DD)"
    )


def test_parquet_decimals_with_more_scale_are_exact_when_the_extra_digits_are_zero(
    tmp_path: Path,
) -> None:
    amounts = pa.array(
        [Decimal("12.5000"), Decimal("0.0100"), Decimal("1.2345")], pa.decimal128(18, 4)
    )
    feed = read(_payments_parquet(tmp_path, amounts))
    assert feed.frame["amount"].to_list() == [1250, 1, None]
    assert feed.errors == [
        FeedError(4, "amount", "1.2345 has more than 2 decimals (money is exact)")
    ]


@pytest.mark.parametrize("scale", [7, 18])
def test_a_parquet_zero_of_a_large_scale_is_zero(tmp_path: Path, scale: int) -> None:
    # Arrow writes such a zero 0E-7 … 0E-18: Spark's decimal(38, 18) exports had every zero
    # refused as no amount (helper-122).
    amounts = pa.array([Decimal(0), Decimal("12.5"), Decimal("0.001")], pa.decimal128(38, scale))
    feed = read(_payments_parquet(tmp_path, amounts))
    assert feed.frame["amount"].to_list() == [None, 1250, None]
    zero, extra = feed.errors
    # Read as the amount it is: a payment of nothing (a schedule's zero fee is taken).
    assert zero == FeedError(2, "amount", "0.00 must be more than 0")
    assert (extra.row, extra.column) == (4, "amount")
    assert "more than 2 decimals" in extra.message


def test_parquet_rows_are_numbered_from_2_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "PARQUET_BATCH_ROWS", 7)
    amounts = ["1.00"] * 30
    amounts[20] = "-1.00"
    feed = read(_payments_parquet(tmp_path, pa.array(amounts)))
    assert feed.errors == [FeedError(22, "amount", "-1.00 is negative")]


def test_reading_reports_progress_per_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "PARQUET_BATCH_ROWS", 10)
    calls: list[tuple[int, int]] = []
    path = _payments_parquet(tmp_path, pa.array(["1.00"] * 25))
    FileFeedReader().read(
        "payments", path, PRODUCTS, lambda done, total: calls.append((done, total))
    )
    assert calls == [(10, 25), (20, 25), (25, 25)]


def test_errors_are_capped_but_all_counted(tmp_path: Path) -> None:
    lines = [f"P{i},L1,-1.00,2026-02-30" for i in range(1500)]
    feed = read(csv_file(tmp_path, "\n".join([PAYMENTS_HEADER, *lines])))
    assert feed.error_count == 3000
    assert len(feed.errors) == 1000
    assert feed.errors[0] == FeedError(2, "amount", "-1.00 is negative")
    rejection = FeedRejected("payments", tmp_path / "payments.csv", feed.errors, feed.error_count)
    assert str(rejection).splitlines()[-1] == "and 2000 more errors"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_whose_name_is_not_utf8_is_read(tmp_path: Path, suffix: str) -> None:
    # A GBK name (还款, from a Chinese Windows archive unpacked here): Arrow, given the name,
    # failed with a traceback (helper-59); the file is opened by Python instead.
    path = Path(os.fsdecode(bytes(tmp_path) + b"/pay_\xbb\xb9\xbf\xee" + suffix.encode()))
    text = f"{PAYMENTS_HEADER}\nP1,L1,1.50,2026-02-01\n"
    if suffix == ".csv":
        path.write_bytes(text.encode("utf-8"))
    else:
        table = pacsv.read_csv(pa.py_buffer(text.encode())).cast(
            pa.schema([("payment_id", pa.string()), ("loan_id", pa.string()),
                       ("amount", pa.decimal128(12, 2)), ("paid_on", pa.date32())])
        )  # fmt: skip
        with path.open("wb") as handle:
            pq.write_table(table, handle)
    feed = read(path)
    assert feed.errors == []
    assert feed.frame.select("payment_id", "amount").row(0) == ("P1", 150)
