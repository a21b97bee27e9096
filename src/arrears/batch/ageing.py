"""Each loan's delinquency on `as_of` from its balances: dpd, bucket, stage, overdue parts.

The instalments of a loan are summed up once (`summarise_loans`): the oldest date owing, the
overdue parts, the next due date and the day the loan must next be worked (`wake_on`). A loan
not worked again before that day has the same summary every day until then, so its state on
any such day follows from the summary alone (`states_from_summaries`): a store may leave its
instalments unread.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from arrears.batch import ledger_kernel
from arrears.batch import summary_kernel as k
from arrears.batch.ledger_arrays import dates_of, day_number, day_numbers, loan_positions
from arrears.batch.pauses import days_stopped, paused_positions
from arrears.domain.day_range import LAST_DAY
from arrears.domain.delinquency import BUCKET_EDGES
from arrears.domain.pauses import AGEING
from arrears.domain.stages import NOT_LENT, PRE_DUE_DAYS

_NEVER = k.NEVER  # no such day
_LAST_DAY = day_number(LAST_DAY)  # the last day a run may reach
SUMMARY_SCHEMA = pl.Schema({
    "oldest": pl.Date(),  # effective due date of the oldest line owing principal or interest
    "overdue_principal": pl.Int64(), "overdue_interest": pl.Int64(),
    "overdue_penalty": pl.Int64(), "overdue_fees": pl.Int64(),
    "outstanding_principal": pl.Int64(),
    "next_due": pl.Date(),  # the first open line due on or after the summary's day
    "next_due_after": pl.Date(),  # ... due after it (what the days after the summary see)
    "open": pl.Boolean(),  # anything still owed
    "wake_on": pl.Date(),  # the first day the summary may change (null: never by itself)
    # The penalty each day adds until then (a loan resting past due: its runs of alike days).
    "daily_penalty": pl.Int64(),
})  # fmt: skip
# What a state needs of the loan besides its summary.
LOAN_COLUMNS = ("loan_id", "borrower_id", "product", "grace_days", "credit", "charged")
# Summary columns a state leaves out (they say how it moves on, not where it is).
SUMMARY_ONLY = ("summary_day", "next_due", "next_due_after", "wake_on", "daily_penalty")
# A null line column as the summary kernel takes it: no run (below), else no such day (_NEVER).
_NULL_AS = {"run_base": -1, "run_daily": -1}


@dataclass(frozen=True)
class Watch:
    """What the stage rules read that changes by itself, day by day, while a loan rests: the
    values at which some rule starts or stops holding (stages.watch)."""

    due_within: tuple[int, ...] = ()  # days to the next due date (a rule: 0 <= days <= N)
    dpd: tuple[int, ...] = ()  # days past due (a rule's dpd_min, its dpd_max + 1)
    amounts: tuple[int, ...] = ()  # overdue totals (a rule's amount_min, its amount_max + 1)
    buckets: bool = False  # some rule reads the bucket (it moves after grace and each edge)


def summarise_loans(
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    as_of: date,
    watch: Watch = Watch(),
    line_loans: np.ndarray | None = None,
    line_matrix: np.ndarray | None = None,
    pauses: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per loan of `loans` (LOAN_SCHEMA, run by the ledger to as_of): LOAN_COLUMNS and
    SUMMARY_SCHEMA on as_of (`line_matrix`: the ledger's matrix of `instalments`, when it has
    just run them: Book.line_matrix; `pauses`: Book.pauses).

    A loan with pauses never rests: it is worked again tomorrow (`wake_on`), so that a store
    works each day its clocks may stand still or run again; its dpd subtracts the days its
    ageing clock stood still (states_from_summaries).

    `wake_on` is the first later day on which anything about the loan may change unless money
    arrives: its contract date, when it is not lent yet; a line falls due or crosses into
    "past" with something owing; its next due date comes within one of the `watch` days (a
    stage rule reads whether the days to the next due date are within N: that changes on the
    day N is reached, not on the days after), or the day after a line due today still owes
    (those days jump to the next line's); or, while it is past due or a line may still accrue
    or cross grace, tomorrow. Not tomorrow for a loan past due whose every day to come only
    adds the same penalty (`daily_penalty`: each line accruing beyond grace, nothing pending,
    tonight's penalty posted whole as a day of its run, no credit) or the same pending
    penalty inside grace (summary_kernel: quiet lines waiting out grace): it rests until a
    line's grace ends, its cap would cut a day's penalty, or its days past due or its overdue
    total reach a value a stage rule reads (`watch`), and whoever reads it meanwhile brings
    its penalty forward by those days (states_from_summaries; pending penalty is owed only
    once grace ends). Lines are summed by position in one compiled pass (summary_kernel.py;
    loans sorted by loan_id; `line_loans`: each line's loan position, when known).
    """
    li = loan_positions(loans, instalments, line_loans)
    if line_matrix is None:
        lines = instalments.select(
            pl.col(name).to_physical().cast(pl.Int64).fill_null(_NULL_AS.get(name, _NEVER))
            for name in ledger_kernel.LINE_COLUMNS
        ).to_numpy(order="fortran")
    else:
        lines = line_matrix
    rates = loans.select(
        pl.col("pen_num").cast(pl.Int64),
        (pl.col("pen_den") * pl.col("day_count")).cast(pl.Int64),
        pl.col("grace_days").cast(pl.Int64),
    ).to_numpy()
    day = day_number(as_of)
    n = loans.height
    s = np.empty((n, len(k.COLUMNS)), dtype=np.int64, order="F")  # a column per result
    # Polars may lend a matrix read-only (the kernel is typed for writable ones): then copied.
    lines, rates = (np.require(m, np.int64, ["W"]) for m in (lines, rates))
    k.line_summaries(np.ascontiguousarray(li, dtype=np.int64), lines, rates, day, s)
    tail = _tail(loans)
    # The lines left out (the tail) are all due after as_of: they are neither posted nor past.
    next_open = tail["tail_next_due"]
    oldest = s[:, k.OLDEST]
    next_after = np.minimum(s[:, k.OPEN_AFTER], next_open)
    penalty = s[:, k.PENALTY] + tail["tail_penalty"]
    principal = s[:, k.PRINCIPAL] + tail["tail_principal"] + _unscheduled(loans)
    credit = loans.get_column("credit").to_numpy()
    # Changes by itself every day; so does, once, a loan holding credit (money comes to it
    # every day) with days of pending penalty to clear.
    moving = (s[:, k.LIVE] > 0) | (oldest != _NEVER) | ((credit > 0) & (s[:, k.CLEARS] > 0))
    resting = moving & (s[:, k.LOUD] == 0) & (credit == 0)
    daily = np.where(resting, s[:, k.DAILY], 0)
    overdue = s[:, k.PAST_PRINCIPAL] + s[:, k.PAST_INTEREST] + s[:, k.PAST_FEES] + penalty
    next_due = np.minimum(s[:, k.OPEN_FROM], next_open)
    rest = _rest_wakes(loans, oldest, overdue, principal, daily, watch, day)
    wake = np.minimum.reduce([
        s[:, k.DUE_AFTER],
        s[:, k.CROSSING],
        s[:, k.GRACE_END],
        tail["tail_first_due"],
        np.where(resting, rest, np.where(moving, day + 1, _NEVER)),
        _first_crossing(next_after, watch.due_within, day),
        _after_due_today(next_due, watch.due_within, day),
        _lent_on(loans, day),
    ])  # fmt: skip
    paused = paused_positions(pauses, loans.get_column("loan_id"))
    if paused.size:
        wake[paused] = day + 1
        daily[paused] = 0
    summary = pl.DataFrame({
        "oldest": _dates(oldest),
        "overdue_principal": s[:, k.PAST_PRINCIPAL],
        "overdue_interest": s[:, k.PAST_INTEREST],
        "overdue_penalty": penalty,
        "overdue_fees": s[:, k.PAST_FEES],
        "outstanding_principal": principal,
        "next_due": _dates(next_due),
        "next_due_after": _dates(next_after),
        "open": (s[:, k.OPEN] > 0) | tail["tail_open"],
        "wake_on": _dates(wake),
        "daily_penalty": daily,
    })  # fmt: skip
    return pl.concat([loans.select(LOAN_COLUMNS), summary], how="horizontal").cast(SUMMARY_SCHEMA)


