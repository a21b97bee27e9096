"""The spans of days each loan's clocks stood still in the last run (holds that pause them).

Revision ID: 0017_loan_pauses
Revises: 0016_priced_terms
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_loan_pauses"
down_revision: str | None = "0016_priced_terms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create it empty: no run paused a loan before (products paused nothing), so a product
    that pauses some kinds from now on has its held loans worked again from their contract
    date by the next run."""
    op.create_table(
        "loan_pauses",
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("clock", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_loan_pauses_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "clock", "starts_on", name=op.f("pk_loan_pauses")),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("loan_pauses")
