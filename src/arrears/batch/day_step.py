"""One day of the ledger, for every loan whose state is at the day before (named steps).

The order is the domain's (domain/evaluation.py): contractual postings, grace crossings,
payments, the day's penalty, the day's closing principal into the cap allowance.
"""

from datetime import date, timedelta

import polars as pl

from arrears.batch.book import Book
from arrears.batch.capping import allowance, cut_to_fit
from arrears.batch.ledger import Postings
from arrears.batch.payments import take_payments

DUE_ORDER = ["loan_id", "due_date", "seq"]
UNPAID_PRINCIPAL = pl.col("principal_due") - pl.col("paid_principal")
PAST_DUE = UNPAID_PRINCIPAL + pl.col("interest_charged") - pl.col("paid_interest")


def step_day(book: Book, day: date, out: Postings) -> Book:
    """Advance the loans whose state is at `day − 1` by one day.

    Only the instalments that can change today are taken out, worked and put back by row
    position: those falling due, those still owing or waiting out grace, and every instalment
    of a loan that pays today (the waterfall may reach any of them). Loans carry their
    outstanding principal, so the cap allowance grows without touching the rest.
    """
    is_active = pl.col("state_date") == day - timedelta(days=1)
    loans = book.loans.filter(is_active)
    if loans.height == 0:
        return book
    out.advanced = True
    out.days += 1
    loans = loans.with_columns(allowance().alias("limit"))
    paying = _paying(loans, book.instalments, book.payments, day)
    live = (pl.col("due_date") == day) | (
        (pl.col("due_date") < day)
        & (
            (UNPAID_PRINCIPAL > 0)
            | (~pl.col("beyond_grace") & (PAST_DUE > 0))
            | (pl.col("pending") > 0)
        )
    )
    wanted = live | pl.col("loan_id").is_in(paying)
    if loans.height < book.loans.height:
        wanted = wanted & pl.col("loan_id").is_in(loans.get_column("loan_id").implode())
    mine = book.instalments.with_row_index("_row").filter(wanted)
    mine, loans = open_day(mine, loans, day, out)
    mine, loans = take_payments(mine, loans, book.payments, day, out)
    mine, loans = accrue_penalty(mine, loans, day, out)
    loans = close_day(mine, loans, paying, day)
    return book.with_frames(
        loans=_merge(book.loans, loans.drop("limit"), ["loan_id"], ["loan_id"]),
        instalments=_put_back(book.instalments, mine),
    )


def _paying(
    loans: pl.DataFrame, instalments: pl.DataFrame, payments: pl.DataFrame, day: date
) -> pl.Series:
    """Loans with money to apply today: a payment dated today, credit held, or prepaid
    interest or fees falling due today (the cap may send part of them back as credit)."""
    todays = payments.filter(pl.col("paid_on") == day).get_column("loan_id")
    held = loans.filter(pl.col("credit") > 0).get_column("loan_id")
    prepaid = instalments.filter(
        (pl.col("due_date") == day) & ((pl.col("paid_interest") + pl.col("paid_fees")) > 0)
    ).get_column("loan_id")
    return pl.concat([todays, held, prepaid]).unique().implode()


def _put_back(whole: pl.DataFrame, part: pl.DataFrame) -> pl.DataFrame:
    """Write the worked rows back into the whole frame at their row positions."""
    if part.height == 0:
        return whole
    rows = part.get_column("_row")
    changed = [c for c in whole.columns if c in part.columns and c not in ("loan_id", "seq")]
    return whole.with_columns(
        whole.get_column(c).clone().scatter(rows, part.get_column(c)) for c in changed
    )


