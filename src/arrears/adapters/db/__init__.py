"""The SQL store: engine, tables, Alembic migrations and the ledger repository."""
