"""Who placed a hold when not the desk or the console: a borrower's own dispute from the portal
(docs/PORTAL.md). Holds placed before are the desk's or the console's (NULL).

Revision ID: 0031_hold_placed_by
Revises: 0030_portal
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_hold_placed_by"
down_revision: str | None = "0030_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add holds.placed_by (NULL: the desk's or the console's)."""
    with op.batch_alter_table("holds") as batch:
        batch.add_column(sa.Column("placed_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop it (a borrower's dispute then reads as the desk's)."""
    with op.batch_alter_table("holds") as batch:
        batch.drop_column("placed_by")
