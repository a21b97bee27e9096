"""Every table of the store in one MetaData (the ledger's and run's, and case work's)."""

from arrears.adapters.db import casework_tables
from arrears.adapters.db.tables import metadata

__all__ = ["casework_tables", "metadata"]
