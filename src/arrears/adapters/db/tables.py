"""The store's tables (SQLAlchemy Core): money as BIGINT minor units, rates as exact decimals."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

borrowers = Table(
    "borrowers",
    metadata,
    Column("borrower_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("phone", String(32), nullable=False),  # E.164
    Column("national_id", String(32)),
    Column("email", Text),
    Column("address", Text),
    Column("timezone", String(64)),  # IANA; None = derived from the phone number
    Column("locale", String(16)),
)

# Contacts the borrower registered for reaching them. Never a phone book (PIPL Art. 6, 23).
contacts = Table(
    "contacts",
    metadata,
    Column("contact_id", String(64), primary_key=True),
    Column("borrower_id", ForeignKey("borrowers.borrower_id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("phone", String(32), nullable=False),
    Column("relation", String(64), nullable=False),
)

loans = Table(
    "loans",
    metadata,
    Column("loan_id", String(64), primary_key=True),
    Column("borrower_id", ForeignKey("borrowers.borrower_id"), nullable=False, index=True),
    Column("product", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("principal", BigInteger, nullable=False),
    Column("annual_rate", String(32), nullable=False),
    Column("penalty_rate", String(32)),
    Column("contract_date", Date, nullable=False),
)

installments = Table(
    "installments",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("principal_due", BigInteger, nullable=False),
    Column("interest_due", BigInteger, nullable=False),
    Column("fee_due", BigInteger, nullable=False, default=0),
    PrimaryKeyConstraint("loan_id", "seq"),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("channel", String(32)),
)

# Derived ledger written by the end-of-day run (rebuilt per loan from the domain's evaluation).
charges = Table(
    "charges",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("posted_on", Date, nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("base", BigInteger, nullable=False),
    Column("daily", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    PrimaryKeyConstraint("loan_id", "seq", "kind", "first_day", "posted_on"),
)

cap_cuts = Table(
    "cap_cuts",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("day", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("source", Text, nullable=False),
    PrimaryKeyConstraint("loan_id", "seq", "kind", "day"),
)

allocations = Table(
    "allocations",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("payment_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),  # 0 = credit (money beyond every due)
    Column("component", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
    PrimaryKeyConstraint("loan_id", "payment_id", "seq", "component", "paid_on"),
)

loan_states = Table(
    "loan_states",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("dpd", Integer, nullable=False),
    Column("bucket", String(8), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("overdue_principal", BigInteger, nullable=False),
    Column("overdue_interest", BigInteger, nullable=False),
    Column("overdue_penalty", BigInteger, nullable=False),
    Column("overdue_fees", BigInteger, nullable=False),
    Column("outstanding_principal", BigInteger, nullable=False),
    Column("credit", BigInteger, nullable=False),
    Column("charged", BigInteger, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("loans", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
)
