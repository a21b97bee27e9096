"""Flags people set on a loan (`legal`: referred to the legal track), which ladders read.

Revision ID: 0010_loan_flags
Revises: 0009_loan_segment_score
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_loan_flags"
down_revision: str | None = "0009_loan_segment_score"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the flags table; the legal track's open cases are referred to legal."""
    op.create_table(
        "loan_flags",
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("flag", sa.String(length=16), nullable=False),
        sa.Column("set_on", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_loan_flags_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "flag", name=op.f("pk_loan_flags")),
    )
    # Opening the legal track refers the loan to legal from now on (domain.flags): the
    # cases opened before this version are referred as they would have been.
    op.execute(
        "INSERT INTO loan_flags (loan_id, flag, set_on, set_by, reason)"
        " SELECT loan_id, 'legal', opened_on, opened_by, 'legal track opened'"
        " FROM legal_cases WHERE step <> 'closed'"
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("loan_flags")
