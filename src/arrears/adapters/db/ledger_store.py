"""The ledger repository on SQL: the `LedgerStore` port over a SQLAlchemy engine."""

from collections.abc import Callable, Collection, Iterator

from sqlalchemy import Engine

from arrears.adapters.db.book import load_book
from arrears.adapters.db.bulk import insert_feed
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.lookups import stored_keys
from arrears.domain.loan import Loan, Payment
from arrears.services.ports import FeedRows, KeyQuery, StoredKeys


class SqlLedgerStore:
    """Borrowers, contacts, loans, instalments and payments in SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        """Use an engine made by `make_engine` on a migrated database."""
        self.engine = engine

    def write_feed(
        self,
        query: KeyQuery,
        rows_of: Callable[[StoredKeys], FeedRows],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Read the stored keys, then write the rows `rows_of` leaves of the file, in one
        transaction that other imports' writes cannot change meanwhile: all of them, or none
        on any error (`rows_of` raising writes nothing)."""
        # SQLite: the write lock from the start (imports take turns). PostgreSQL: instalment
        # imports take turns on their table (readers go on): two files each scheduling 6,000
        # of a 10,000 loan were both found within it, each against the other's absence
        # (helper-59). The other kinds' checks read rows no import changes; a key stored
        # meanwhile is refused by the database (StoreConflict).
        connection = self.engine.connect().execution_options(**WRITE_FIRST)
        with connection, connection.begin():
            if query.installments_of and connection.dialect.name == "postgresql":
                connection.exec_driver_sql("LOCK TABLE installments IN SHARE ROW EXCLUSIVE MODE")
            insert_feed(connection, rows_of(stored_keys(connection, query)), progress)

    def load_book(
        self, loan_ids: Collection[str] | None = None
    ) -> Iterator[tuple[Loan, list[Payment]]]:
        """Every loan (or the given ones) with its schedule and payments, streamed in bulk."""
        with self.engine.connect() as connection:
            yield from load_book(connection, loan_ids)
