"""The case-work tables: people and access, the audit log, assignment, placement, proposals."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from arrears.adapters.db.tables import metadata

teams = Table(
    "teams",
    metadata,
    Column("team_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
)

# Collection agencies the lender places accounts with; commission as an exact decimal rate;
# whether the agency is on the lender's published white list and the day of its last
# evaluation (None: never), which a pack's outsourcing rule asks of a placement (0019).
agencies = Table(
    "agencies",
    metadata,
    Column("agency_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("commission_rate", String(16), nullable=False),  # e.g. "0.18" of what is collected
    Column("listed", Boolean, nullable=False),
    Column("evaluated_on", Date),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("role", String(32), nullable=False),
    Column("team_id", ForeignKey("teams.team_id")),
    Column("agency_id", ForeignKey("agencies.agency_id")),
    Column("password_hash", Text, nullable=False),  # argon2id, with its parameters and salt
    Column("locale", String(8), nullable=False),  # zh-CN, zh-TW, en
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Server-side sessions of the pages; the cookie holds a token, the table only its SHA-256.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.user_id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # The password it was opened with (casework_ports.credential): valid while it is the user's.
    Column("credential", String(64)),
)

# Bearer tokens of API clients (stored as SHA-256; shown once when made).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.user_id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("credential", String(64)),  # as a session's
)

# Failed log-ins, for throttling by user name and by client address.
login_failures = Table(
    "login_failures",
    metadata,
    Column("failure_id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(64), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_login_failures_user_id_at", "user_id", "at"),
    Index("ix_login_failures_client_at", "client", "at"),
)

# Append-only (triggers refuse UPDATE and DELETE), each row chained to the one before.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_subject", "subject"),
)

# The chain's head: one row, updated first in every append, so appends queue behind its lock.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

# Who works a loan now: a team (its pool) and, within it, a collector.
assignments = Table(
    "assignments",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), primary_key=True),
    Column("team_id", ForeignKey("teams.team_id"), nullable=False, index=True),
    Column("collector_id", ForeignKey("users.user_id"), index=True),  # None = the team's pool
    Column("assigned_on", Date, nullable=False),
    Column("assigned_by", String(64), nullable=False),
)

# Agency placements; a placement is current until recalled.
placements = Table(
    "placements",
    metadata,
    Column("placement_id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False, index=True),
    Column("agency_id", ForeignKey("agencies.agency_id"), nullable=False, index=True),
    Column("placed_on", Date, nullable=False),
    Column("placed_balance", BigInteger, nullable=False),
    Column("commission_rate", String(16), nullable=False),
    Column("recalled_on", Date),
    Column("placed_by", String(64), nullable=False),
    # At most one placement in force per loan, whoever places it at the same instant.
    Index(
        "uq_placements_in_force",
        "loan_id",
        unique=True,
        sqlite_where=text("recalled_on IS NULL"),
        postgresql_where=text("recalled_on IS NULL"),
    ),
)

notes = Table(
    "case_notes",
    metadata,
    Column("note_id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False, index=True),
    Column("author", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("text", Text, nullable=False),
    # What the content lint found in the text, kept with it (NULL: nothing).
    Column("findings", JSON(none_as_null=True)),
)

# Repayment plans, extensions and settlements proposed on a case, and their approval.
proposals = Table(
    "proposals",
    metadata,
    Column("proposal_id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # plan, extension, settlement
    Column("terms", JSON, nullable=False),
    Column("waived", BigInteger, nullable=False),  # what the lender gives up (minor units)
    Column("status", String(16), nullable=False),  # pending, approved, rejected
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", Text),
    # What the content lint found in the approver's note (NULL: nothing, or no approver's).
    Column("decision_note_findings", JSON(none_as_null=True)),
    # Approved: the day (the desk's) it changes the loan's schedule from (MONEY_RULES.md,
    # "Revisions"); None while pending or rejected.
    Column("effective_on", Date),
)

# Field visits: requested, approved or refused with the guard's reasons, then reported.
field_visits = Table(
    "field_visits",
    metadata,
    Column("visit_id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False, index=True),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("collectors", JSON, nullable=False),  # the two (or more) who go
    Column("planned_on", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("reason_findings", JSON(none_as_null=True)),  # the content lint's (NULL: nothing)
    Column("status", String(16), nullable=False),  # requested, approved, rejected, done
    Column("guard", JSON, nullable=False),  # the escalation guard's reasons when requested
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    # The approver's note (None: none), and what the content lint found in it.
    Column("decision_note", Text),
    Column("decision_note_findings", JSON(none_as_null=True)),
    Column("visited_at", DateTime(timezone=True)),
    Column("outcome", String(16)),
    Column("recording", Text),
    Column("report", JSON),
    # What the content lint found in the report's note (NULL: nothing).
    Column("note_findings", JSON(none_as_null=True)),
)

# Legal cases and each step on their track.
legal_cases = Table(
    "legal_cases",
    metadata,
    Column("legal_id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False, index=True, unique=True),
    Column("step", String(16), nullable=False),  # the latest step (domain.legal_track.STEPS)
    Column("court", Text),
    Column("case_number", String(64)),
    Column("costs", BigInteger, nullable=False),
    Column("deadline", Date),
    Column("deadline_what", Text),  # what for: a catalogue key (deadline:<what>)
    Column("deadline_source", Text),  # the pack's rule and legal source it follows from
    Column("opened_by", String(64), nullable=False),
    Column("opened_on", Date, nullable=False),
)

legal_steps = Table(
    "legal_steps",
    metadata,
    Column("step_id", Integer, primary_key=True, autoincrement=True),
    Column("legal_id", ForeignKey("legal_cases.legal_id"), nullable=False, index=True),
    Column("step", String(16), nullable=False),
    Column("on", Date, nullable=False),
    Column("cost", BigInteger, nullable=False),
    Column("court", Text),
    Column("case_number", String(64)),
    Column("performance_due", Date),
    Column("note", Text),
    Column("by", String(64), nullable=False),
)

# Flags people set on a loan (domain.flags), which ladders' entry rules read; clearing one
# deletes its row (the audit log keeps who set and cleared it, and why).
loan_flags = Table(
    "loan_flags",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), primary_key=True),
    Column("flag", String(16), primary_key=True),
    Column("set_on", Date, nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    # What the content lint found in a reason a person gave (NULL: nothing, or the track's),
    # and when they set it (NULL: set by the track, or before 0021).
    Column("reason_findings", JSON(none_as_null=True)),
    Column("set_at", DateTime(timezone=True)),
)
