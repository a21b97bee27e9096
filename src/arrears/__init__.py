"""arrears: loan delinquency and collections (催收) management."""

__version__ = "0.1.0"
