"""The content lint's findings kept with the other texts staff write on a case: a hold's note
(with the instant it was written), a field visit's reason and its approver's note (now kept
on the visit, not only in the audit log), a proposal's approver's note, and a flag's reason
(with the instant it was set).

Revision ID: 0021_more_content_findings
Revises: 0020_agency_evaluation
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_more_content_findings"
down_revision: str | None = "0020_agency_evaluation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns, empty: what was written before was never linted (the count of
    flagged texts takes these texts from this version on)."""
    op.add_column("holds", sa.Column("note_findings", sa.JSON(), nullable=True))
    op.add_column("holds", sa.Column("noted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("field_visits", sa.Column("reason_findings", sa.JSON(), nullable=True))
    op.add_column("field_visits", sa.Column("decision_note", sa.Text(), nullable=True))
    op.add_column("field_visits", sa.Column("decision_note_findings", sa.JSON(), nullable=True))
    op.add_column("proposals", sa.Column("decision_note_findings", sa.JSON(), nullable=True))
    op.add_column("loan_flags", sa.Column("reason_findings", sa.JSON(), nullable=True))
    op.add_column("loan_flags", sa.Column("set_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop them (SQLite: the tables copied without them; a visit's approver's note stays in
    the audit log)."""
    with op.batch_alter_table("loan_flags") as batch:
        batch.drop_column("set_at")
        batch.drop_column("reason_findings")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("decision_note_findings")
    with op.batch_alter_table("field_visits") as batch:
        batch.drop_column("decision_note_findings")
        batch.drop_column("decision_note")
        batch.drop_column("reason_findings")
    with op.batch_alter_table("holds") as batch:
        batch.drop_column("noted_at")
        batch.drop_column("note_findings")
