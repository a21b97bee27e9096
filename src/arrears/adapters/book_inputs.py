"""What a Parquet book's inputs must hold before a run reads them: the feed import's rules
(CONTRACT.md, adapters/feeds) for a book that is not imported but read where it lies.

A bad row is refused with the input, what is wrong and the first keys named, never read as
something else: a second payment, a second loan, an instalment of no loan. The whole-book
checks run when a run reads the loans and instalments whole (a first run, or either input
changed), the borrowers' also on a night the borrowers input changed; every part read is
refused if a cell it must fill is empty (book_folder).
"""

from collections.abc import Iterable

import polars as pl

from arrears.adapters.book_folder import OPTIONAL_COLUMNS, BookFolderError, listed
from arrears.adapters.loan_table import positions
from arrears.adapters.phone_zones import dialled_in_e164, e164, zero_after_code
from arrears.batch.book import scheduled_principal
from arrears.domain.contact import CHANNELS, HOLD_KINDS, OUTCOMES
from arrears.domain.contact_rules import zone
from arrears.domain.currencies import CURRENCY_TEXT, currency_problem
from arrears.domain.day_range import FIRST_DAY, LAST_DAY
from arrears.domain.errors import DomainError
from arrears.domain.flags import FLAGS
from arrears.domain.money import LARGEST_AMOUNT, format_amount
from arrears.domain.revisions import EXTENSION, KINDS, MAX_MONTHS, MIN_MONTHS, PLAN, SETTLEMENT
from arrears.domain.revisions import MAX_DAYS as MAX_REVISION_DAYS

# What names a row of each input in a message.
KEYS = {
    "borrowers": ("borrower_id",), "loans": ("loan_id",), "installments": ("loan_id", "seq"),
    "payments": ("payment_id",), "flags": ("loan_id", "flag"), "promises": ("promise_id",),
    "holds": ("borrower_id", "kind", "starts_on"), "opt_outs": ("borrower_id", "channel"),
    "contact_attempts": ("borrower_id", "channel", "at", "outcome"),
    "revisions": ("loan_id", "kind", "effective_on"),
}  # fmt: skip
# What a promise fed in may say of itself (batch/promises.py judges the open ones).
PROMISE_STATUSES = ("open", "kept", "broken")
# E.164: a plus, a country code and at most 15 digits in all (ITU-T E.164 §6); docs/SPARK.md
# asks the book for numbers in this form (the feed import writes them so).
_E164 = r"^\+[1-9][0-9]{6,14}$"


def distinct_payments(payments: pl.DataFrame) -> pl.DataFrame:
    """Each payment once: a payment sent again as it was is the same payment (as the feed
    import skips it); one id with another loan, amount or day is refused, both named."""
    if payments.get_column("payment_id").n_unique() == payments.height:
        return payments  # each id once (a whole book's millions: 0.6 s, against 1 s to dedupe)
    fields = ["payment_id", "loan_id", "amount", "paid_on"]
    once = payments.unique(fields, keep="first", maintain_order=True)
    if once.height == once.get_column("payment_id").n_unique():
        return once
    clash = once.filter(pl.col("payment_id").is_duplicated()).sort("payment_id", "paid_on")
    versions = clash.select(pl.format("{} for loan {}, {} fen on {}", *fields))
    raise BookFolderError(
        f"input payments: a payment id comes with different loans, amounts or days "
        f"({clash.get_column('payment_id').n_unique()} ids): {listed(versions, '; ', 10)}"
    )