def _lent_on(loans: pl.DataFrame, day: int) -> np.ndarray:
    """Per loan, its contract date when after `day` (it leaves the not-lent stage then)."""
    signed = day_numbers(loans.get_column("contract_date"), _NEVER)
    return np.where(signed > day, signed, _NEVER)


def _rest_wakes(
    loans: pl.DataFrame, oldest: np.ndarray, overdue: np.ndarray, principal: np.ndarray,
    daily: np.ndarray, watch: Watch, day: int,
) -> np.ndarray:  # fmt: skip
    """Per loan resting past due, the first day after `day` it must be worked again: its days
    past due reach a `watch.dpd` value (or, when a rule reads buckets, the day after its grace
    or a bucket's edge), its overdue total (growing by `daily` a day) reaches a
    `watch.amounts` value, or its cap would cut a day's penalty (_NEVER: none of these)."""
    past = oldest != _NEVER
    # The day its dpd (today − oldest) is `reached`, for the least `reached` above today's:
    # found among the values alike for every loan by one search, not a pass per value.
    alike = sorted({*watch.dpd, *((edge + 1 for edge in BUCKET_EDGES) if watch.buckets else ())})
    first = np.full(oldest.size, _NEVER, dtype=np.int64)
    if alike:
        values = np.array(alike, dtype=np.int64)
        above = np.searchsorted(values, day - oldest, side="right")
        reached = values[np.minimum(above, values.size - 1)]
        first = np.where(past & (above < values.size), oldest + reached, _NEVER)
    if watch.buckets:  # and the day after its grace
        on = oldest + loans.get_column("grace_days").to_numpy() + 1
        first = np.where(past & (on > day), np.minimum(first, on), first)
    for amount in watch.amounts:
        short = amount - overdue
        on = day + (short + daily - 1) // np.maximum(daily, 1)
        first = np.where((daily > 0) & (short > 0), np.minimum(first, on), first)
    wakes: np.ndarray = np.minimum(first, _cap_binds(loans, principal, daily, day))
    return wakes


