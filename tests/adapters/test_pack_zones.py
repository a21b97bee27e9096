"""A borrower's packs: a row for each jurisdiction of their loans' products, with that pack's
default zone, whether the products come as texts (the loans input) or categories (the loan
table)."""

from datetime import date

import polars as pl
import pytest

from arrears.adapters.book_tables import with_pack_zones
from arrears.adapters.parquet_store import pack_zones
from arrears.bootstrap import build_app

BORROWERS = pl.DataFrame({
    "borrower_id": ["B1", "B2", "B3", "B4"],
    "phone": ["+8613800000001", "+12125550100", "+447700900123", "+8613800000004"],
    "timezone": [None, None, None, "Asia/Urumqi"],
})  # fmt: skip
# B1 and B2 hold a Chinese and an American loan, B3 a British one and B4 none.
LOANS = pl.DataFrame({
    "loan_id": ["L1", "L2", "L3", "L4", "L5", "L6"],
    "borrower_id": ["B1", "B2", "B2", "B3", "B1", "B1"],
    "product": ["cn-cash", "us-installment", "cn-cash", "uk-installment", "us-installment",
                "cn-cash"],
})  # fmt: skip


@pytest.mark.parametrize("product", [pl.String(), pl.Categorical()])
def test_each_borrower_has_a_row_for_each_jurisdiction_of_their_loans(
    product: pl.DataType,
) -> None:
    terms = build_app(None, None).run_context(date(2025, 11, 18)).terms
    loans = LOANS.with_columns(pl.col("product").cast(product))
    zoned = with_pack_zones(BORROWERS, loans, terms, pack_zones())
    assert sorted(zoned.select("borrower_id", "jurisdiction", "default_zone").rows(),
                  key=str) == [
        ("B1", "cn", "Asia/Shanghai"), ("B1", "us", "America/New_York"),
        ("B2", "cn", "Asia/Shanghai"), ("B2", "us", "America/New_York"),
        ("B3", "uk", "Europe/London"),
        ("B4", None, "Asia/Shanghai"),  # no loan: no pack, the fallback zone
    ]  # fmt: skip
    # Each row keeps the borrower's own columns.
    recorded = dict(zip(BORROWERS["borrower_id"], BORROWERS["timezone"], strict=True))
    assert all(recorded[b] == zone for b, zone in zoned.select("borrower_id", "timezone").rows())


@pytest.mark.parametrize("product", [pl.String(), pl.Categorical()])
def test_a_book_of_one_jurisdiction_gives_every_borrower_one_row_under_it(
    product: pl.DataType,
) -> None:
    terms = build_app(None, None).run_context(date(2025, 11, 18)).terms
    loans = LOANS.filter(pl.col("product") == "us-installment").with_columns(
        pl.col("product").cast(product)
    )
    zoned = with_pack_zones(BORROWERS, loans, terms, pack_zones())
    assert (
        zoned.get_column("borrower_id").to_list() == BORROWERS.get_column("borrower_id").to_list()
    )
    assert set(zoned.select("jurisdiction", "default_zone").rows()) == {("us", "America/New_York")}
