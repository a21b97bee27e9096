"""Attempts found by the number dialled: the per-number dial cap counts every attempt to a
number, whichever borrower's file it is in (a number two borrowers share).

Revision ID: 0008_dials_by_number
Revises: 0007_one_in_force
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_dials_by_number"
down_revision: str | None = "0007_one_in_force"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index the attempts by number and instant."""
    op.create_index("ix_contact_attempts_to_phone_at", "contact_attempts", ["to_phone", "at"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_contact_attempts_to_phone_at", table_name="contact_attempts")
