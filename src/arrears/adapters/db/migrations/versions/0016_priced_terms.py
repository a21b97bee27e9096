"""Each loan's state keeps the terms it was priced with, so a loan priced otherwise since (a
product's terms changed in the settings) is replayed from its contract date.

Revision ID: 0016_priced_terms
Revises: 0015_legal_deadline_source
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_priced_terms"
down_revision: str | None = "0015_legal_deadline_source"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add loan_balances.priced, empty: a state kept before is taken as priced under the
    terms of the next run, which writes them."""
    with op.batch_alter_table("loan_balances") as batch:
        batch.add_column(sa.Column("priced", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop loan_balances.priced."""
    with op.batch_alter_table("loan_balances") as batch:
        batch.drop_column("priced")
