"""What an incremental night of a Parquet book reads: who must be worked, and their frames.

A loan is worked tonight when its summary says it may change otherwise than by its resting
days (`wake_on` is due), when money for it arrives, or when money arrives dated on or before
the last run (then it is rebuilt from its contract date, as a whole-book run would rebuild
it). A worked loan is first brought to the day before its first event: a resting day adds its
outstanding principal to the cap allowance and, to a loan resting past due, its daily penalty
(each open run of alike penalty days goes on, and so does the penalty pending inside grace:
ageing.summarise_loans, runs_carried). Every other loan rests:
it keeps its case, and the planner still sees its stage's treatments fall due (it plans from
every loan's case).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from arrears.adapters import tail_kernel
from arrears.adapters.book_folder import BookFolder
from arrears.adapters.book_inputs import distinct_payments
from arrears.adapters.book_tables import INPUTS, typed
from arrears.adapters.line_segments import read_lines
from arrears.adapters.loan_table import STATIC, ChainTable, Positions
from arrears.batch.book import INSTALMENT_SCHEMA, LOAN_SCHEMA, TAIL_SCHEMA, Book, fresh_instalments
from arrears.batch.capping import UNLIMITED, cap_allowance
from arrears.batch.grouped import Ints, distinct
from arrears.batch.ledger_arrays import dates_of, day_number, day_numbers
from arrears.batch.pipeline import NO_BUCKET
from arrears.batch.stages import CASE_SCHEMA
from arrears.domain.delinquency import BUCKET_EDGES
from arrears.domain.stages import NOT_LENT

_NEVER = int(np.iinfo(np.int32).max)
# What a worked loan's night reads of its loan-table row (its last summary is worked out again).
WORKED = (*LOAN_SCHEMA, "wake_on", "outstanding_principal", "daily_penalty", "segment", "seg_row",
          "seg_rows", "tail_segment", "tail_row", "tail_rows", *TAIL_SCHEMA)  # fmt: skip
_TEXTS = ("product", "cap_rule", "cap_source", "loan_segment", "currency")


@dataclass(frozen=True)
class Tonight:
    """Tonight's split of the loan table: the positions worked and rebuilt (the others rest)."""

    worked: Positions  # brought forward from their stored state and lines
    rebuilt: Positions  # rebuilt from their contract date
    first_paid: np.ndarray  # per worked loan: the first day money arrives for it (_NEVER: none)
    last: date  # the day of the last run
    paid_worked: Positions  # each payment's loan among `worked` (-1: not worked tonight)


def split(
    table: pl.DataFrame, payments: pl.DataFrame, paid_at: Positions, last: date, as_of: date,
    flagged: Positions, replayed: Positions | None = None,
) -> Tonight:  # fmt: skip
    """Which loans tonight works; `payments` are those not yet applied (dated after `last`,
    the last run, or arrived since it dated before), `paid_at` their loans' positions,
    `flagged` the positions of loans whose flags changed since (their stage may),
    `replayed` those to rebuild from their contract date besides (their pauses changed).
    Only a flag is made for each of the million loans; days and positions for the few
    worked (each array of a million numbers is memory a fresh process faults in)."""
    day = payments.get_column("paid_on").to_physical().cast(pl.Int64).to_numpy()
    late = day <= day_number(last)
    rebuilt = distinct(paid_at[late])
    if replayed is not None and replayed.size:
        rebuilt = np.union1d(rebuilt, replayed).astype(np.int64)
    paid = ~late & (day <= day_number(as_of))
    woken = (table.get_column("wake_on") <= as_of).fill_null(False).to_numpy()
    woken[paid_at[paid]] = True
    woken[flagged] = True
    woken[rebuilt] = False
    worked = np.flatnonzero(woken)
    first_paid = np.full(worked.size, _NEVER, dtype=np.int64)
    mine = _worked_at(worked, paid_at)
    held = ~late & (mine >= 0)  # (a rebuilt loan is given every payment it has)
    np.minimum.at(first_paid, mine[held], day[held])
    return Tonight(worked, rebuilt, first_paid, last, mine)


