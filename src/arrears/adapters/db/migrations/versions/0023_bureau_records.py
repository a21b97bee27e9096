"""Each loan's credit-bureau record of a month, as the monthly export made it (docs/BUREAU.md).

Revision ID: 0023_bureau_records
Revises: 0022_late_fees_charged
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_bureau_records"
down_revision: str | None = "0022_late_fees_charged"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create bureau_records (no export was made before it: it starts empty)."""
    op.create_table(
        "bureau_records",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("grid", sa.String(length=24), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("overdue", sa.BigInteger(), nullable=False),
        sa.Column("overdue_principal", sa.BigInteger(), nullable=False),
        sa.Column("overdue_lines", sa.Integer(), nullable=False),
        sa.Column("due_in_month", sa.BigInteger(), nullable=False),
        sa.Column("paid_in_month", sa.BigInteger(), nullable=False),
        sa.Column("last_paid_on", sa.Date(), nullable=True),
        sa.Column("withheld_rule", sa.String(length=64), nullable=True),
        sa.Column("withheld_detail", sa.Text(), nullable=True),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_bureau_records_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("month", "loan_id", name=op.f("pk_bureau_records")),
    )
    op.create_index(
        "ix_bureau_records_loan_id_month", "bureau_records", ["loan_id", "month"], unique=False
    )


def downgrade() -> None:
    """Drop it (the exports made are lost with it)."""
    op.drop_index("ix_bureau_records_loan_id_month", table_name="bureau_records")
    op.drop_table("bureau_records")
