"""Parts of a long reply kept aside until the reply is whole (docs/CHANNELS.md, "Replies").
Apart from 0028: databases migrated to 0028 before exist.

Revision ID: 0029_sms_reply_parts
Revises: 0028_sms_replies
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_sms_reply_parts"
down_revision: str | None = "0028_sms_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create sms_reply_parts (empty)."""
    op.create_table(
        "sms_reply_parts",
        sa.Column("part_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("part_id", name=op.f("pk_sms_reply_parts")),
    )
    op.create_index("ix_sms_reply_parts_key", "sms_reply_parts", ["number", "reference", "total"])


def downgrade() -> None:
    """Drop it (the parts kept aside are lost with it)."""
    op.drop_index("ix_sms_reply_parts_key", table_name="sms_reply_parts")
    op.drop_table("sms_reply_parts")
