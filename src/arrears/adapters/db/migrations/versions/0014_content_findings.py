"""The content lint's findings kept with what collectors write: a contact's note (new), a
case note, a visit report's note.

Revision ID: 0014_content_findings
Revises: 0013_cases_prior
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_content_findings"
down_revision: str | None = "0013_cases_prior"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns, empty: what was written before was never linted (a count of flagged
    texts starts with this version)."""
    op.add_column("contact_attempts", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("contact_attempts", sa.Column("note_findings", sa.JSON(), nullable=True))
    op.add_column("case_notes", sa.Column("findings", sa.JSON(), nullable=True))
    op.add_column("field_visits", sa.Column("note_findings", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop them (SQLite: the tables copied without them)."""
    with op.batch_alter_table("field_visits") as batch:
        batch.drop_column("note_findings")
    with op.batch_alter_table("case_notes") as batch:
        batch.drop_column("findings")
    with op.batch_alter_table("contact_attempts") as batch:
        batch.drop_column("note_findings")
        batch.drop_column("note")
