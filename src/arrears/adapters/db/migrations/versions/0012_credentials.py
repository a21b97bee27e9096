"""Sessions and API tokens keep the password they were opened with (its hash's SHA-256), so
one opened by a sign-in under way when the password was reset is not valid.

Revision ID: 0012_credentials
Revises: 0011_month_end_buckets
Create Date: 2026-12-04 00:00:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_credentials"
down_revision: str | None = "0011_month_end_buckets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("web_sessions", "api_tokens")


def credential(password_hash: str) -> str:
    """casework_ports.credential as this revision wrote it (a migration keeps its own copy:
    a later change to the application's must not change what this one wrote)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()


def upgrade() -> None:
    """Add the column; the sessions and tokens open now keep their user's current password
    (they were opened with it or a reset would have ended them); one whose user is gone
    keeps none, and is never valid."""
    for name in TABLES:
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("credential", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT user_id, password_hash FROM users"))
    hashes: dict[str, str] = {str(user): str(hashed) for user, hashed in rows}
    for name in TABLES:
        held = sa.table(name, sa.column("token_hash"), sa.column("user_id"),
                        sa.column("credential"))  # fmt: skip
        for token_hash, user_id in bind.execute(sa.select(held.c.token_hash, held.c.user_id)):
            if user_id not in hashes:  # a user gone (a file written without foreign keys)
                continue  # no credential: never valid
            kept = credential(hashes[user_id])
            bind.execute(
                held.update().where(held.c.token_hash == token_hash).values(credential=kept)
            )


def downgrade() -> None:
    """Drop the column."""
    for name in TABLES:
        with op.batch_alter_table(name) as table:
            table.drop_column("credential")
