"""Feed specs stay in step with the tables they fill: same columns, no value too long to store."""

import polars as pl
import pytest
from sqlalchemy import String

from arrears.adapters.db.bulk import FEED_TABLES
from arrears.adapters.feeds.specs import feed_spec
from arrears.services.feed import FEED_KINDS, FeedKind


@pytest.mark.parametrize("kind", FEED_KINDS)
def test_a_feed_has_the_columns_of_its_table_in_order(kind: FeedKind) -> None:
    spec = feed_spec(kind, set())
    assert spec.names == tuple(column.name for column in FEED_TABLES[kind].columns)
    assert spec.key == tuple(column.name for column in FEED_TABLES[kind].primary_key.columns)


@pytest.mark.parametrize("kind", FEED_KINDS)
def test_no_cell_longer_than_its_column_gets_through(kind: FeedKind) -> None:
    table = FEED_TABLES[kind]
    for column in feed_spec(kind, {"x" * 65}).columns:
        kind_of_column = table.c[column.name].type
        if not isinstance(kind_of_column, String) or kind_of_column.length is None:
            continue
        too_long = "7" * (kind_of_column.length + 1)
        values, errors = column.parse(pl.Series([too_long], dtype=pl.String))
        assert values.to_list() == [None], column.name
        assert errors.to_list() != [None], column.name
