"""Each loan's state counts the late fees it was charged, which a product's limit on late fees
in all counts against (docs/MONEY_RULES.md; the UK's HCSTC default cap, FCA CONC 5A.3.18R).

The states already stored count the late fees their charges hold: a limit set since is
counted against them whether or not the next run works the loans again from their contract
dates (it does where their priced terms were kept, batch/terms_frame.priced_print; a state
stored before 0016 kept none, helper-90).

Revision ID: 0022_late_fees_charged
Revises: 0021_more_content_findings
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_late_fees_charged"
down_revision: str | None = "0021_more_content_findings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add loan_balances.late_fees_charged: each state's late fees, from its charges."""
    op.add_column(
        "loan_balances",
        sa.Column("late_fees_charged", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE loan_balances SET late_fees_charged = COALESCE((SELECT SUM(c.amount) FROM "
        "charges c WHERE c.loan_id = loan_balances.loan_id AND c.kind = 'late_fee'), 0)"
    )


def downgrade() -> None:
    """Drop it (the next run of the older version counts no late fees)."""
    with op.batch_alter_table("loan_balances") as batch:
        batch.drop_column("late_fees_charged")
