"""Each loan's bucket at every month's end the book was run on, for loan-level roll rates.

Revision ID: 0011_month_end_buckets
Revises: 0010_loan_flags
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

from arrears.domain.flow_rates import is_month_end

revision: str = "0011_month_end_buckets"
down_revision: str | None = "0010_loan_flags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table; when the last run was a month's last day, its loan states are
    that month's end (no earlier one is known: the runs kept counts only)."""
    op.create_table(
        "month_end_buckets",
        sa.Column("month_end", sa.Date(), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_month_end_buckets_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("month_end", "loan_id", name=op.f("pk_month_end_buckets")),
    )
    last = op.get_bind().execute(sa.text("SELECT max(as_of) FROM runs")).scalar()
    if last is None:
        return
    day = last if isinstance(last, date) else date.fromisoformat(str(last))  # SQLite: text
    if is_month_end(day):
        states = sa.table(
            "loan_states", sa.column("loan_id"), sa.column("bucket"), sa.column("as_of", sa.Date)
        )
        ends = sa.table("month_end_buckets", sa.column("month_end"), sa.column("loan_id"),
                        sa.column("bucket"))  # fmt: skip
        op.execute(
            ends.insert().from_select(
                ["month_end", "loan_id", "bucket"],
                sa.select(states.c.as_of, states.c.loan_id, states.c.bucket).where(
                    states.c.as_of == day
                ),
            )
        )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("month_end_buckets")