@dataclass(frozen=True)
class Worked:
    """The loans worked tonight and whether each came with all its lines (else its tail of
    lines not yet due stays where it is, and its loan row says what the tail adds up to)."""

    book: Book
    carried: np.ndarray  # per loan of tonight.worked: the penalty its days brought over
    # since the last run added (the ledger does not post it again)
    whole: np.ndarray  # per loan of book.loans: all its lines are in book.instalments
    tail_row: np.ndarray  # per loan: where its tail left in place now starts (whole: unused)
    tail_rows: np.ndarray  # per loan: how many lines that tail still has


def worked_book(
    folder: BookFolder, table: ChainTable, tonight: Tonight, payments: pl.DataFrame,
    as_of: date,
) -> Worked:  # fmt: skip
    """The loans to work: each resting one brought to the day before its first event, with
    its stored lines fallen due (and its tail too when money may reach it or one of its lines
    falls due: of those, only the lines tonight can change are worked, _trim_tails); each
    rebuilt one from its contract date, with its lines from the input."""
    rows = table.rows(tonight.worked, WORKED)
    state = _days(rows.get_column("state_date"))
    today = day_number(as_of)
    first_paid = tonight.first_paid
    event = np.minimum.reduce([_days(rows.get_column("wake_on")), first_paid,
                               np.full(rows.height, today)])  # fmt: skip
    day = np.maximum(state, event - 1)
    rested = day - state
    extra = rows.get_column("outstanding_principal").to_numpy() * rested
    daily = rows.get_column("daily_penalty").to_numpy()
    rows = rows.with_columns(pl.col("charged") + pl.Series(daily * rested))
    carried = daily * (day - np.maximum(state, day_number(tonight.last))).clip(min=0)
    # The tail is read when one of its lines falls due or money may reach it.
    money = (first_paid <= today) | (rows.get_column("credit").to_numpy() > 0)
    needs_tail = (_days(rows.get_column("tail_first_due")) <= today) | money
    principal_days = rows.get_column("principal_days").to_numpy() + extra
    lines, owner = _lines(folder, rows, needs_tail)
    lines = runs_carried(lines, state[owner], rested[owner])
    # Each payment's worked loan (-1: another's), and those applied tonight.
    paid = tonight.paid_worked
    kept = (paid >= 0) & (payments.get_column("paid_on") <= as_of).to_numpy()
    money_in = rows.get_column("credit").to_numpy().copy()  # what the ledger may apply
    np.add.at(money_in, paid[kept], payments.get_column("amount").to_numpy()[kept])
    cut = _trim_tails(rows, lines, owner, needs_tail, money_in, principal_days, day, as_of)
    partial, rest, owner = cut.partial, cut.rest, cut.owner
    # Each line's loan id, from its loan's row: the segments' copy is not read (a string for
    # each of the lines read, most of which the trim leaves where they are).
    ids = rows.get_column("loan_id").gather(owner)
    lines = cut.lines.with_columns(ids).select(list(INSTALMENT_SCHEMA))
    whole = (needs_tail & ~partial) | (rows.get_column("tail_rows").to_numpy() == 0)
    tail_row, tail_rows = cut.tail_row, cut.tail_rows
    loans = rows.select(*LOAN_SCHEMA, *TAIL_SCHEMA).with_columns(
        pl.Series("state_date", day, pl.Int64).cast(pl.Int32).cast(pl.Date),
        pl.Series("principal_days", principal_days, pl.Int64),
        *(pl.col(name).cast(pl.String) for name in _TEXTS),
        *(pl.when(pl.Series(whole)).then(_NONE[name])
          .when(pl.Series(partial)).then(rest[name]).otherwise(pl.col(name)).alias(name)
          for name in TAIL_SCHEMA),
    )  # fmt: skip
    if tonight.rebuilt.size:
        fresh, fresh_lines = _rebuild(folder, table.rows(tonight.rebuilt, list(STATIC)))
        fresh = fresh.with_columns(value.alias(name) for name, value in _NONE.items())
        loans = pl.concat([loans, fresh.select(loans.columns)])
        order = loans.get_column("loan_id").arg_sort().to_numpy()
        none = np.zeros(fresh.height, dtype=np.int64)
        whole = np.concatenate([whole, np.ones(fresh.height, dtype=np.bool_)])[order]
        tail_row = np.concatenate([tail_row, none])[order]
        tail_rows = np.concatenate([tail_rows, none])[order]
        loans = loans[order]
        lines = pl.concat([lines, fresh_lines])
        ids = table.frame.get_column("loan_id").gather(tonight.rebuilt).implode()
        every = typed(folder.read_input("payments", INPUTS["payments"]), INPUTS["payments"])
        payments = distinct_payments(
            pl.concat([payments, every.filter(pl.col("loan_id").is_in(ids))])
        )
        kept = payments.join(loans.select("loan_id"), on="loan_id", how="semi")
        book = Book(loans, lines, kept.filter(pl.col("paid_on") <= as_of), since=tonight.last)
        return Worked(book, carried, whole, tail_row, tail_rows)
    # No loan rebuilt: the rows are in the book's order, so each line's loan is its row, and
    # each payment's the worked loan at its position in the table.
    book = Book(loans, lines, payments.filter(pl.Series(kept)), owner, tonight.last,
                payment_loans=paid[kept])  # fmt: skip
    return Worked(book, carried, whole, tail_row, tail_rows)


