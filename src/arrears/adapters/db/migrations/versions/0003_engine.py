"""The columnar engine's state, collection cases, promises, the outbox and blocked actions.

Revision ID: 0003_engine
Revises: 0002_contacts
Create Date: 2026-01-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_engine"
down_revision: str | None = "0002_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by hand to match tables.py exactly (constraint names follow its naming convention);
# tests compare the migrated schema with the metadata on SQLite and PostgreSQL.
_STATE_AMOUNTS = (
    "interest_charged", "fees_charged", "penalty_charged", "paid_fees", "paid_penalty",
    "paid_interest", "paid_principal", "pending", "pending_days", "pending_base",
    "pending_daily", "run_base", "run_daily",
)  # fmt: skip


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """A foreign key named as tables.py's naming convention names it."""
    target_table = target.partition(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{target_table}")


def _id(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), nullable=nullable)


def upgrade() -> None:
    """Create the engine's tables."""
    op.create_table(
        "installment_states",
        _id("loan_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("eff_due", sa.Date()),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _STATE_AMOUNTS),
        sa.Column("pending_first", sa.Date()),
        sa.Column("beyond_grace", sa.Boolean(), nullable=False),
        sa.Column("run_first", sa.Date()),
        sa.Column("run_last", sa.Date()),
        sa.PrimaryKeyConstraint("loan_id", "seq", name="pk_installment_states"),
        _fk("installment_states", "loan_id", "loans.loan_id"),
    )
    op.create_table(
        "loan_balances",
        _id("loan_id"),
        sa.Column("state_date", sa.Date(), nullable=False),
        sa.Column("charged", sa.BigInteger(), nullable=False),
        sa.Column("principal_days", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", name="pk_loan_balances"),
        _fk("loan_balances", "loan_id", "loans.loan_id"),
    )
    op.create_table(
        "cases",
        _id("loan_id"),
        _id("borrower_id"),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ladder", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", name="pk_cases"),
        _fk("cases", "loan_id", "loans.loan_id"),
        _fk("cases", "borrower_id", "borrowers.borrower_id"),
    )
    op.create_index("ix_cases_borrower_id", "cases", ["borrower_id"])
    op.create_table(
        "promises",
        sa.Column("promise_id", sa.String(64), nullable=False),
        _id("loan_id"),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("settled_on", sa.Date()),
        sa.PrimaryKeyConstraint("promise_id", name="pk_promises"),
        _fk("promises", "loan_id", "loans.loan_id"),
    )
    op.create_index("ix_promises_loan_id", "promises", ["loan_id"])
    _create_outbox()
    op.create_table(
        "blocked_actions",
        sa.Column("as_of", sa.Date(), nullable=False),
        _id("loan_id"),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("as_of", "loan_id", "action", "rule", name="pk_blocked_actions"),
        _fk("blocked_actions", "loan_id", "loans.loan_id"),
    )


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("action_key", sa.String(200), nullable=False),
        _id("loan_id"),
        _id("borrower_id"),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16)),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("planned_for", sa.Date(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True)),
        sa.Column("window_end", sa.DateTime(timezone=True)),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("arm", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.PrimaryKeyConstraint("action_key", name="pk_outbox"),
        _fk("outbox", "loan_id", "loans.loan_id"),
        _fk("outbox", "borrower_id", "borrowers.borrower_id"),
    )
    op.create_index("ix_outbox_planned_for_status", "outbox", ["planned_for", "status"])


def downgrade() -> None:
    """Drop the engine's tables (their indexes go with them)."""
    for table in ("blocked_actions", "outbox", "promises", "cases", "loan_balances",
                  "installment_states"):  # fmt: skip
        op.drop_table(table)