def check_book(inputs: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The whole book's rules: keys unique, every reference known, amounts and numbers in
    their range (the feed import's: adapters/feeds/specs.py, stored_checks.py). Returns each
    loan's scheduled principal (book.scheduled_principal), which the checks work out."""
    loans, schedule = inputs["loans"], inputs["installments"]
    check_borrowers(inputs["borrowers"], loans)
    _refuse("loans", loans, pl.col("loan_id").is_duplicated(), "given twice")
    if not ascending(schedule):  # else no (loan_id, seq) can come twice
        _refuse("installments", schedule, pl.struct(KEYS["installments"]).is_duplicated(),
                "given twice")  # fmt: skip
    _refuse("loans", loans, pl.col("principal") <= 0, "a principal not above zero")
    refuse_too_large("loans", loans, "principal")
    check_currencies(loans)
    for column in ("principal_due", "interest_due", "fee_due"):
        if column in schedule.columns:
            _refuse("installments", schedule, pl.col(column) < 0, f"a negative {column}")
            refuse_too_large("installments", schedule, column)
    _refuse("installments", schedule, pl.col("seq") < 1, "a seq below 1")
    dated = schedule.join(loans.select("loan_id", "contract_date"), on="loan_id", how="left")
    _refuse("installments", dated, pl.col("contract_date").is_null(), "a loan not in loans")
    _refuse("installments", dated, pl.col("due_date") <= pl.col("contract_date"),
            "a due date not after the loan's contract date")  # fmt: skip
    scheduled = scheduled_principal(schedule)
    _refuse("loans", loans, ~pl.col("loan_id").is_in(scheduled.get_column("loan_id").implode()),
            "no instalments")  # fmt: skip
    # The cost cap's allowance runs on the principal the instalments leave outstanding
    # (CONTRACT.md, cap days): scheduling more than was lent would let charges past the cap.
    lent = loans.select("loan_id", "principal")
    if lent.get_column("loan_id").equals(scheduled.get_column("loan_id")):
        lent = lent.with_columns(scheduled.get_column("due"))  # both in loan order, as written
    else:
        lent = lent.join(scheduled, on="loan_id")
    _refuse("loans", lent, pl.col("due") > pl.col("principal"),
            "instalments scheduling more principal than the loan lent")  # fmt: skip
    refuse_before_contract(
        inputs["payments"].join(loans.select("loan_id", "contract_date"), on="loan_id")
    )
    for name, column in (("loans", "contract_date"), ("installments", "due_date"),
                         ("payments", "paid_on")):  # fmt: skip
        refuse_outside_years(name, inputs[name], column)
    refuse_bad_payment_ids(inputs["payments"])
    # The domain refuses money of no amount too (evaluation.evaluate_loan): not dropped.
    _refuse("payments", inputs["payments"], pl.col("amount") <= 0,
            "payments of no amount above zero (in fen)")  # fmt: skip
    refuse_too_large("payments", inputs["payments"], "amount")
    return scheduled


def refuse_too_large(name: str, frame: pl.DataFrame, column: str) -> None:
    """Refuse amounts (fen) above the largest any feed takes (money.LARGEST_AMOUNT: a loan's
    sums of them fit the engines' Int64), naming the column and the rows' keys."""
    _refuse(name, frame, pl.col(column) > LARGEST_AMOUNT,
            f"{column} above {format_amount(LARGEST_AMOUNT)} ({LARGEST_AMOUNT} fen, the "
            f"largest amount a feed takes)")  # fmt: skip


def refuse_unfilled(name: str, frame: pl.DataFrame, columns: Iterable[str]) -> None:
    """Refuse the rows of an input with an empty cell in one of `columns` it must fill
    (book_folder.OPTIONAL_COLUMNS), named by their keys: a whole-book read's own check of
    what a part's read checks by row, for an engine that reads the parts itself (Spark took
    a payment of no amount as the lowest Int64, and dropped one of no day: helper-63)."""
    optional = OPTIONAL_COLUMNS.get(name, ())
    for column in columns:
        if column in frame.columns and column not in optional and frame[column].null_count():
            _refuse(name, frame, pl.col(column).is_null(), f"column {column!r} is empty")


def refuse_outside_years(name: str, frame: pl.DataFrame, column: str) -> None:
    """Refuse the rows of an input whose date `column` falls outside the years the feeds take
    (domain/day_range.py, as feeds/cells.py reads a date cell): a contract made in 1800 gave
    the cost cap 225 years of allowance, and the feed refused what the book took."""
    dates = frame.get_column(column)
    if dates.len() and (dates.min() < FIRST_DAY or dates.max() > LAST_DAY):  # type: ignore[operator]
        _refuse(name, frame, ~pl.col(column).is_between(FIRST_DAY, LAST_DAY),
                f"a {column} outside the years {FIRST_DAY.year}-{LAST_DAY.year}")  # fmt: skip


def refuse_bad_payment_ids(payments: pl.DataFrame) -> None:
    """Refuse payments whose id is blank (the feed reads an empty cell as none given): a
    payment is applied once by its id."""
    ids = pl.col("payment_id")
    _refuse("payments", payments, ids.is_null() | (ids.str.strip_chars() == ""), "no payment_id")


def check_currencies(loans: pl.DataFrame) -> None:
    """The loans' currencies (optional): none named, or every loan's an ISO 4217 code (a
    loan without one beside others with theirs could be added up in no currency)."""
    currency = pl.col("currency")
    if "currency" not in loans.columns or loans.get_column("currency").null_count() == loans.height:
        return
    _refuse("loans", loans, currency.is_null(),
            "no currency, where the book's other loans name theirs")  # fmt: skip
    _refuse("loans", loans, ~currency.str.contains(f"^{CURRENCY_TEXT.pattern}$"),
            "a currency not an ISO 4217 code (three capital letters, e.g. CNY)")  # fmt: skip
    # As the loans feed refuses them (domain.currencies): charged in units they do not have.
    for code in loans.get_column("currency").drop_nulls().unique().sort().to_list():
        problem = currency_problem(code)
        if problem is not None:
            _refuse("loans", loans, currency == code, f"currency {problem}")


def refuse_before_contract(paid: pl.DataFrame) -> None:
    """Refuse payments (with their loan's `contract_date`) dated before the loan was made."""
    _refuse("payments", paid, pl.col("paid_on") < pl.col("contract_date"),
            "paid before the loan's contract date")  # fmt: skip


def check_borrowers(borrowers: pl.DataFrame, loans: pl.DataFrame) -> None:
    """The borrowers' rules: each once, a phone in E.164, an IANA time zone if any, and every
    loan's borrower among them (`loans`: loan_id and borrower_id at least)."""
    _refuse("borrowers", borrowers, pl.col("borrower_id").is_duplicated(), "given twice")
    _refuse("borrowers", borrowers, ~pl.col("phone").str.contains(_E164),
            "a phone not in E.164 (+ and country code)")  # fmt: skip
    for name in borrowers.get_column("timezone").drop_nulls().unique().sort().to_list():
        try:
            zone(name)
        except DomainError as error:
            _refuse("borrowers", borrowers, pl.col("timezone") == name, str(error))
    known = borrowers.get_column("borrower_id").implode()
    owner = pl.col("borrower_id").cast(pl.String)  # a loan table's are categories
    _refuse("loans", loans, ~owner.is_in(known), "a borrower not in borrowers")


def check_flags(flags: pl.DataFrame, loan_ids: pl.Series) -> pl.DataFrame:
    """The flags input's rows, once each (a flag given twice is set once), refused if a flag
    is not one people set (domain.flags) or its loan is not among `loan_ids` (the book's)."""
    if flags.height == 0:
        return flags
    _refuse("flags", flags, ~pl.col("flag").is_in(sorted(FLAGS)),
            f"a flag not known (known: {', '.join(sorted(FLAGS))})")  # fmt: skip
    _refuse_unknown("flags", flags, "loan_id", loan_ids, "a loan not in loans")
    return flags.unique(maintain_order=True)


def check_revisions(revisions: pl.DataFrame, loan_ids: pl.Series) -> pl.DataFrame:
    """The revisions input's rows (domain/revisions.py: approved extensions, plans and
    settlements, each changing its loan's schedule from `effective_on`), once each, refused
    if of a kind the ledger does not apply, an extension without days in 1..180 or with
    another kind's terms, a plan without months in 2..36 or with another kind's terms, a
    settlement without an amount in 1 fen..LARGEST_AMOUNT or a deadline on or after its
    effective_on, or with days or months, or of a loan not among `loan_ids` (the book's)."""
    if revisions.height == 0:
        return revisions
    _refuse("revisions", revisions, ~pl.col("kind").is_in(KINDS),
            f"a kind the ledger does not apply (applied: {', '.join(KINDS)})")  # fmt: skip
    extension, settlement = pl.col("kind") == EXTENSION, pl.col("kind") == SETTLEMENT
    plan, months = pl.col("kind") == PLAN, pl.col("months")
    days, amount, deadline = pl.col("days"), pl.col("amount"), pl.col("deadline")
    for bad, what in (
        (plan & ~months.is_between(MIN_MONTHS, MAX_MONTHS).fill_null(False),
         f"a plan's months missing or outside {MIN_MONTHS}..{MAX_MONTHS}"),
        (plan & (days.is_not_null() | amount.is_not_null() | deadline.is_not_null()),
         "a plan with days, an amount or a deadline (another kind's terms)"),
        (~plan & months.is_not_null(), "an extension or settlement with months (a plan's term)"),
        (extension & ~days.is_between(1, MAX_REVISION_DAYS).fill_null(False),
         f"an extension's days missing or outside 1..{MAX_REVISION_DAYS}"),
        (extension & (amount.is_not_null() | deadline.is_not_null()),
         "an extension with an amount or deadline (a settlement's terms)"),
        (settlement & days.is_not_null(), "a settlement with days (an extension's term)"),
        (settlement & ~(amount > 0).fill_null(False),
         "a settlement's amount missing or not above zero"),
        (settlement & deadline.is_null(), "a settlement without a deadline"),
        (settlement & (deadline < pl.col("effective_on")),
         "a settlement's deadline before its effective_on"),
    ):  # fmt: skip
        _refuse("revisions", revisions, bad, what)
    refuse_too_large("revisions", revisions, "amount")
    _refuse_unknown("revisions", revisions, "loan_id", loan_ids, "a loan not in loans")
    return revisions.unique(maintain_order=True)


def check_promises(promises: pl.DataFrame, loan_ids: pl.Series) -> None:
    """Refuse a promise no desk would take: an id given twice, an amount not above zero, due
    before it was made, a status the run does not know, or a loan not among `loan_ids` (the
    book's: the run would never judge it). The desk's own horizon and ceiling
    (services/casework.promise_to_pay) are lender policy: a lender's file keeps its own."""
    if promises.height == 0:
        return
    _refuse("promises", promises, pl.col("promise_id").is_duplicated(), "given twice")
    _refuse("promises", promises, pl.col("amount") <= 0, "an amount not above zero")
    refuse_too_large("promises", promises, "amount")
    _refuse("promises", promises, pl.col("due_on") < pl.col("made_on"),
            "due before the day it was made")  # fmt: skip
    status = pl.col("status")
    _refuse("promises", promises, status.is_not_null() & ~status.is_in(PROMISE_STATUSES),
            f"a status not known (known: {', '.join(PROMISE_STATUSES)})")  # fmt: skip
    _refuse_unknown("promises", promises, "loan_id", loan_ids, "a loan not in loans")


def check_people_references(
    borrower_ids: pl.Series, holds: pl.DataFrame, opt_outs: pl.DataFrame, attempts: pl.DataFrame
) -> None:
    """Refuse holds, opt-outs and contact attempts of a borrower not among `borrower_ids`
    (as the feed import refuses them): a hold or opt-out meant for a borrower whose id is
    misspelt would stop nothing, an attempt would count on no one's caps."""
    for name, frame in (("holds", holds), ("opt_outs", opt_outs), ("contact_attempts", attempts)):
        _refuse_unknown(name, frame, "borrower_id", borrower_ids, "a borrower not in borrowers")


def _refuse_unknown(name: str, frame: pl.DataFrame, column: str, ids: pl.Series, what: str) -> None:
    """Refuse the rows of an input whose `column` is not among `ids`: its distinct values
    looked up in the ids sorted (as a loan table's are), not the ids made a list for `is_in`:
    that took 0.3 s of a bench night for a million ids."""
    if frame.height == 0:
        return
    named = frame.get_column(column).unique()
    known = ids if ids.is_sorted() else ids.sort()
    missing = named.filter(pl.Series(positions(known, named) < 0))
    if missing.len():
        _refuse(name, frame, pl.col(column).is_in(missing.implode()), what)


# Every (channel, outcome) an attempt may have (domain.contact.OUTCOMES).
_ENDINGS = pl.DataFrame(
    [(channel, outcome) for channel, known in OUTCOMES.items() for outcome in known],
    schema={"channel": pl.String, "outcome": pl.String}, orient="row",
)  # fmt: skip


def check_contact_inputs(
    holds: pl.DataFrame, opt_outs: pl.DataFrame, attempts: pl.DataFrame, borrowers: pl.DataFrame
) -> None:
    """Refuse what the rule packs would read as something else: a hold of a kind they do not
    know (it would stop nothing: a dispute written "Dispute" left the borrower called), or
    that ends before it starts (its days cover nothing), an opt-out of a channel they do not
    know, an attempt on such a channel or with an outcome its channel does not have (a guard
    would count it wrongly), or to a number that is none (the dial cap would count it against
    no number): with +country code in E.164, as borrowers' phones are, else a number the
    borrower's country dials (`borrowers`: their phones)."""
    _refuse("holds", holds, ~pl.col("kind").is_in(HOLD_KINDS),
            f"a kind not known (known: {', '.join(HOLD_KINDS)})")  # fmt: skip
    _refuse("holds", holds, pl.col("ends_on") < pl.col("starts_on"), "it ends before it starts")
    _refuse("opt_outs", opt_outs, ~pl.col("channel").is_in(CHANNELS),
            f"a channel not known (known: {', '.join(CHANNELS)})")  # fmt: skip
    # The distinct pairs first: a book's attempts repeat a handful of them.
    pairs = attempts.select("channel", "outcome").unique()
    wrong = pairs.join(_ENDINGS, on=["channel", "outcome"], how="anti")
    if wrong.height:
        bad = pl.struct("channel", "outcome").is_in(wrong.to_struct().implode())
        _refuse("contact_attempts", attempts, bad,
                "a channel not known, or an outcome its channel does not have (domain/contact.py"
                f" OUTCOMES; channels: {', '.join(CHANNELS)})")  # fmt: skip
    _refuse_numbers(attempts, borrowers)


def _refuse_numbers(attempts: pl.DataFrame, borrowers: pl.DataFrame) -> None:
    """Refuse attempts to a number that is none: one with +country code not in E.164
    (`+86 135…`), one without that the borrower's country does not dial (`n/a`)."""
    number = pl.col("to_phone")
    plus = number.str.starts_with("+")
    _refuse("contact_attempts", attempts, plus & ~number.str.contains(_E164),
            "a to_phone with + not in E.164 (write +country code and digits alone, e.g. "
            "+8613812345678)")  # fmt: skip
    # A 0 after the country code is a trunk prefix left in, unless the country keeps it: the
    # dial cap would count `+86013812345678` apart from the borrower's `+8613812345678`.
    dialled = attempts.get_column("to_phone").drop_nulls().unique()
    zeros = dialled.filter(dialled.str.starts_with("+") & zero_after_code(dialled))
    trunk = [raw for raw in zeros.to_list() if _read(raw) != raw]
    _refuse("contact_attempts", attempts, number.is_in(trunk),
            "a to_phone with + not in E.164: a 0 after the country code that the country does "
            "not dial (write +8613812345678, not +86013812345678)")  # fmt: skip
    if not attempts.select((number.is_not_null() & ~plus).any()).item():
        return
    owners = borrowers.select("borrower_id", "phone").unique("borrower_id", keep="first")
    keyed = attempts.select("borrower_id", "to_phone").join(
        owners, on="borrower_id", how="left", maintain_order="left"
    )
    pairs = keyed.filter(number.is_not_null() & ~plus).select("to_phone", "phone").unique()
    # Read in the country of the borrower's own number: unread, it stays without its +.
    read = pl.Series([dialled_in_e164(raw, like) for raw, like in pairs.iter_rows()])
    unread = pairs.filter(~read.str.starts_with("+")).with_columns(pl.lit(True).alias("_bad"))
    if unread.height:
        bad = keyed.join(unread, on=["to_phone", "phone"], how="left", nulls_equal=True,
                         maintain_order="left").get_column("_bad").fill_null(False)  # fmt: skip
        _refuse("contact_attempts", attempts, bad,
                "a to_phone that is no phone number (E.164, or as dialled in the borrower's "
                "country)")  # fmt: skip


def _read(number: str) -> str | None:
    """A number with +country code in E.164, as phonenumbers reads it (None: it reads none)."""
    try:
        return e164(number)
    except ValueError:
        return None


def ascending(schedule: pl.DataFrame) -> bool:
    """Whether the rows go up strictly by (loan_id, seq), as a schedule is usually written:
    then none comes twice, seen in one pass (hashing ten million keys takes seconds)."""
    loan, seq = pl.col("loan_id"), pl.col("seq")
    if not schedule.get_column("loan_id").is_sorted():
        return False
    up = (loan != loan.shift(1)) | (seq > seq.shift(1))
    return bool(schedule.select(up.fill_null(True).all()).item())


def _refuse(name: str, frame: pl.DataFrame, bad: pl.Expr | pl.Series, what: str) -> None:
    """Refuse the rows of an input where `bad` holds, naming the first."""
    rows = frame.filter(bad)
    if rows.height:
        keys = rows.select(pl.concat_str(KEYS[name], separator=" "))
        raise BookFolderError(f"input {name}: {what}: {listed(keys)}")
