"""Delivery receipts that came before their part was on record, kept for the sender to take
(docs/CHANNELS.md, "Receipts"). Apart from 0026: databases migrated to 0026 before exist.

Revision ID: 0027_unmatched_receipts
Revises: 0026_delivery_parts
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_unmatched_receipts"
down_revision: str | None = "0026_delivery_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create unmatched_receipts (empty)."""
    op.create_table(
        "unmatched_receipts",
        sa.Column("receipt_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=65), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("said", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id", name=op.f("pk_unmatched_receipts")),
    )
    op.create_index(
        op.f("ix_unmatched_receipts_message_id"),
        "unmatched_receipts",
        ["message_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop it (the receipts kept apart are lost with it)."""
    op.drop_index(op.f("ix_unmatched_receipts_message_id"), table_name="unmatched_receipts")
    op.drop_table("unmatched_receipts")
