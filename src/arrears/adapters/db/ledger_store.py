"""The ledger repository on SQL: the `LedgerStore` port over a SQLAlchemy engine."""

from collections.abc import Callable, Collection, Iterator

from sqlalchemy import Engine

from arrears.adapters.db.book import load_book
from arrears.adapters.db.bulk import insert_feed
from arrears.adapters.db.lookups import stored_keys
from arrears.domain.loan import Loan, Payment
from arrears.services.ports import FeedRows, KeyQuery, StoredKeys


class SqlLedgerStore:
    """Borrowers, contacts, loans, instalments and payments in SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        """Use an engine made by `make_engine` on a migrated database."""
        self.engine = engine

    def stored_keys(self, query: KeyQuery) -> StoredKeys:
        """Which of the queried keys are stored, read in one transaction."""
        with self.engine.connect() as connection:
            return stored_keys(connection, query)

    def insert_feed(self, rows: FeedRows, progress: Callable[[int], None] | None = None) -> None:
        """Write every row in one transaction: all of them, or none on any error."""
        with self.engine.begin() as connection:
            insert_feed(connection, rows, progress)

    def load_book(
        self, loan_ids: Collection[str] | None = None
    ) -> Iterator[tuple[Loan, list[Payment]]]:
        """Every loan (or the given ones) with its schedule and payments, streamed in bulk."""
        with self.engine.connect() as connection:
            yield from load_book(connection, loan_ids)
