"""Each part of a text the SMSC took, by the id it gave, with what its delivery receipt said
(docs/CHANNELS.md, "Receipts").

Revision ID: 0026_delivery_parts
Revises: 0025_deliveries
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_delivery_parts"
down_revision: str | None = "0025_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create delivery_parts (empty: the texts sent before it have no parts on record)."""
    op.create_table(
        "delivery_parts",
        sa.Column("action_key", sa.String(length=200), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=65), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("said", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_key"],
            ["deliveries.action_key"],
            name=op.f("fk_delivery_parts_action_key_deliveries"),
        ),
        sa.PrimaryKeyConstraint("action_key", "part", name=op.f("pk_delivery_parts")),
    )
    op.create_index(
        op.f("ix_delivery_parts_message_id"), "delivery_parts", ["message_id"], unique=False
    )


def downgrade() -> None:
    """Drop it (the receipts recorded are lost with it)."""
    op.drop_index(op.f("ix_delivery_parts_message_id"), table_name="delivery_parts")
    op.drop_table("delivery_parts")
