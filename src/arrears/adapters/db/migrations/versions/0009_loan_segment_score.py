"""A loan's segment and score, optional in the loans feed, for the ladders' entry rules.

Revision ID: 0009_loan_segment_score
Revises: 0008_dials_by_number
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_loan_segment_score"
down_revision: str | None = "0008_dials_by_number"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two columns (empty for the loans already stored)."""
    op.add_column("loans", sa.Column("segment", sa.String(32), nullable=True))
    op.add_column("loans", sa.Column("score", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("score")
        batch.drop_column("segment")
