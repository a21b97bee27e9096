"""The day an approved proposal changes the loan's schedule from (extensions: MONEY_RULES.md).

Revision ID: 0018_proposal_effective_on
Revises: 0017_loan_pauses
Create Date: 2026-12-06 00:00:00
"""

import os
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0018_proposal_effective_on"
down_revision: str | None = "0017_loan_pauses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The desk's calendar, as entrypoints/web/views.desk_zone reads it: the day it was approved
# on the desk is the day an extension approved before this version applies from.
_ZONE = ZoneInfo(os.environ.get("ARREARS_DESK_ZONE", "Asia/Shanghai"))


def upgrade() -> None:
    """Add the column; an approved proposal's day is its approval's day on the desk."""
    op.add_column("proposals", sa.Column("effective_on", sa.Date(), nullable=True))
    proposals = sa.table(
        "proposals",
        sa.column("proposal_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("decided_at", sa.DateTime(timezone=True)),
        sa.column("effective_on", sa.Date()),
    )
    bind = op.get_bind()
    approved = bind.execute(
        sa.select(proposals.c.proposal_id, proposals.c.decided_at).where(
            proposals.c.status == "approved", proposals.c.decided_at.is_not(None)
        )
    ).all()
    for proposal_id, decided_at in approved:
        if decided_at.tzinfo is None:  # SQLite gives the stored UTC instant back naive
            decided_at = decided_at.replace(tzinfo=ZoneInfo("UTC"))
        bind.execute(
            sa.update(proposals)
            .where(proposals.c.proposal_id == proposal_id)
            .values(effective_on=decided_at.astimezone(_ZONE).date())
        )


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("effective_on")