def open_day(
    inst: pl.DataFrame, loans: pl.DataFrame, day: date, out: Postings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Contractual postings due today, then grace crossings, each cut to fit the cap."""
    terms = loans.select("loan_id", "grace_days", "late_fee")
    inst = inst.join(terms, on="loan_id", how="left", maintain_order="left").with_columns(
        (pl.col("due_date") == day).alias("due_today"),
        (
            (pl.col("due_date") < day)
            & ~pl.col("beyond_grace")
            & (PAST_DUE > 0)
            & ((pl.lit(day) - pl.col("eff_due")).dt.total_days() > pl.col("grace_days"))
        ).alias("crossing"),
    )
    requests = _opening_requests(inst)
    room = loans.select("loan_id", (pl.col("limit") - pl.col("charged")).alias("room"))
    posted = cut_to_fit(requests, room)
    _record(posted, day, out)
    for kind, total in posted.group_by("kind").agg(pl.col("posted").sum()).iter_rows():
        out.count({"interest": "interest", "retro": "penalty"}.get(kind, "fees"), total)
    got = _posted_by_line(posted)
    inst = inst.join(got, on=["loan_id", "seq"], how="left", maintain_order="left").with_columns(
        pl.col("^got_.*$").fill_null(0)
    )
    inst = inst.with_columns(
        pl.when("due_today")
        .then("got_interest")
        .otherwise("interest_charged")
        .alias("interest_charged"),
        (
            pl.when("due_today").then("got_fee").otherwise("fees_charged") + pl.col("got_late_fee")
        ).alias("fees_charged"),
        (pl.col("penalty_charged") + pl.col("got_retro")).alias("penalty_charged"),
        (pl.col("beyond_grace") | pl.col("crossing")).alias("beyond_grace"),
    )
    inst = _clear_pending(inst, day)
    inst, refunded = _refund_cut_prepayments(inst, day, out)
    loans = _add_by_loan(
        loans, posted.group_by("loan_id").agg(pl.col("posted").sum()), "charged", "posted"
    )
    loans = _add_by_loan(loans, refunded, "credit", "refund")
    return inst.drop("grace_days", "late_fee", "due_today", "crossing", "^got_.*$"), loans


def _opening_requests(inst: pl.DataFrame) -> pl.DataFrame:
    """Today's charge requests in posting order: due lines' interest and fee, then crossings."""
    keys = ["loan_id", "seq", "due_date"]
    due = inst.filter("due_today")
    crossing = inst.filter("crossing")
    parts = [
        due.select(*keys, pl.lit(0).alias("phase"), pl.lit(0).alias("sub"),
                   pl.lit("interest").alias("kind"), pl.col("interest_due").alias("amount")),
        due.select(*keys, pl.lit(0).alias("phase"), pl.lit(1).alias("sub"),
                   pl.lit("fee").alias("kind"), pl.col("fee_due").alias("amount")),
        crossing.select(*keys, pl.lit(1).alias("phase"), pl.lit(0).alias("sub"),
                        pl.lit("retro").alias("kind"), pl.col("pending").alias("amount")),
        crossing.select(*keys, pl.lit(1).alias("phase"), pl.lit(1).alias("sub"),
                        pl.lit("late_fee").alias("kind"), pl.col("late_fee").alias("amount")),
    ]  # fmt: skip
    extra = crossing.select(
        "loan_id", "seq", "pending_first", "pending_days", "pending_base", "pending_daily"
    )
    requests = pl.concat(parts).sort("loan_id", "phase", "due_date", "seq", "sub")
    return requests.join(extra, on=["loan_id", "seq"], how="left", maintain_order="left")


def _record(posted: pl.DataFrame, day: date, out: Postings) -> None:
    """Charge records and cap cuts of the opening postings."""
    kind = pl.when(pl.col("kind") == "retro").then(pl.lit("penalty")).otherwise("kind")
    cuts = posted.filter(pl.col("amount") > pl.col("posted"))
    out.add("cuts", cuts.select("loan_id", "seq", kind.alias("kind"), pl.lit(day).alias("day"),
                                (pl.col("amount") - pl.col("posted")).alias("amount")))  # fmt: skip
    plain = posted.filter((pl.col("posted") > 0) & (pl.col("kind") != "retro"))
    out.add("charges", plain.select(
        "loan_id", "seq", "kind", pl.lit(day).alias("posted_on"), pl.lit(day).alias("first_day"),
        pl.lit(day).alias("last_day"), pl.lit(0, pl.Int64).alias("base"),
        pl.col("posted").alias("daily"), pl.col("posted").alias("amount"),
    ))  # fmt: skip
    # Pending days posted at once: one record; base and daily kept when every day was alike.
    retro = posted.filter((pl.col("posted") > 0) & (pl.col("kind") == "retro"))
    uniform = (pl.col("pending_base") >= 0) & (pl.col("posted") == pl.col("amount"))
    out.add("charges", retro.select(
        "loan_id", "seq", pl.lit("penalty").alias("kind"), pl.lit(day).alias("posted_on"),
        pl.col("pending_first").alias("first_day"),
        (pl.col("pending_first") + pl.duration(days=pl.col("pending_days") - 1)).alias("last_day"),
        pl.when(uniform).then("pending_base").otherwise(0).alias("base"),
        pl.when(uniform).then("pending_daily").otherwise(0).alias("daily"),
        pl.col("posted").alias("amount"),
    ))  # fmt: skip


def _posted_by_line(posted: pl.DataFrame) -> pl.DataFrame:
    """Posted amounts per instalment, one column per kind."""
    return posted.group_by("loan_id", "seq").agg(
        *(
            pl.col("posted").filter(pl.col("kind") == kind).sum().alias(f"got_{kind}")
            for kind in ("interest", "fee", "retro", "late_fee")
        )
    )


def _clear_pending(inst: pl.DataFrame, day: date) -> pl.DataFrame:
    """Crossed lines' pending penalty is now posted; lines paid inside grace never owe it."""
    settled = (pl.col("due_date") < day) & ~pl.col("beyond_grace") & (PAST_DUE == 0)
    done = pl.col("crossing") | settled
    return inst.with_columns(
        pl.when(done).then(0).otherwise("pending").alias("pending"),
        pl.when(done).then(0).otherwise("pending_days").alias("pending_days"),
        pl.when(done).then(None).otherwise("pending_first").alias("pending_first"),
    )


def _refund_cut_prepayments(
    inst: pl.DataFrame, day: date, out: Postings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Interest or fees cut below what was prepaid go back to the borrower as credit."""
    excess_interest = (pl.col("paid_interest") - pl.col("interest_charged")).clip(lower_bound=0)
    excess_fees = (pl.col("paid_fees") - pl.col("fees_charged")).clip(lower_bound=0)
    inst = inst.with_columns(
        pl.when("due_today").then(excess_interest).otherwise(0).alias("x_interest"),
        pl.when("due_today").then(excess_fees).otherwise(0).alias("x_fees"),
    )
    refunds = inst.filter((pl.col("x_interest") > 0) | (pl.col("x_fees") > 0))
    for component in ("interest", "fees"):
        rows = refunds.filter(pl.col(f"x_{component}") > 0)
        out.add("allocations", rows.select(
            "loan_id", pl.lit("cap_refund").alias("payment_id"), "seq",
            pl.lit(component).alias("component"), (-pl.col(f"x_{component}")).alias("amount"),
            pl.lit(day).alias("paid_on"),
        ))  # fmt: skip
    by_loan = refunds.group_by("loan_id").agg(
        (pl.col("x_interest") + pl.col("x_fees")).sum().alias("refund")
    )
    inst = inst.with_columns(
        (pl.col("paid_interest") - pl.col("x_interest")).alias("paid_interest"),
        (pl.col("paid_fees") - pl.col("x_fees")).alias("paid_fees"),
    ).drop("x_interest", "x_fees")
    return inst, by_loan


def accrue_penalty(
    inst: pl.DataFrame, loans: pl.DataFrame, day: date, out: Postings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The day's penalty on principal overdue at its end: posted beyond grace, pending inside."""
    rates = loans.select("loan_id", "pen_num", "pen_den", "day_count")
    inst = inst.join(rates, on="loan_id", how="left", maintain_order="left")
    accruing = (pl.col("due_date") <= day) & (pl.col("eff_due") < day) & (UNPAID_PRINCIPAL > 0)
    # Half up to the fen, exactly: floor((2·base·num + den·dc) / (2·den·dc)).
    den = pl.col("pen_den") * pl.col("day_count")
    amount = (2 * UNPAID_PRINCIPAL * pl.col("pen_num") + den) // (2 * den)
    inst = inst.with_columns(
        pl.when(accruing).then(amount).otherwise(0).alias("accrued"),
        pl.when(accruing).then(UNPAID_PRINCIPAL).otherwise(0).alias("base"),
    ).drop("pen_num", "pen_den", "day_count")
    requests = inst.filter(accruing & pl.col("beyond_grace")).select(
        "loan_id", "seq", "base", pl.col("accrued").alias("amount")
    )
    room = loans.select("loan_id", (pl.col("limit") - pl.col("charged")).alias("room"))
    posted = cut_to_fit(requests, room)
    cuts = posted.filter(pl.col("amount") > pl.col("posted"))
    out.add("cuts", cuts.select("loan_id", "seq", pl.lit("penalty").alias("kind"),
                                pl.lit(day).alias("day"),
                                (pl.col("amount") - pl.col("posted")).alias("amount")))  # fmt: skip
    inst = inst.join(
        posted.select("loan_id", "seq", "posted"), on=["loan_id", "seq"], how="left",
        maintain_order="left",
    ).with_columns(pl.col("posted").fill_null(0))  # fmt: skip
    inst = _extend_runs(inst, day, out)
    inst = _add_pending(inst, accruing & ~pl.col("beyond_grace"), day)
    inst = inst.with_columns(
        (pl.col("penalty_charged") + pl.col("posted")).alias("penalty_charged")
    )
    out.count("penalty", int(posted.get_column("posted").sum() or 0))
    loans = _add_by_loan(
        loans, posted.group_by("loan_id").agg(pl.col("posted").sum()), "charged", "posted"
    )
    return inst.drop("accrued", "base", "posted"), loans


def _extend_runs(inst: pl.DataFrame, day: date, out: Postings) -> pl.DataFrame:
    """Join today's posted penalty to its line's open run of identical days, or start a run."""
    yesterday = day - timedelta(days=1)
    posts = pl.col("posted") > 0
    same = (
        (pl.col("run_last") == yesterday)
        & (pl.col("run_base") == pl.col("base"))
        & (pl.col("run_daily") == pl.col("posted"))
    )
    starts = posts & ~same.fill_null(False)
    closing = inst.filter(starts & pl.col("run_first").is_not_null())
    out.add("charges", run_records(closing))
    return inst.with_columns(
        pl.when(starts).then(pl.lit(day)).otherwise("run_first").alias("run_first"),
        pl.when(posts).then(pl.lit(day)).otherwise("run_last").alias("run_last"),
        pl.when(starts).then("base").otherwise("run_base").alias("run_base"),
        pl.when(starts).then("posted").otherwise("run_daily").alias("run_daily"),
    )


def run_records(inst: pl.DataFrame) -> pl.DataFrame:
    """Charge records of the lines' daily penalty runs (each day posted on itself)."""
    days = (pl.col("run_last") - pl.col("run_first")).dt.total_days() + 1
    return inst.select(
        "loan_id", "seq", pl.lit("penalty").alias("kind"), pl.col("run_first").alias("posted_on"),
        pl.col("run_first").alias("first_day"), pl.col("run_last").alias("last_day"),
        pl.col("run_base").alias("base"), pl.col("run_daily").alias("daily"),
        (pl.col("run_daily") * days).alias("amount"),
    )  # fmt: skip


def _add_pending(inst: pl.DataFrame, pending: pl.Expr, day: date) -> pl.DataFrame:
    """Inside grace the day's penalty waits; note whether the waiting days stay alike."""
    first = pending & (pl.col("pending_days") == 0)
    alike = (pl.col("pending_base") == pl.col("base")) & (
        pl.col("pending_daily") == pl.col("accrued")
    )

    def when(condition: pl.Expr, value: pl.Expr | str, column: str) -> pl.Expr:
        return pl.when(condition).then(value).otherwise(column).alias(column)

    return inst.with_columns(
        when(pending, pl.col("pending") + pl.col("accrued"), "pending"),
        when(first, pl.lit(day), "pending_first"),
        when(pending, pl.col("pending_days") + 1, "pending_days"),
        pl.when(first).then("base").when(pending & ~alike).then(-1)
        .otherwise("pending_base").alias("pending_base"),
        when(first, pl.col("accrued"), "pending_daily"),
    )  # fmt: skip


def close_day(
    inst: pl.DataFrame, loans: pl.DataFrame, paying: pl.Series, day: date
) -> pl.DataFrame:
    """The day's closing principal joins the allowance of the days after; the state moves on.

    Only a loan that paid today changes its outstanding principal; all of its instalments
    are among the rows worked today, so their sum is its new outstanding principal.
    """
    paid = (
        inst.filter(pl.col("loan_id").is_in(paying))
        .group_by("loan_id")
        .agg(UNPAID_PRINCIPAL.sum().alias("closing"))
    )
    joined = loans.join(paid, on="loan_id", how="left", maintain_order="left")
    outstanding = pl.coalesce("closing", "outstanding")
    return joined.with_columns(
        outstanding.alias("outstanding"),
        (pl.col("principal_days") + outstanding).alias("principal_days"),
        pl.lit(day).alias("state_date"),
    ).drop("closing")


def _add_by_loan(
    loans: pl.DataFrame, amounts: pl.DataFrame, column: str, value: str
) -> pl.DataFrame:
    """Add a per-loan amount (absent = 0) to a loan column."""
    joined = loans.join(amounts, on="loan_id", how="left", maintain_order="left")
    return joined.with_columns((pl.col(column) + pl.col(value).fill_null(0)).alias(column)).drop(
        value
    )


def _merge(
    whole: pl.DataFrame, part: pl.DataFrame, keys: list[str], order: list[str]
) -> pl.DataFrame:
    """Replace the rows of `part` in `whole` (same keys, same columns), sorted by `order`."""
    if part.height == whole.height:
        return part.select(whole.columns)
    rest = whole.join(part.select(keys), on=keys, how="anti", maintain_order="left")
    return pl.concat([rest, part.select(whole.columns)]).sort(order)
