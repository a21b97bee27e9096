"""Each loan's state counts the late fees it was charged, which a product's limit on late fees
in all counts against (docs/MONEY_RULES.md; the UK's HCSTC default cap, FCA CONC 5A.3.18R).

The states already stored come out at 0: no product had a limit before this version, and one
set since changes the loans' priced terms (batch/terms_frame.priced_print), so the next run
works its loans again from their contract dates and counts their late fees anew.

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
    """Add loan_balances.late_fees_charged, 0 for the states there."""
    op.add_column(
        "loan_balances",
        sa.Column("late_fees_charged", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    """Drop it (the next run of the older version counts no late fees)."""
    with op.batch_alter_table("loan_balances") as batch:
        batch.drop_column("late_fees_charged")