def _worked_at(worked: Positions, at: Positions) -> Positions:
    """Where each table position of `at` is among the sorted `worked` (-1: not worked)."""
    if worked.size == 0:
        return np.full(at.size, -1, dtype=np.int64)
    slot = np.minimum(np.searchsorted(worked, at), worked.size - 1)
    found: Positions = np.where(worked[slot] == at, slot, -1)
    return found


def runs_carried(lines: pl.DataFrame, state: np.ndarray, rested: np.ndarray) -> pl.DataFrame:
    """The lines of loans resting since `state` (per line, its loan's state date as a day
    number) brought `rested` days on: a run of alike penalty days still open on the state date
    goes on each of them, as the ledger would have posted it; so does a line's pending penalty
    inside grace, its days alike and counted up to the state date (ledger_kernel._accrue
    adds each day's to it; summary_kernel lets such a loan rest)."""
    last = _days(lines.get_column("run_last"))
    days = np.where(last == state, rested, 0)
    pending = _pending_days(lines, state, rested)
    if not days.any() and not pending.any():
        return lines
    on, waiting = pl.Series(days > 0), pl.Series(pending > 0)
    by, waited = pl.Series(days, dtype=pl.Int64), pl.Series(pending, dtype=pl.Int64)
    return lines.with_columns(
        pl.when(on).then(pl.col("penalty_charged") + pl.col("run_daily") * by)
        .otherwise(pl.col("penalty_charged")).alias("penalty_charged"),
        pl.when(on).then((pl.col("run_last").cast(pl.Int64) + by).cast(pl.Int32).cast(pl.Date))
        .otherwise(pl.col("run_last")).alias("run_last"),
        pl.when(waiting).then(pl.col("pending") + pl.col("pending_daily") * waited)
        .otherwise(pl.col("pending")).alias("pending"),
        pl.when(waiting).then(pl.col("pending_days") + waited)
        .otherwise(pl.col("pending_days")).alias("pending_days"),
    )  # fmt: skip


def _pending_days(lines: pl.DataFrame, state: np.ndarray, rested: np.ndarray) -> np.ndarray:
    """Per line: the days its pending penalty goes on by (`rested` where its alike pending days
    run up to the state date inside grace, else 0)."""
    counted = lines.select(
        pl.col("pending_first").to_physical().cast(pl.Int64).fill_null(_NEVER)
        + pl.col("pending_days") - 1,
        (~pl.col("beyond_grace") & (pl.col("pending_days") > 0) & (pl.col("pending_base") >= 0)),
    )  # fmt: skip
    last, alike = (counted.to_series(i).to_numpy() for i in range(2))
    days: np.ndarray = np.where(alike & (last == state), rested, 0)
    return days


