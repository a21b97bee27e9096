"""Borrowers' replies to texts: an opt-out word alone is recorded as an opt-out with it, the
rest wait for a person to read them (docs/CHANNELS.md, "Replies").

Revision ID: 0028_sms_replies
Revises: 0027_unmatched_receipts
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_sms_replies"
down_revision: str | None = "0027_unmatched_receipts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create sms_replies (empty)."""
    op.create_table(
        "sms_replies",
        sa.Column("reply_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("borrower_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("word", sa.String(length=64), nullable=True),
        sa.Column("read_by", sa.String(length=64), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("reply_id", name=op.f("pk_sms_replies")),
    )
    op.create_index(op.f("ix_sms_replies_number"), "sms_replies", ["number"], unique=False)
    op.create_index(op.f("ix_sms_replies_state"), "sms_replies", ["state"], unique=False)


def downgrade() -> None:
    """Drop it (the replies kept are lost with it; the opt-outs they recorded stay)."""
    op.drop_index(op.f("ix_sms_replies_state"), table_name="sms_replies")
    op.drop_index(op.f("ix_sms_replies_number"), table_name="sms_replies")
    op.drop_table("sms_replies")
