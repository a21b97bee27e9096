"""The ledger: borrowers, contacts, loans, instalments, payments and the daily run's tables.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-01-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_ledger"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by hand to match tables.py exactly (constraint names follow its naming convention);
# tests compare the migrated schema with the metadata on SQLite and PostgreSQL.


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """A foreign key named as tables.py's naming convention names it."""
    target_table = target.partition(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{target_table}")


def upgrade() -> None:
    """Create every table of the ledger."""
    _create_reference_tables()
    _create_schedule_tables()
    _create_charge_tables()
    _create_state_tables()


def _create_reference_tables() -> None:
    """Borrowers, their registered contacts and their loans."""
    op.create_table(
        "borrowers",
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("national_id", sa.String(32)),
        sa.Column("email", sa.Text()),
        sa.Column("address", sa.Text()),
        sa.Column("timezone", sa.String(64)),
        sa.Column("locale", sa.String(16)),
        sa.PrimaryKeyConstraint("borrower_id", name="pk_borrowers"),
    )
    op.create_table(
        "contacts",
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("relation", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_contacts"),
        _fk("contacts", "borrower_id", "borrowers.borrower_id"),
    )
    op.create_index("ix_contacts_borrower_id", "contacts", ["borrower_id"])
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("product", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.String(32), nullable=False),
        sa.Column("penalty_rate", sa.String(32)),
        sa.Column("contract_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", name="pk_loans"),
        _fk("loans", "borrower_id", "borrowers.borrower_id"),
    )
    op.create_index("ix_loans_borrower_id", "loans", ["borrower_id"])


def _create_schedule_tables() -> None:
    """Instalments and payments: the facts the daily run starts from."""
    op.create_table(
        "installments",
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal_due", sa.BigInteger(), nullable=False),
        sa.Column("interest_due", sa.BigInteger(), nullable=False),
        sa.Column("fee_due", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "seq", name="pk_installments"),
        _fk("installments", "loan_id", "loans.loan_id"),
    )
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.PrimaryKeyConstraint("payment_id", name="pk_payments"),
        _fk("payments", "loan_id", "loans.loan_id"),
    )
    op.create_index("ix_payments_loan_id", "payments", ["loan_id"])


def _create_charge_tables() -> None:
    """What the end-of-day run posts: charges, cap cuts and payment allocations."""
    op.create_table(
        "charges",
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.Column("daily", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "loan_id", "seq", "kind", "first_day", "posted_on", name="pk_charges"
        ),
        _fk("charges", "loan_id", "loans.loan_id"),
    )
    op.create_table(
        "cap_cuts",
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "seq", "kind", "day", name="pk_cap_cuts"),
        _fk("cap_cuts", "loan_id", "loans.loan_id"),
    )
    op.create_table(
        "allocations",
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint(
            "loan_id", "payment_id", "seq", "component", "paid_on", name="pk_allocations"
        ),
        _fk("allocations", "loan_id", "loans.loan_id"),
    )


def _create_state_tables() -> None:
    """What the end-of-day run concludes: each loan's state, and the runs made."""
    op.create_table(
        "loan_states",
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(8), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("overdue_principal", sa.BigInteger(), nullable=False),
        sa.Column("overdue_interest", sa.BigInteger(), nullable=False),
        sa.Column("overdue_penalty", sa.BigInteger(), nullable=False),
        sa.Column("overdue_fees", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_principal", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.Column("charged", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", name="pk_loan_states"),
        _fk("loan_states", "loan_id", "loans.loan_id"),
    )
    op.create_table(
        "runs",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("as_of", name="pk_runs"),
    )


def downgrade() -> None:
    """Drop every table of the ledger, dependants first (their indexes go with them)."""
    for table in (
        "runs",
        "loan_states",
        "allocations",
        "cap_cuts",
        "charges",
        "payments",
        "installments",
        "loans",
        "contacts",
        "borrowers",
    ):
        op.drop_table(table)
