"""Field visits (requested, approved, reported) and the legal track (cases and their steps).

Revision ID: 0006_visits_legal
Revises: 0005_casework
Create Date: 2026-11-30 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_visits_legal"
down_revision: str | None = "0005_casework"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the field-visit and legal tables."""
    op.create_table(
        "field_visits",
        sa.Column("visit_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collectors", sa.JSON(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("guard", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("recording", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_field_visits_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_field_visits")),
    )
    op.create_index(op.f("ix_field_visits_loan_id"), "field_visits", ["loan_id"], unique=False)
    op.create_table(
        "legal_cases",
        sa.Column("legal_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("court", sa.Text(), nullable=True),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("costs", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("deadline_what", sa.Text(), nullable=True),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_legal_cases_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("legal_id", name=op.f("pk_legal_cases")),
    )
    op.create_index(op.f("ix_legal_cases_loan_id"), "legal_cases", ["loan_id"], unique=False)
    op.create_table(
        "legal_steps",
        sa.Column("step_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("legal_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("court", sa.Text(), nullable=True),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("performance_due", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["legal_id"], ["legal_cases.legal_id"], name=op.f("fk_legal_steps_legal_id_legal_cases")
        ),
        sa.PrimaryKeyConstraint("step_id", name=op.f("pk_legal_steps")),
    )
    op.create_index(op.f("ix_legal_steps_legal_id"), "legal_steps", ["legal_id"], unique=False)


def downgrade() -> None:
    """Drop them."""
    for table in ("legal_steps", "legal_cases", "field_visits"):
        op.drop_table(table)
