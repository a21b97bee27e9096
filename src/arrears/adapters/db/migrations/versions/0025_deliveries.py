"""The sending of the outbox's texts and e-mails: one delivery row an outbox row, claimed by
one sender (docs/CHANNELS.md).

Revision ID: 0025_deliveries
Revises: 0024_bureau_disputes
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_deliveries"
down_revision: str | None = "0024_bureau_disputes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create deliveries (empty: nothing was sent before it)."""
    op.create_table(
        "deliveries",
        sa.Column("action_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ids", sa.JSON(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_key"], ["outbox.action_key"], name=op.f("fk_deliveries_action_key_outbox")
        ),
        sa.PrimaryKeyConstraint("action_key", name=op.f("pk_deliveries")),
    )
    op.create_index(op.f("ix_deliveries_state"), "deliveries", ["state"], unique=False)


def downgrade() -> None:
    """Drop it (what was sent stays in the contact log and the outbox's statuses)."""
    op.drop_index(op.f("ix_deliveries_state"), table_name="deliveries")
    op.drop_table("deliveries")
