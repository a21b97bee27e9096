"""Instants read back from either database, always as aware UTC."""

from datetime import UTC, datetime


def utc(at: datetime) -> datetime:
    """An instant as read back: SQLite returns naive UTC, PostgreSQL the session's zone."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