@dataclass(frozen=True)
class _Trimmed:
    """The worked loans' lines without the tail lines left in place, and per loan: whether
    it left some (`partial`), what they add up to (`rest`, book.TAIL_SCHEMA) and where they
    now are in their segment."""

    lines: pl.DataFrame
    owner: np.ndarray  # each line's loan (its row in `rows`)
    partial: np.ndarray
    rest: dict[str, pl.Series]
    tail_row: np.ndarray
    tail_rows: np.ndarray


def _trim_tails(
    rows: pl.DataFrame, lines: pl.DataFrame, owner: np.ndarray, trimmable: np.ndarray,
    money: Ints, principal_days: np.ndarray, day: np.ndarray, as_of: date,
) -> _Trimmed:  # fmt: skip
    """Of a loan whose tail was read (`trimmable`), the tail's lines that nothing tonight can
    change stay where they are, as the loan's shorter tail (what they add up to is taken from
    them now): those due after `as_of` that its `money` (credit and payments) cannot reach.
    Money pays down the lines oldest due first (ledger_kernel._pay), so it stops within the
    lines whose sum owed covers it: counted as low as it can come (a line fallen due by then
    at its principal alone, which no cap cuts; one due later at all it owes, which nothing
    changes before it falls due), the lines after those cannot be reached. Not so when the
    cap may hand back interest or fees paid ahead: that credit is applied the same day, down
    to the lines after (tail_kernel._no_refund).

    A line not yet due that stays with those fallen due (money reached it) and was paid
    ahead: when it falls due, the cap may hand part of that back as credit, which pays down
    into the tail. The tail is read again that day (its `tail_first_due`), as it would be
    were the line in it (worked_book reads a tail on its first due date)."""
    # fee_due may be null in lines stored before fresh_instalments filled it: none owed.
    matrix = (
        lines.with_columns(pl.col("fee_due").fill_null(0))
        .select(pl.col(name).to_physical().cast(pl.Int64) for name in tail_kernel.LINE_COLUMNS)
        .to_numpy()
    )
    # An uncapped loan fits whatever its allowance: its fills only keep the division defined.
    cap = [rows.get_column(name).fill_null(fill).to_numpy()
           for name, fill in (("cap_num", 0), ("cap_den", 1), ("day_count", 365))]  # fmt: skip
    total = rows.get_column("cap_total").fill_null(UNLIMITED).to_numpy()
    room = (
        np.minimum(cap_allowance(principal_days, *cap), total)
        - rows.get_column("charged").to_numpy()
    )
    loans = np.column_stack([
        trimmable, day, money, rows.get_column("seg_rows").to_numpy(),
        rows.get_column("late_fee").fill_null(0).to_numpy(), room,
        rows.get_column("cap_num").is_not_null().to_numpy(),
    ]).astype(np.int64)  # fmt: skip
    later = np.empty(owner.size, dtype=np.bool_)
    out = np.empty((rows.height, len(tail_kernel.RESULT)), dtype=np.int64)
    tail_kernel.trim_tails(owner, matrix, loans, day_number(as_of), later, out)
    rest = {
        "tail_principal": pl.Series(out[:, tail_kernel.PRINCIPAL]),
        "tail_penalty": pl.Series(out[:, tail_kernel.PENALTY]),
        "tail_open": pl.Series(out[:, tail_kernel.OPEN] > 0),
        "tail_next_due": dates_of(out[:, tail_kernel.NEXT_DUE], _NEVER),
        "tail_first_due": dates_of(out[:, tail_kernel.FIRST_DUE], _NEVER),
    }
    left = out[:, tail_kernel.LEFT]
    tail_row = rows.get_column("tail_row").to_numpy()
    tail_rows = rows.get_column("tail_rows").to_numpy()
    partial = left > 0
    kept = ~later
    return _Trimmed(
        lines.filter(pl.Series(kept)), owner[kept], partial, rest,
        np.where(partial, tail_row + tail_rows - left, tail_row),
        np.where(partial, left, tail_rows),
    )  # fmt: skip


# What a loan's tail columns say when no lines are left out.
_NONE = {
    "tail_principal": pl.lit(0, pl.Int64), "tail_penalty": pl.lit(0, pl.Int64),
    "tail_open": pl.lit(False), "tail_next_due": pl.lit(None, pl.Date),
    "tail_first_due": pl.lit(None, pl.Date),
}  # fmt: skip