def _cap_binds(
    loans: pl.DataFrame, principal: np.ndarray, daily: np.ndarray, day: int
) -> np.ndarray:
    """Per capped loan adding `daily` a day, the first day after `day` its cap would cut that
    day's penalty (_NEVER: never). On the t-th day the ledger posts it whole while
    charged + daily·t ≤ cap_allowance(principal_days + principal·(t − 1)) (its allowance on
    that day counts the days before it), and while charged + daily·t ≤ cap_total (its limit on
    total charges, if any): lines in t, solved exactly in integers."""
    num = loans.get_column("cap_num").fill_null(0).to_numpy()
    den = (
        loans.get_column("cap_den").fill_null(1).to_numpy()
        * loans.get_column("day_count").to_numpy()
    )
    charged = loans.get_column("charged").to_numpy()
    days = loans.get_column("principal_days").to_numpy()
    # c ≤ floor(x / den) ⇔ c·den ≤ x for integers: holds on day t while a + b·t ≤ 0.
    a = charged * den - (days - principal) * num
    b = daily * den - principal * num
    last = np.where(b > 0, (-a) // np.maximum(b, 1), _NEVER)  # the last day t it holds
    capped = loans.get_column("cap_num").is_not_null().to_numpy() & (daily > 0)
    on = np.where(a + b > 0, day + 1, np.where(b > 0, day + last + 1, _NEVER))
    # The limit on total charges: it holds on day t while t ≤ (cap_total − charged) // daily.
    total = loans.get_column("cap_total")
    if total.null_count() < total.len():
        within = (total.fill_null(0).to_numpy() - charged) // np.maximum(daily, 1)
        ends = np.where(within < 1, day + 1, day + within + 1)
        on = np.where(total.is_not_null().to_numpy(), np.minimum(on, ends), on)
    # A day past any a run may reach (a small penalty far below its limit) is never: as a
    # date, past year 9999, it would be none Python can read.
    return np.where(capped & (on <= _LAST_DAY), on, _NEVER)


def _first_crossing(next_due: np.ndarray, watch: tuple[int, ...], day: int) -> np.ndarray:
    """Per loan, the first day after `day` on which its next due date is `t` days away for a
    `t` of `watch` (_NEVER: none; a due date of _NEVER is none)."""
    first = np.full(next_due.size, _NEVER, dtype=np.int64)
    for days in watch:
        crossing = next_due - days
        ahead = (next_due != _NEVER) & (crossing > day)
        first = np.where(ahead, np.minimum(first, crossing), first)
    return first


def _after_due_today(next_due: np.ndarray, watch: tuple[int, ...], day: int) -> np.ndarray:
    """Per loan with a line due on `day` still open, the day after (_NEVER: none, or no rule
    reads the days to the next due date): then those days jump from 0 to the next line's (no
    date when none is left), and a `watch` rule may read that. Such a loan may rest that day,
    its effective due date moved later by a holiday."""
    if not watch:
        return np.full(next_due.size, _NEVER, dtype=np.int64)
    return np.where(next_due == day, day + 1, _NEVER)


def _tail(loans: pl.DataFrame) -> dict[str, Any]:
    """What the lines left out add up to (book.TAIL_SCHEMA), as arrays; nothing if absent."""
    n = loans.height
    if "tail_principal" not in loans.columns:
        zero = np.zeros(n, dtype=np.int64)
        never = np.full(n, _NEVER)
        return {"tail_principal": zero, "tail_penalty": zero,
                "tail_open": np.zeros(n, dtype=np.bool_),
                "tail_next_due": never, "tail_first_due": never}  # fmt: skip

    return {
        "tail_principal": loans.get_column("tail_principal").fill_null(0).to_numpy(),
        "tail_penalty": loans.get_column("tail_penalty").fill_null(0).to_numpy(),
        "tail_open": loans.get_column("tail_open").fill_null(False).to_numpy(),
        "tail_next_due": day_numbers(loans.get_column("tail_next_due"), _NEVER),
        "tail_first_due": day_numbers(loans.get_column("tail_first_due"), _NEVER),
    }


def _unscheduled(loans: pl.DataFrame) -> np.ndarray:
    """Principal lent that no instalment schedules (book.LOAN_SCHEMA; a state written
    before it was kept: none)."""
    if "unscheduled" not in loans.columns:
        return np.zeros(loans.height, dtype=np.int64)
    return loans.get_column("unscheduled").fill_null(0).to_numpy()


def _dates(values: np.ndarray) -> pl.Series:
    """Day numbers as dates (_NEVER: no date)."""
    return dates_of(values, _NEVER)


def states_from_summaries(
    summaries: pl.DataFrame, as_of: date, signed: pl.Series, pauses: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Each loan's state on as_of from its summary, taken on as_of or on an earlier day before
    its `wake_on` (`summary_day`: that day; the next due date then is `next_due_after`, and
    each day since added its `daily_penalty` to what it owes and was charged). Its days past
    due do not count the days its ageing clock stood still (`pauses`: the loans', which
    summaries of loan_id order are found in by position); `oldest` stays the effective due
    date of its oldest line owing (the limitation period runs from it). `signed`: each
    loan's contract date, in the summaries' order (one signed after as_of is not lent yet)."""
    later = pl.col("summary_day") < pl.lit(as_of)
    next_due = pl.when(later).then("next_due_after").otherwise("next_due")
    dpd = (pl.lit(as_of) - pl.col("oldest")).dt.total_days().clip(lower_bound=0).fill_null(0)
    if pauses is not None and pauses.height:
        oldest = day_numbers(summaries.get_column("oldest"), _NEVER)
        at, stopped = days_stopped(pauses, summaries.get_column("loan_id"), AGEING, oldest, as_of)
        if at.size:
            days = np.zeros(summaries.height, dtype=np.int64)
            days[at] = stopped
            dpd = (dpd - pl.Series(days)).clip(lower_bound=0)
    rested = (pl.lit(as_of) - pl.col("summary_day")).dt.total_days()
    return (
        summaries.with_columns(
            dpd.alias("dpd"),
            (next_due - pl.lit(as_of)).dt.total_days().alias("to_next_due"),
            pl.lit(as_of).alias("as_of"),
            *(
                (pl.col(name) + pl.col("daily_penalty") * rested).alias(name)
                for name in ("overdue_penalty", "charged")
            ),
        )
        .with_columns(bucket().alias("bucket"), stage(signed > as_of).alias("stage"))
        .drop("grace_days")
    )


def loan_states(
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    as_of: date,
    pauses: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per loan: the domain's LoanState numbers (tested equal to evaluate_loan)."""
    summaries = summarise_loans(loans, instalments, as_of, pauses=pauses).with_columns(
        pl.lit(as_of).alias("summary_day")
    )
    signed = loans.get_column("contract_date")
    return states_from_summaries(summaries, as_of, signed, pauses).drop(*SUMMARY_ONLY)


def bucket() -> pl.Expr:
    """M0 inside grace, M1..M6 by 30 days, M7+ beyond 180 (domain/delinquency.py)."""
    dpd = pl.col("dpd")
    expr: Any = pl.when(dpd <= pl.col("grace_days")).then(pl.lit("M0"))
    for bound, name in ((30, "M1"), (60, "M2"), (90, "M3"), (120, "M4"), (150, "M5"), (180, "M6")):
        expr = expr.when(dpd <= bound).then(pl.lit(name))
    result: pl.Expr = expr.otherwise(pl.lit("M7+"))
    return result


def stage(unlent: pl.Series) -> pl.Expr:
    """The default stage (domain/stages.py), until the strategy ladder assigns one
    (`unlent`: per loan, whether it is signed after the day)."""
    dpd = pl.col("dpd")
    pre_due = pl.col("to_next_due").is_between(0, PRE_DUE_DAYS)
    return (
        pl.when(pl.lit(unlent)).then(pl.lit(NOT_LENT))
        .when(~pl.col("open").fill_null(False)).then(pl.lit("settled"))
        .when((dpd == 0) & pre_due.fill_null(False)).then(pl.lit("pre_due"))
        .when(dpd == 0).then(pl.lit("current"))
        .when(dpd <= pl.col("grace_days")).then(pl.lit("grace"))
        .when(dpd <= 30).then(pl.lit("early"))
        .when(dpd <= 90).then(pl.lit("mid"))
        .when(dpd <= 180).then(pl.lit("late"))
        .otherwise(pl.lit("legal"))
    )  # fmt: skip
