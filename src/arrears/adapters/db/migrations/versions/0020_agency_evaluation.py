"""Agencies carry their white-list standing and the day of their last evaluation, which the
cn pack's outsourcing rule asks of a placement (cn.outsourcing: on the lender's published white
list, evaluated at least every 12 months; CBA 2026, GB/T 45251-2025).

The agencies already set up come out not listed and not evaluated (nothing on record says
either): under a pack with the rule, a placement with one is refused as never evaluated until
an evaluation is recorded (`arrears staff agency-evaluation AGENCY --on DATE`, which also
lists it unless `--delist`). Placements already made are kept as they are.

Revision ID: 0020_agency_evaluation
Revises: 0019_borrower_phone_index
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_agency_evaluation"
down_revision: str | None = "0019_borrower_phone_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add agencies.listed (false for the agencies there) and agencies.evaluated_on (empty)."""
    with op.batch_alter_table("agencies") as batch:
        batch.add_column(sa.Column("listed", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("evaluated_on", sa.Date(), nullable=True))
    agencies = sa.table("agencies", sa.column("listed", sa.Boolean()))
    op.execute(agencies.update().values(listed=False))
    with op.batch_alter_table("agencies") as batch:
        batch.alter_column("listed", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    """Drop both columns (the standing and evaluations recorded are lost; the audit log keeps
    them)."""
    with op.batch_alter_table("agencies") as batch:
        batch.drop_column("evaluated_on")
        batch.drop_column("listed")
