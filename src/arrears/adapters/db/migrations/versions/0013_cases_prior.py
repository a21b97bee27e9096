"""The cases as they were before the latest run, which a re-run of that day starts from.

Revision ID: 0013_cases_prior
Revises: 0012_credentials
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_cases_prior"
down_revision: str | None = "0012_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create it empty: the cases before the latest run were not kept (a re-run of that day
    starts from its own cases, as before, until the next day's run fills it)."""
    op.create_table(
        "cases_prior",
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ladder", sa.String(length=64), nullable=False),
        sa.Column("arm", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_cases_prior_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_cases_prior")),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("cases_prior")
