"""Promises keep what was paid towards them, so a run counts only the payments it has not seen.

Revision ID: 0004_promise_paid
Revises: 0003_engine
Create Date: 2026-11-30 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_promise_paid"
down_revision: str | None = "0003_engine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add promises.paid, counting for each open promise the payments in its window that the
    runs so far have applied (dated up to its loan's state date)."""
    with op.batch_alter_table("promises") as batch:
        batch.add_column(sa.Column("paid", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE promises SET paid = COALESCE((SELECT SUM(p.amount) FROM payments p"
        " JOIN loan_balances b ON b.loan_id = p.loan_id WHERE p.loan_id = promises.loan_id"
        " AND p.paid_on >= promises.made_on AND p.paid_on <= promises.due_on"
        " AND p.paid_on <= b.state_date), 0) WHERE status = 'open'"
    )


def downgrade() -> None:
    """Drop promises.paid."""
    with op.batch_alter_table("promises") as batch:
        batch.drop_column("paid")