# What a night reads of its worked loans' lines: all but their loan ids (worked_book).
_READ = tuple(name for name in INSTALMENT_SCHEMA if name != "loan_id")


def _lines(
    folder: BookFolder, rows: pl.DataFrame, needs_tail: np.ndarray
) -> tuple[pl.DataFrame, np.ndarray]:
    """The worked loans' lines fallen due, and their tails where needed (every column but the
    loan id), each loan's lines together and in due order, with each line's loan (its row in
    `rows`). A tail written right after its loan's other lines is read in the same stretch;
    the few loans whose two parts lie apart are put together by a sort."""
    heads = rows.select("segment", pl.col("seg_row").alias("first"),
                        pl.col("seg_rows").alias("count")).with_row_index("key")  # fmt: skip
    tails = rows.select(pl.col("tail_segment").alias("segment"), pl.col("tail_row").alias("first"),
                        pl.col("tail_rows").alias("count")).with_row_index("key")  # fmt: skip
    # Side by side, or one of the two empty (a loan whose tail has no lines left, whose
    # tail segment is none: taken apart, its lines were put together again for nothing).
    along = (
        (
            (tails.get_column("segment") == heads.get_column("segment")).fill_null(False)
            & (tails.get_column("first") == heads.get_column("first") + heads.get_column("count"))
        ).to_numpy()
        | (heads.get_column("count").to_numpy() == 0)
        | (tails.get_column("count").to_numpy() == 0)
    )
    joined = needs_tail & along  # one stretch: head and tail side by side (or no head)
    apart = needs_tail & ~along
    first = np.where(
        joined & (heads.get_column("count").to_numpy() == 0),
        tails.get_column("first").to_numpy(),
        heads.get_column("first").to_numpy(),
    )
    segment = heads.get_column("segment").zip_with(
        pl.Series(~(joined & (heads.get_column("count").to_numpy() == 0))),
        tails.get_column("segment"),
    )  # fmt: skip
    count = heads.get_column("count").to_numpy() + np.where(
        joined, tails.get_column("count").to_numpy(), 0
    )
    ranges = pl.concat([
        heads.select("key").with_columns(segment.alias("segment"), pl.Series("first", first),
                                         pl.Series("count", count)),
        tails.filter(pl.Series(apart)).with_columns(pl.col("key") + rows.height),
    ], how="vertical_relaxed").filter(pl.col("segment").is_not_null())  # fmt: skip
    lines, found = read_lines(folder.state, ranges, _READ)
    keys = found.astype(np.int64)
    owner = np.where(keys >= rows.height, keys - rows.height, keys)
    if not apart.any():
        return lines, owner
    # A loan whose head and tail lie apart: its head's rows then its tail's, together.
    split = apart[owner]
    order = np.flatnonzero(split)[np.lexsort((keys[split], owner[split]))]
    together = pl.concat([lines.filter(pl.Series(~split)), lines[order]])
    return together, np.concatenate([owner[~split], owner[order]])


