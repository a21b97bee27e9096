"""Contact attempts with their compliance decisions, collection holds and channel opt-outs.

Revision ID: 0002_contacts
Revises: 0001_ledger
Create Date: 2026-01-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_contacts"
down_revision: str | None = "0001_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by hand to match tables.py exactly (constraint names follow its naming convention);
# tests compare the migrated schema with the metadata on SQLite and PostgreSQL.


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """A foreign key named as tables.py's naming convention names it."""
    target_table = target.partition(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{target_table}")


def upgrade() -> None:
    """Create the contact tables."""
    op.create_table(
        "contact_attempts",
        sa.Column("attempt_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.String(64)),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("to_phone", sa.String(32)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_contact_attempts"),
        _fk("contact_attempts", "borrower_id", "borrowers.borrower_id"),
        _fk("contact_attempts", "contact_id", "contacts.contact_id"),
    )
    op.create_index("ix_contact_attempts_borrower_id_at", "contact_attempts", ["borrower_id", "at"])
    op.create_table(
        "holds",
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date()),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("borrower_id", "kind", "starts_on", name="pk_holds"),
        _fk("holds", "borrower_id", "borrowers.borrower_id"),
    )
    op.create_table(
        "opt_outs",
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("borrower_id", "channel", name="pk_opt_outs"),
        _fk("opt_outs", "borrower_id", "borrowers.borrower_id"),
    )


def downgrade() -> None:
    """Drop the contact tables (their indexes go with them)."""
    for table in ("opt_outs", "holds", "contact_attempts"):
        op.drop_table(table)
