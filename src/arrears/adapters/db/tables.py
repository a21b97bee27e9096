"""The store's tables (SQLAlchemy Core): money as BIGINT minor units, rates as exact decimals."""

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
    # A contact's check finds the other borrowers on a number (contact_store._dialled_to).
    Index("ix_borrowers_phone", "phone"),
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
    Column("segment", String(32)),  # the lender's segment, read by ladders' `segments`
    Column("score", BigInteger),  # the lender's collection score, read by `score_min/max`
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

# Each loan's bucket at the end of every month the book was run on the month's last day (the
# run keeps no other per-loan history): roll rates follow the loans from one month's end to
# the next (domain/flow_rates.py).
month_end_buckets = Table(
    "month_end_buckets",
    metadata,
    Column("month_end", Date, nullable=False),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("bucket", String(8), nullable=False),
    PrimaryKeyConstraint("month_end", "loan_id"),
)

# Each loan's credit-bureau record of a month, as the export of that month made it
# (docs/BUREAU.md): its status, amounts and 24-month grid, or why it was withheld (the pack's
# rule and what it found). The grids of later months read the statuses furnished here.
bureau_records = Table(
    "bureau_records",
    metadata,
    Column("month", Date, nullable=False),  # its first day
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("jurisdiction", String(8), nullable=False),
    Column("borrower_id", String(64), nullable=False),
    Column("status", String(1), nullable=False),
    Column("grid", String(24), nullable=False),
    Column("dpd", Integer, nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("overdue", BigInteger, nullable=False),
    Column("overdue_principal", BigInteger, nullable=False),
    Column("overdue_lines", Integer, nullable=False),
    Column("due_in_month", BigInteger, nullable=False),
    Column("paid_in_month", BigInteger, nullable=False),
    Column("last_paid_on", Date),
    Column("withheld_rule", String(64)),  # None: furnished
    Column("withheld_detail", Text),
    Column("exported_at", DateTime(timezone=True), nullable=False),  # stored in UTC
    PrimaryKeyConstraint("month", "loan_id"),
    Index("ix_bureau_records_loan_id_month", "loan_id", "month"),
)

# Borrowers' disputes of furnished bureau records (征信异议), each with the day it must be
# answered by under its pack's rule and, once answered, what was found.
bureau_disputes = Table(
    "bureau_disputes",
    metadata,
    Column("dispute_id", Integer, primary_key=True, autoincrement=True),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False, index=True),
    Column("month", Date, nullable=False),  # the disputed record's (its first day)
    Column("received_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("jurisdiction", String(8), nullable=False),  # the record's: its pack's rule
    Column("rule", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),  # stored in UTC
    Column("answered_on", Date),
    Column("outcome", String(16)),  # corrected, upheld
    Column("answer", Text),
    Column("answered_at", DateTime(timezone=True)),  # stored in UTC
)

# Contact attempts as they happened, each with the compliance decision taken at its instant.
# An attempt that broke a rule is still recorded (it is a fact) and flagged allowed = false.
contact_attempts = Table(
    "contact_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("borrower_id", ForeignKey("borrowers.borrower_id"), nullable=False),
    Column("contact_id", ForeignKey("contacts.contact_id")),  # None = the borrower
    Column("channel", String(16), nullable=False),
    Column("to_phone", String(32)),  # E.164
    Column("at", DateTime(timezone=True), nullable=False),  # stored in UTC
    Column("outcome", String(16), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),  # stored in UTC
    Column("allowed", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),  # [{"rule", "source", "detail", "passed"}, ...]
    # What the collector wrote about it, kept as written, and what the content lint found in
    # it ([{"rule", "source", "phrase", "matched", "start", "end"}, ...]; NULL: nothing).
    Column("note", Text),
    Column("note_findings", JSON(none_as_null=True)),
    Index("ix_contact_attempts_borrower_id_at", "borrower_id", "at"),
    # The dial cap counts every attempt to a number, other borrowers' too (contact_store).
    Index("ix_contact_attempts_to_phone_at", "to_phone", "at"),
)

# Collection pauses (dispute, hardship, deceased, cease_contact) over local days, end inclusive.
holds = Table(
    "holds",
    metadata,
    Column("borrower_id", ForeignKey("borrowers.borrower_id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),  # None = until lifted
    Column("note", Text),
    # What the content lint found in the note (NULL: nothing), and when the note was written.
    Column("note_findings", JSON(none_as_null=True)),
    Column("noted_at", DateTime(timezone=True)),
    # Who placed it when not the desk or the console (NULL): `portal:borrower`, a borrower's
    # own dispute from the portal, whose note is their reason (docs/PORTAL.md).
    Column("placed_by", String(64)),
    PrimaryKeyConstraint("borrower_id", "kind", "starts_on"),
)

# Channels a borrower asked not to be contacted through (e.g. Regulation F 1006.6(e)).
opt_outs = Table(
    "opt_outs",
    metadata,
    Column("borrower_id", ForeignKey("borrowers.borrower_id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),  # stored in UTC
    PrimaryKeyConstraint("borrower_id", "channel"),
)

STATE_AMOUNTS = (
    "interest_charged", "fees_charged", "penalty_charged", "paid_fees", "paid_penalty",
    "paid_interest", "paid_principal", "pending", "pending_days", "pending_base",
    "pending_daily", "run_base", "run_daily",
)  # fmt: skip

# The columnar engine's state: each instalment's balances and each loan's running totals, as of
# the end of `state_date` (the last day the run advanced the loan to).
installment_states = Table(
    "installment_states",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("eff_due", Date),
    *(Column(name, BigInteger, nullable=False) for name in STATE_AMOUNTS),
    Column("pending_first", Date),
    Column("beyond_grace", Boolean, nullable=False),
    Column("run_first", Date),
    Column("run_last", Date),
    PrimaryKeyConstraint("loan_id", "seq"),
)

loan_balances = Table(
    "loan_balances",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), primary_key=True),
    Column("state_date", Date, nullable=False),
    Column("charged", BigInteger, nullable=False),
    Column("principal_days", BigInteger, nullable=False),
    Column("credit", BigInteger, nullable=False),
    # The late fees charged so far, which a product's limit on them counts (0022 counted
    # those of the states there from their charges).
    Column("late_fees_charged", BigInteger, nullable=False, server_default="0"),
    # The terms the state was priced with (batch/terms_frame.priced_print): a loan priced
    # otherwise since is replayed from its contract date. Null: kept before 0016.
    Column("priced", Text),
)

# The spans of days each loan's clocks stood still in the last run (batch.pauses: its
# borrower's holds of the kinds its product names, merged per clock), to find the loans whose
# pauses changed since: the next run works them again from their contract date.
loan_pauses = Table(
    "loan_pauses",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("clock", String(16), nullable=False),  # ageing or charges (domain/pauses.py)
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),  # None = until lifted
    PrimaryKeyConstraint("loan_id", "clock", "starts_on"),
)

# A loan's collection case: its stage on the strategy ladder, since when, and its arms.
cases = Table(
    "cases",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), primary_key=True),
    Column("borrower_id", ForeignKey("borrowers.borrower_id"), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("entered_on", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("ladder", String(64), nullable=False),  # name and version, e.g. "cn-default v1"
    Column("arm", String(32), nullable=False),
    Column("as_of", Date, nullable=False),
)

# The cases as they were before the latest run: a re-run of that day starts from them, as a
# Parquet book's re-run starts from the day before's state (a case that entered a stage that
# day enters it again, on the same day, with the day's split).
cases_prior = Table(
    "cases_prior",
    metadata,
    Column("loan_id", ForeignKey("loans.loan_id"), primary_key=True),
    Column("borrower_id", String(64), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("entered_on", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("ladder", String(64), nullable=False),
    Column("arm", String(32), nullable=False),
    Column("as_of", Date, nullable=False),
)

# Promises to pay, evaluated kept or broken by the run.
promises = Table(
    "promises",
    metadata,
    Column("promise_id", String(64), primary_key=True),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("made_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(16), nullable=False),  # open, kept, broken
    Column("settled_on", Date),
    # Paid towards the promise in its window up to the last run (the run adds what is new).
    Column("paid", BigInteger, nullable=False, server_default="0"),
)

# Today's planned actions: the outbox. The key makes a re-run plan nothing twice.
outbox = Table(
    "outbox",
    metadata,
    Column("action_key", String(200), primary_key=True),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("borrower_id", ForeignKey("borrowers.borrower_id"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("channel", String(16)),  # None for actions that contact nobody (agency placement)
    Column("template", String(64), nullable=False),
    Column("planned_for", Date, nullable=False),
    Column("window_start", DateTime(timezone=True)),
    Column("window_end", DateTime(timezone=True)),
    Column("stage", String(32), nullable=False),
    Column("arm", String(32), nullable=False),
    # planned, done, failed; sending (claimed by the sender), cancelled (refused when sent)
    Column("status", String(16), nullable=False),
    Column("outcome", String(16)),
    Index("ix_outbox_planned_for_status", "planned_for", "status"),
)

# The outbox rows that are actions taken, as the escalation guards read them: a row still
# planned, claimed by a sender (in flight or in doubt) or cancelled when sent is none.
OUTBOX_WORKED = "status NOT IN ('planned', 'sending', 'cancelled')"

# Actions the run wanted but a rule refused, with the rule and its source.
blocked_actions = Table(
    "blocked_actions",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("loan_id", ForeignKey("loans.loan_id"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    PrimaryKeyConstraint("as_of", "loan_id", "action", "rule"),
)

# The sending of an outbox row's text or e-mail (docs/CHANNELS.md): claimed by one sender
# (the key), then sent, retried, failed or cancelled by the check at the moment of sending.
deliveries = Table(
    "deliveries",
    metadata,
    Column("action_key", ForeignKey("outbox.action_key"), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("address", Text),  # the number or e-mail address it went to
    Column("state", String(16), nullable=False, index=True),  # DELIVERY_STATES
    Column("tries", Integer, nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("next_try_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("message_ids", JSON),  # what the gateway named each part it took
    Column("detail", Text),  # why it failed or was cancelled, in words
    Column("reasons", JSON),  # the rules that refused it at the moment of sending
)

# Each part of a text the SMSC took (SMPP 3.4: a message id a part), with what its delivery
# receipt said once one came (docs/CHANNELS.md, "Receipts").
delivery_parts = Table(
    "delivery_parts",
    metadata,
    Column("action_key", ForeignKey("deliveries.action_key"), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("message_id", String(65), nullable=False, index=True),  # SMPP 3.4, 5.2.23
    Column("state", String(16)),  # delivered, undelivered; NULL: no final receipt yet
    Column("said", Text),  # the receipt's words (stat:… err:…)
    Column("received_at", DateTime(timezone=True)),
)

# Final receipts that came for no part on record (yet): a text's sender may not have recorded
# its parts when the SMSC's receipt came; it takes them when it does.
unmatched_receipts = Table(
    "unmatched_receipts",
    metadata,
    Column("receipt_id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(65), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("said", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# Borrowers' replies to texts (docs/CHANNELS.md, "Replies"): an opt-out word alone records
# the opt-out with it; the rest wait for a person to read them.
sms_replies = Table(
    "sms_replies",
    metadata,
    Column("reply_id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("number", String(32), nullable=False, index=True),  # E.164 when international
    Column("body", Text, nullable=False),
    Column("borrower_ids", JSON, nullable=False),  # the borrowers on the number as it came
    Column("state", String(16), nullable=False, index=True),  # domain.replies.REPLY_STATES
    Column("rule_id", String(64)),  # the reply rule an opt-out word alone was read by
    Column("word", String(64)),  # the opt-out word it is, or mentions among others
    Column("read_by", String(64)),  # who read it (NULL: read by its words alone, or not yet)
    Column("read_at", DateTime(timezone=True)),
)

# Parts of a long reply kept aside until its last part comes (then it is read whole), or until
# a part is plainly not coming (then a person reads what came).
sms_reply_parts = Table(
    "sms_reply_parts",
    metadata,
    Column("part_id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False),
    Column("reference", Integer, nullable=False),  # GSM 03.40 9.2.3.24.1: the reply's
    Column("total", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_sms_reply_parts_key", "number", "reference", "total"),
)

# One-time links into the borrower portal (docs/PORTAL.md): the link carries a token, the
# table only its SHA-256; `used_at` set when it opened a session (it opens no other).
portal_links = Table(
    "portal_links",
    metadata,
    Column("link_hash", String(64), primary_key=True),
    Column("borrower_id", ForeignKey("borrowers.borrower_id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

# Borrowers' portal sessions; the cookie holds a token, the table only its SHA-256.
portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("borrower_id", ForeignKey("borrowers.borrower_id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("locale", String(8), nullable=False),  # zh-CN, zh-TW, en
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