def _rebuild(folder: BookFolder, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Loans rebuilt from their contract date: fresh state and fresh lines from the input."""
    wanted = rows.get_column("loan_id").implode()
    given = typed(folder.read_input("installments", INPUTS["installments"]), INPUTS["installments"])
    schedule = given.filter(pl.col("loan_id").is_in(wanted))
    lines = fresh_instalments(schedule.with_columns(pl.lit(None, pl.Date).alias("eff_due")))
    loans = rows.select(list(STATIC)).with_columns(
        (pl.col("contract_date") - pl.duration(days=1)).alias("state_date"),
        pl.lit(0, pl.Int64).alias("charged"), pl.lit(0, pl.Int64).alias("principal_days"),
        pl.lit(0, pl.Int64).alias("credit"), pl.lit(0, pl.Int64).alias("late_fees_charged"),
        *(pl.col(name).cast(pl.String) for name in _TEXTS),
    ).select(list(LOAN_SCHEMA))  # fmt: skip
    return loans, lines


def stored(chained: ChainTable, tonight: Tonight, carried: np.ndarray, as_of: date) -> pl.DataFrame:
    """Every loan, the ones worked tonight marked; the bucket on as_of of those resting past
    due (its index among delinquency.BUCKETS), none of those not lent yet; the penalty each
    loan's resting days since the last run added (`carried`: the worked loans', from
    worked_book); each loan's product and oldest line's due date as last summarised
    (pipeline.RunFrames.stored). In numpy: as expressions, the buckets of a million loans
    took 0.06–0.11 s."""
    table = chained.frame
    today = day_number(as_of)
    worked = np.zeros(table.height, dtype=np.bool_)
    worked[tonight.worked] = True
    worked[tonight.rebuilt] = True
    rested = table.get_column("daily_penalty").fill_null(0).to_numpy() * (
        today - day_number(tonight.last)
    )
    rested[tonight.rebuilt] = 0
    rested[tonight.worked] = carried
    oldest = _days(table.get_column("oldest"))
    past = np.flatnonzero(~worked & (oldest != _NEVER))
    dpd = np.maximum(today - oldest[past], 0)
    grace = table.get_column("grace_days").to_numpy()[past]
    # bucket_for: M0 inside grace, else the first bucket whose last dpd it has not passed
    # (as its index among BUCKETS: a million texts cost more to lay out than to count).
    code = np.zeros(table.height, dtype=np.int8)
    code[past] = np.where(dpd <= grace, 0, np.searchsorted(BUCKET_EDGES, dpd, side="left") + 1)
    unknown = np.ones(table.height, dtype=np.bool_)
    unknown[past] = False
    unlent = _unlent(chained, ~worked, today)
    code[unlent] = NO_BUCKET
    unknown[unlent] = False
    return pl.DataFrame([
        table.get_column("loan_id"), pl.Series("worked", worked),
        pl.Series("bucket", code).set(pl.Series(unknown), None),
        pl.Series("rested_penalty", rested), table.get_column("product"),
        table.get_column("oldest"),
    ])  # fmt: skip


def _unlent(chained: ChainTable, resting: np.ndarray, today: int) -> np.ndarray:
    """Which of the loans `resting` tonight are not lent yet: those the last run left in the
    not-lent stage (each wakes on its contract date), and those of a product without a ladder
    (no stage) signed after `today`, looked up (the loan table is not read for every loan)."""
    stage = chained.frame.get_column("stage")
    named = (stage == NOT_LENT).fill_null(False)
    # Most nights have none: asked first (0.1 ms), a million flags laid out cost 4-13 ms.
    unlent = named.to_numpy() & resting if named.any() else np.zeros_like(resting)
    if stage.null_count():
        unstaged = np.flatnonzero(stage.is_null().to_numpy() & resting)
        signed = chained.rows(unstaged, ["contract_date"]).get_column("contract_date")
        unlent[unstaged[day_numbers(signed, _NEVER) > today]] = True
    return unlent


def stored_cases(table: pl.DataFrame, last: date) -> pl.DataFrame:
    """The cases as the last run left them (loans of a product with a ladder)."""
    cases = table.select("loan_id", "borrower_id", "stage", "entered_on", "reason", "ladder",
                         "arm", pl.lit(last).alias("as_of"))  # fmt: skip
    return cases.filter(pl.col("stage").is_not_null()).cast(CASE_SCHEMA)


def contact_attempts(folder: BookFolder) -> pl.DataFrame:
    """Every contact attempt of the book (in no particular order: every rule that reads them
    counts them, and the domain orders them itself)."""
    return typed(folder.read_input("contact_attempts", INPUTS["contact_attempts"]),
                 INPUTS["contact_attempts"])  # fmt: skip


def since(attempts: pl.DataFrame, as_of: date, days: int) -> pl.DataFrame:
    """The attempts of the last `days` days."""
    start = pl.lit(as_of - timedelta(days=days)).cast(pl.Datetime("us", "UTC"))
    return attempts.filter(pl.col("at") >= start)


def _days(series: pl.Series) -> np.ndarray:
    """Dates as day numbers (no date: _NEVER)."""
    return day_numbers(series, _NEVER)
