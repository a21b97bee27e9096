"""One placement in force and one legal case per loan, enforced by the database (two clicks
at once cannot make two); on SQLite, `INSERT OR REPLACE` cannot rewrite an audit entry.

Revision ID: 0007_one_in_force
Revises: 0006_visits_legal
Create Date: 2026-11-30 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_one_in_force"
down_revision: str | None = "0006_visits_legal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_FORCE = sa.text("recalled_on IS NULL")


def upgrade() -> None:
    """Add the unique indexes and the SQLite insert guard of the audit log."""
    op.create_index("uq_placements_in_force", "placements", ["loan_id"], unique=True,
                    sqlite_where=IN_FORCE, postgresql_where=IN_FORCE)  # fmt: skip
    op.drop_index("ix_legal_cases_loan_id", table_name="legal_cases")
    op.create_index("ix_legal_cases_loan_id", "legal_cases", ["loan_id"], unique=True)
    if op.get_bind().dialect.name == "sqlite":
        # REPLACE deletes the old row without firing the DELETE trigger (recursive triggers
        # are off): refuse any insert over an existing sequence number instead.
        op.execute(
            "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
            "WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq) "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )


def downgrade() -> None:
    """Drop them."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_log_no_replace")
    op.drop_index("ix_legal_cases_loan_id", table_name="legal_cases")
    op.create_index("ix_legal_cases_loan_id", "legal_cases", ["loan_id"])
    op.drop_index("uq_placements_in_force", table_name="placements")
