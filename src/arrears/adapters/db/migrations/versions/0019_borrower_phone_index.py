"""Borrowers found by their phone number: a contact's check and log read the other borrowers
on the numbers it concerns (their calls count against a shared number's dial cap), which
without an index scanned every borrower.

Revision ID: 0019_borrower_phone_index
Revises: 0018_proposal_effective_on
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_borrower_phone_index"
down_revision: str | None = "0018_proposal_effective_on"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index borrowers.phone."""
    op.create_index("ix_borrowers_phone", "borrowers", ["phone"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_borrowers_phone", table_name="borrowers")
