"""Borrowers' disputes of furnished credit-bureau records, with the day each must be answered by
(docs/BUREAU.md, "Disputes").

Revision ID: 0024_bureau_disputes
Revises: 0023_bureau_records
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_bureau_disputes"
down_revision: str | None = "0023_bureau_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create bureau_disputes (empty: none was recorded before it)."""
    op.create_table(
        "bureau_disputes",
        sa.Column("dispute_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_bureau_disputes_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("dispute_id", name=op.f("pk_bureau_disputes")),
    )
    op.create_index(
        op.f("ix_bureau_disputes_loan_id"), "bureau_disputes", ["loan_id"], unique=False
    )


def downgrade() -> None:
    """Drop it (the disputes recorded are lost with it)."""
    op.drop_index(op.f("ix_bureau_disputes_loan_id"), table_name="bureau_disputes")
    op.drop_table("bureau_disputes")
