"""A run's tables: input and stored-state frames → RunFrames, and RunFrames → the tables it writes.

One function each way, used by the Parquet store on the whole book and by the Spark engine on
each bucket of borrowers, so both engines load and write exactly alike.
"""

from collections.abc import Mapping
from datetime import date, timedelta

import polars as pl

from arrears.adapters.book_inputs import (
    ascending,
    check_book,
    check_contact_inputs,
    check_flags,
    check_promises,
    check_revisions,
    distinct_payments,
    refuse_unfilled,
)
from arrears.adapters.paid_ids import payment_prints
from arrears.adapters.people_index import FALLBACK_ZONE, LoanHistory, people_from_frames
from arrears.batch.book import (
    INSTALMENT_SCHEMA,
    PAYMENT_SCHEMA,
    Book,
    fresh_instalments,
    fresh_loans,
    overlay_state,
)
from arrears.batch.contact_plan import BLOCKED_SCHEMA, PLAN_SCHEMA
from arrears.batch.ledger import ALLOCATION_SCHEMA, CHARGE_SCHEMA, POSITION
from arrears.batch.pauses import PAUSE_SCHEMA, changed_pauses, loan_pauses
from arrears.batch.pipeline import RunFrames, named_currencies
from arrears.batch.promises import PROMISE_SCHEMA
from arrears.batch.revisions import REVISION_SCHEMA, revised_ids
from arrears.batch.stages import CASE_SCHEMA, FLAG_SCHEMA
from arrears.batch.terms_frame import PRICED, loan_terms, moved_due
from arrears.domain.terms import Terms

# Contact history the planner and guards look back on (as the SQL store: the widest window a
# rule counts is 7 days; the guards look back 60).
HISTORY_DAYS = 90
UTC = pl.Datetime("us", "UTC")
_SCHEDULE_COLUMNS = ("due_date", "principal_due", "interest_due", "fee_due")
INPUTS: dict[str, pl.Schema] = {
    "borrowers": pl.Schema({"borrower_id": pl.String, "phone": pl.String, "timezone": pl.String}),
    "loans": pl.Schema({
        "loan_id": pl.String, "borrower_id": pl.String, "product": pl.String,
        "contract_date": pl.Date, "principal": pl.Int64, "annual_rate": pl.String,
        "penalty_rate": pl.String, "segment": pl.String, "score": pl.Int64,
        "currency": pl.String,
    }),
    "installments": pl.Schema({
        "loan_id": pl.String, "seq": pl.Int64, "due_date": pl.Date, "principal_due": pl.Int64,
        "interest_due": pl.Int64, "fee_due": pl.Int64,
    }),
    "payments": PAYMENT_SCHEMA,
    "contact_attempts": pl.Schema({
        "borrower_id": pl.String(), "contact_id": pl.String(), "channel": pl.String(),
        "to_phone": pl.String(), "at": UTC, "outcome": pl.String(),
    }),
    "promises": PROMISE_SCHEMA,  # status and settled_on optional: open when never judged
    "holds": pl.Schema({
        "borrower_id": pl.String, "kind": pl.String, "starts_on": pl.Date, "ends_on": pl.Date,
    }),
    "opt_outs": pl.Schema({"borrower_id": pl.String(), "channel": pl.String(), "since": UTC}),
    "flags": FLAG_SCHEMA,  # set by people (domain.flags), read by ladders' `flags` rules
    # Approved schedule revisions (extensions, plans, settlements: domain/revisions.py), each
    # from its day.
    "revisions": REVISION_SCHEMA,
}  # fmt: skip
REQUIRED_INPUTS = ("borrowers", "loans", "installments", "payments")
LOAN_STATE_SCHEMA = pl.Schema({
    "loan_id": pl.String, "as_of": pl.Date, "dpd": pl.Int64, "bucket": pl.String,
    "stage": pl.String, "overdue_principal": pl.Int64, "overdue_interest": pl.Int64,
    "overdue_penalty": pl.Int64, "overdue_fees": pl.Int64, "outstanding_principal": pl.Int64,
    "credit": pl.Int64, "charged": pl.Int64,
})  # fmt: skip
# What a run writes; the next run reads the first four (and the plans' outcomes) back as state.
OUTPUTS: dict[str, pl.Schema] = {
    "loan_balances": pl.Schema({
        "loan_id": pl.String, "state_date": pl.Date, "charged": pl.Int64,
        "principal_days": pl.Int64, "credit": pl.Int64, "late_fees_charged": pl.Int64,
        # Payments dated up to state_date when it was stored: a change means back-dating (or
        # a payment given another day or amount: their prints, paid_ids.payment_prints).
        "payments_seen": pl.Int64, "payments_sum": pl.Int64, "payments_print": pl.Int64,
    }),
    "instalment_states": pl.Schema(
        {k: v for k, v in INSTALMENT_SCHEMA.items() if k not in _SCHEDULE_COLUMNS}
    ),
    "cases": pl.Schema(  # as written: texts (the run keeps them as categories)
        {n: pl.String() if t == pl.Categorical() else t for n, t in CASE_SCHEMA.items()}
    ),
    "promises": PROMISE_SCHEMA,
    "loan_states": LOAN_STATE_SCHEMA,
    "plan": PLAN_SCHEMA,
    "blocked": BLOCKED_SCHEMA,
    "charges": CHARGE_SCHEMA,
    "cuts": pl.Schema({
        "loan_id": pl.String, "seq": pl.Int64, "kind": pl.String, "day": pl.Date,
        "amount": pl.Int64, "rule_id": pl.String, "source": pl.String,
    }),
    "allocations": ALLOCATION_SCHEMA,
    "replayed": pl.Schema({"loan_id": pl.String}),
    # The flags the run read: a night works the loans whose flags changed since.
    "flags": FLAG_SCHEMA,
    # The spans of days the loans' clocks stood still (batch.pauses): a loan whose pauses
    # differ the next night is worked again from its contract date.
    "pauses": PAUSE_SCHEMA,
    # The revisions the run applied (batch.revisions): a loan with one then, or with one
    # now, is worked from its contract date (one withdrawn since leaves a state it moved).
    "revisions": REVISION_SCHEMA,
}  # fmt: skip
DONE_SCHEMA = pl.Schema({
    "loan_id": pl.String, "action": pl.String, "planned_for": pl.Date, "status": pl.String,
    "outcome": pl.String,
})  # fmt: skip
STATE = ("loan_balances", "instalment_states", "cases", "promises")
# What the last run was given of each loan, which its state keeps (an incremental run's in
# its loan table and lines, a full run's as tables: book_views.full_state): its terms from the
# loans input, the terms it was priced with (terms_frame.PRICED: the product's in the
# settings too), and its schedule. A loan given or priced otherwise since (a corrected rate,
# due date or amount; a product's penalty multiplier changed) is run again from its contract
# date, as a run of the book as it now is would run it (MONEY_RULES.md).
GIVEN = {
    "given_terms": pl.Schema({
        "loan_id": pl.String, "product": pl.String, "contract_date": pl.Date,
        "principal": pl.Int64, "unscheduled": pl.Int64, "loan_segment": pl.String,
        "loan_score": pl.Int64, **dict.fromkeys(PRICED, pl.Int64), "cap_total": pl.Int64,
        "late_fee_total": pl.Int64,
    }),
    "given_schedule": pl.Schema({
        "loan_id": pl.String, "seq": pl.Int64, "due_date": pl.Date, "principal_due": pl.Int64,
        "interest_due": pl.Int64, "fee_due": pl.Int64,
    }),
}  # fmt: skip
ORDER: dict[str, list[str]] = {
    "loan_balances": ["loan_id"], "instalment_states": ["loan_id", "seq"], "cases": ["loan_id"],
    "promises": ["promise_id"], "loan_states": ["loan_id"], "plan": ["action_key"],
    "blocked": ["loan_id", "action", "rule"], "replayed": ["loan_id"],
    "charges": ["loan_id", "seq", "kind", "first_day", "posted_on"],
    "cuts": ["loan_id", "seq", "kind", "day"],
    "allocations": ["loan_id", "payment_id", "seq", "component", "paid_on"],
    "flags": ["loan_id", "flag"], "pauses": ["loan_id", "clock", "starts_on"],
    "revisions": ["loan_id", "effective_on", "kind", "days"],
}  # fmt: skip


def typed(frame: pl.DataFrame | None, schema: pl.Schema) -> pl.DataFrame:
    """The frame's columns of `schema`, cast (absent optional columns as nulls; None = empty)."""
    if frame is None:
        return pl.DataFrame(schema=schema)
    return frame.select(
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
    )


def assemble(
    inputs: Mapping[str, pl.DataFrame],
    state: Mapping[str, pl.DataFrame],
    as_of: date,
    terms: Terms,
    default_zones: Mapping[str, str],
    known_zones: pl.DataFrame | None = None,
    rules_changed: bool = True,
) -> RunFrames:
    """The run's frames: the book with its stored state (back-dated loans start afresh, and
    loans given or priced otherwise); `known_zones`: phone zones worked out before
    (people_index.ZONES_SCHEMA); `rules_changed`: whether the rules may have changed since
    the state was written (only then can a line's effective due date have moved: comparing
    every line fallen due costs a book of a million loans about two seconds)."""
    for name, given in inputs.items():
        refuse_unfilled(name, given, INPUTS.get(name, ()))
    got = {name: typed(inputs.get(name), schema) for name, schema in INPUTS.items()}
    # A line given without fees owes none (fee_due is optional, as in the feeds).
    got["installments"] = got["installments"].with_columns(pl.col("fee_due").fill_null(0))
    check_contact_inputs(got["holds"], got["opt_outs"], got["contact_attempts"], got["borrowers"])
    check_promises(got["promises"], got["loans"].get_column("loan_id"))
    old = {name: typed(state.get(name), OUTPUTS[name]) for name in STATE}
    scheduled = check_book(got)
    loans = fresh_loans(loan_terms(got["loans"], terms), scheduled)
    payments = distinct_payments(got["payments"])
    changed = given_otherwise(loans, got["installments"], state)
    moved = pl.DataFrame(schema={"loan_id": pl.String})
    if rules_changed:
        dues = got["installments"].select("loan_id", "seq", "due_date")
        lines = old["instalment_states"].join(dues, on=["loan_id", "seq"])
        moved = moved_due(lines, loans, terms)
    pauses = loan_pauses(loans, got["holds"], terms.products)
    # A pause placed, changed or lifted since the last run may reach back before it.
    paused = changed_pauses(pauses, state.get("pauses")).join(
        old["loan_balances"].select("loan_id"), on="loan_id", how="semi"
    )
    # A loan with a revision is worked from its contract date every run: the dates its
    # revisions moved are not in the state (instalment_states keeps no schedule). So is one
    # with a revision the last run applied and none now (withdrawn: its state moved them).
    revisions = check_revisions(got["revisions"], loans.get_column("loan_id"))
    revised = pl.concat([revised_ids(revisions), revised_ids(state.get("revisions"))]).join(
        old["loan_balances"].select("loan_id"), on="loan_id", how="semi"
    )
    replay = pl.concat(
        [_replays(payments, got["installments"], old), changed, moved, paused, revised]
    ).unique()
    if replay.height:  # a loan withdrawn from the book is dropped, not replayed (nor listed)
        replay = replay.filter(pl.col("loan_id").is_in(loans.get_column("loan_id").implode()))
    replay = replay.sort("loan_id")
    balances = _without(old["loan_balances"], replay).drop(
        "payments_seen", "payments_sum", "payments_print"
    )
    loans = _laid(loans, balances, ["loan_id"])
    instalments = _instalments(got["installments"], _without(old["instalment_states"], replay))
    # Every payment stays in the book: the ledger takes each day's own, and promises to pay
    # add up payments across their whole window (a bucket must not see fewer than the book).
    since = pl.lit(as_of - timedelta(days=HISTORY_DAYS)).cast(UTC)
    attempts = got["contact_attempts"].filter(pl.col("at") >= since)
    borrowers = with_pack_zones(got["borrowers"], loans, terms, default_zones)
    people = people_from_frames(borrowers, attempts, got["holds"], got["opt_outs"], known_zones)
    # The guards read the whole record (a requirement without `within_days` has no window).
    done = typed(state.get("done"), DONE_SCHEMA)
    return RunFrames(
        Book(loans, instalments, payments, pauses=pauses, revisions=revisions),
        people,
        replay=replay,
        history=LoanHistory(got["contact_attempts"], done, loans, people.reach),
        cases=old["cases"],
        promises=judged_promises(got["promises"], old["promises"], replay),
        flags=check_flags(got["flags"], loans.get_column("loan_id")),
        currencies=named_currencies(loans),
    )


def _replays(
    payments: pl.DataFrame, schedule: pl.DataFrame, old: Mapping[str, pl.DataFrame]
) -> pl.DataFrame:
    """Loans to replay from their contract date: the payments dated up to their state date
    changed since it was stored (back-dated or withdrawn), or an instalment was added."""
    balances = old["loan_balances"]
    if balances.height == 0:
        return pl.DataFrame(schema={"loan_id": pl.String})
    seen = _payments_seen(payments, balances.select("loan_id", "state_date"))
    changed = balances.join(seen, on="loan_id", how="left", suffix="_now").filter(
        (pl.col("payments_seen") != pl.col("payments_seen_now").fill_null(0))
        | (pl.col("payments_sum") != pl.col("payments_sum_now").fill_null(0))
        # (A state kept before prints were has none: its count and sum alone are compared.)
        | (pl.col("payments_print") != pl.col("payments_print_now").fill_null(0)).fill_null(False)
    )
    stored = old["instalment_states"].select("loan_id", "seq")
    if _aligned(schedule, stored):
        added = pl.DataFrame(schema={"loan_id": pl.String})
    else:
        added = schedule.join(balances, on="loan_id", how="semi").join(
            stored, on=["loan_id", "seq"], how="anti"
        )
    return pl.concat([changed.select("loan_id"), added.select("loan_id")]).unique().sort("loan_id")


def given_otherwise(
    loans: pl.DataFrame, schedule: pl.DataFrame, state: Mapping[str, pl.DataFrame]
) -> pl.DataFrame:
    """The loans whose terms or schedule differ from what the last run was given (GIVEN, in
    `state` where it keeps them; a loan it has none of is never counted as changed, but under
    a limit on total charges or on late fees, which no state that kept none was worked under:
    a full run before 2026-12-04, whose late fees no state counted, helper-90)."""
    terms = state.get("given_terms")
    if terms is None or terms.height == 0:
        stored = state.get("loan_balances")
        if stored is None:
            return pl.DataFrame(schema={"loan_id": pl.String})
        limited = pl.col("cap_total").is_not_null() | pl.col("late_fee_total").is_not_null()
        mine = loans.filter(limited).select("loan_id")
        return mine.join(stored.select("loan_id"), on="loan_id", how="semi")
    # Kept before limits on total charges, or on late fees: none had one.
    terms = terms.with_columns(pl.lit(None, pl.Int64).alias(name)
                               for name in ("cap_total", "late_fee_total")
                               if name not in terms.columns)  # fmt: skip
    kept = _given_terms_kept(terms)
    cast = pl.Schema({n: GIVEN["given_terms"][n] for n in kept})
    was, now = terms.select(kept).cast(cast), loans.select(kept).cast(cast)
    found = [was.join(now, on=kept, how="anti", nulls_equal=True).select("loan_id")]
    lines = state.get("given_schedule")
    if lines is not None:
        columns = list(GIVEN["given_schedule"])
        before = lines.select(columns).cast(GIVEN["given_schedule"])
        given = schedule.select(columns).cast(GIVEN["given_schedule"])
        given = given.join(was.select("loan_id"), on="loan_id", how="semi")
        if not (before.height == given.height and before.equals(given)):
            found += [frame.join(other, on=columns, how="anti", nulls_equal=True).select("loan_id")
                      for frame, other in ((before, given), (given, before))]  # fmt: skip
    # (A loan no longer given is not one to run again.)
    return pl.concat(found).unique().join(now.select("loan_id"), on="loan_id", how="semi")


def _given_terms_kept(terms: pl.DataFrame) -> list[str]:
    """The columns of what the last run was given that it kept. A state written before the
    priced terms were kept has none of them (a Spark bucket gets them all empty), or the
    penalty rate alone (before 2026-12-06, and only while the rules were the same): a
    loan's day count, never empty when kept, tells the first; the rate's denominator, the
    second."""

    def kept(name: str) -> bool:
        return name in terms.columns and terms.get_column(name).null_count() < terms.height

    given = [n for n in GIVEN["given_terms"] if n not in PRICED and n in terms.columns]
    if kept("day_count"):
        return [*given, *PRICED]
    return [*given, "pen_num", "pen_den"] if kept("pen_den") else given


def _payments_seen(payments: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    """Per loan, the count, sum and prints of its payments dated on or before its state
    date."""
    low, high = dates.get_column("state_date").min(), dates.get_column("state_date").max()
    if low is not None and low == high:  # the usual case: every loan was run to the same day
        upto = payments.filter(pl.col("paid_on") <= low)
    else:
        upto = payments.join(dates, on="loan_id").filter(pl.col("paid_on") <= pl.col("state_date"))
    return payments_counted(upto)


def payments_counted(upto: pl.DataFrame) -> pl.DataFrame:
    """Per loan, the count, sum and prints (paid_ids.payment_prints) of the payments `upto`
    (those dated up to its state date)."""
    return (
        upto.with_columns(payment_prints(upto))
        .group_by("loan_id")
        .agg(
            pl.len().cast(pl.Int64).alias("payments_seen"),
            pl.col("amount").sum().alias("payments_sum"),
            pl.col("payments_print").sum(),
        )
    )


def _aligned(fresh: pl.DataFrame, stored: pl.DataFrame, keys: list[str] | None = None) -> bool:
    """Whether stored rows are the fresh rows in the same order (so no join is needed)."""
    keys = keys or ["loan_id", "seq"]
    return fresh.height == stored.height and all(
        fresh.get_column(k).equals(stored.get_column(k)) for k in keys
    )


def _without(frame: pl.DataFrame, replay: pl.DataFrame) -> pl.DataFrame:
    """The stored rows of loans not being replayed."""
    return frame.join(replay, on="loan_id", how="anti") if replay.height else frame


def _laid(fresh: pl.DataFrame, stored: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Fresh rows with their stored state; by position when both are in the same order
    (the state was written in the book's order), else by key."""
    if not stored.height:
        return fresh
    if _aligned(fresh, stored, keys):
        return fresh.with_columns(stored.drop(keys))
    return overlay_state(fresh, stored, keys)


def _instalments(schedule: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """The schedule with each line's stored state (fresh for lines never run)."""
    if stored.height and _aligned(schedule, stored):
        # The state is the schedule's rows in the same order: no join. The ledger takes the
        # book's order (each loan's lines together, loans by id), which the rows of a book
        # folder's schedule are usually in, and a Spark bucket's need not be.
        joined = pl.concat([schedule.select(_SCHEDULE_COLUMNS), stored], how="horizontal")
        if not ascending(schedule):
            joined = joined.sort("loan_id", "due_date", "seq")
        return joined.select(list(INSTALMENT_SCHEMA))
    fresh = fresh_instalments(schedule.with_columns(pl.lit(None, pl.Date).alias("eff_due")))
    return _laid(fresh, stored, ["loan_id", "seq"])


def with_pack_zones(
    borrowers: pl.DataFrame, loans: pl.DataFrame, terms: Terms, default_zones: Mapping[str, str]
) -> pl.DataFrame:
    """The borrowers once per jurisdiction of their loans' products, each with that pack's
    default zone: every pack of a borrower's loans governs contacts with them, each counting
    days in its own zone (CONTRACT.md; services.contact_check.packs_for). A borrower without
    a loan keeps one row, under no jurisdiction, in the fallback zone."""
    jurisdiction_of = {code: product.jurisdiction for code, product in terms.products.items()}
    # Distinct before any cast: the products may come as categories (a loan table's).
    used = set(loans.get_column("product").unique().cast(pl.String).to_list())
    found = {jurisdiction_of.get(code) for code in used}
    if len(found) <= 1:  # one jurisdiction's book: one row per borrower, as given
        only = found.pop() if found else None
        return borrowers.with_columns(
            pl.lit(only, pl.String).alias("jurisdiction"),
            pl.lit(default_zones.get(only, FALLBACK_ZONE) if only else FALLBACK_ZONE)
            .alias("default_zone"),
        )  # fmt: skip
    pairs = loans.select(
        "borrower_id",
        pl.col("product").cast(pl.String).replace_strict(jurisdiction_of, default=None)
        .alias("jurisdiction"),
    ).unique(maintain_order=True)  # fmt: skip
    zoned = pairs.with_columns(
        pl.col("jurisdiction").replace_strict(default_zones, default=FALLBACK_ZONE)
        .alias("default_zone")
    )  # fmt: skip
    return borrowers.join(zoned, on="borrower_id", how="left", maintain_order="left").with_columns(
        pl.col("default_zone").fill_null(FALLBACK_ZONE)
    )


def judged_promises(
    given: pl.DataFrame, stored: pl.DataFrame, replayed: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The promises fed in, with what the last run judged of them. One it did not judge (new,
    or fed otherwise since: another loan, amount or day), or one of a loan `replayed` tonight
    (its payments may have changed), is judged afresh (`paid` null: batch/promises.py); one
    the feed gives a verdict of (kept or broken) keeps it."""
    judged = stored.select(
        "promise_id", pl.col("loan_id").alias("l"), pl.col("amount").alias("a"),
        pl.col("made_on").alias("m"), pl.col("due_on").alias("d"), pl.col("status").alias("s"),
        pl.col("settled_on").alias("o"), pl.col("paid").alias("p"),
    )  # fmt: skip
    joined = given.join(judged, on="promise_id", how="left", maintain_order="left")
    same = (
        (pl.col("l") == pl.col("loan_id")) & (pl.col("a") == pl.col("amount"))
        & (pl.col("m") == pl.col("made_on")) & (pl.col("d") == pl.col("due_on"))
    ).fill_null(False)  # fmt: skip
    if replayed is not None and replayed.height:
        same = same & ~pl.col("loan_id").is_in(replayed.get_column("loan_id").implode())
    fed = pl.col("status").is_in(["kept", "broken"]).fill_null(False)
    return joined.select(
        *(c for c in PROMISE_SCHEMA if c not in ("status", "settled_on", "paid")),
        pl.when(fed).then("status").when(same).then("s").otherwise(pl.lit("open"))
        .alias("status"),
        pl.when(fed).then("settled_on").when(same).then("o").otherwise(pl.lit(None, pl.Date))
        .alias("settled_on"),
        pl.when(fed).then(pl.coalesce("p", "paid", pl.lit(0, pl.Int64))).when(same).then("p")
        .otherwise(pl.lit(None, pl.Int64)).alias("paid"),
    ).sort("promise_id")  # fmt: skip


def outputs(frames: RunFrames) -> dict[str, pl.DataFrame]:
    """The tables every run writes, typed and sorted: postings, plan, blocked, promises and
    the loans rebuilt (the state tables are the store's: `state_outputs` for a full run)."""
    return ledger_outputs(frames) | step_outputs(frames)


def ledger_outputs(frames: RunFrames) -> dict[str, pl.DataFrame]:
    """The outputs final once the ledger ran (a store may write them while the later steps
    run): the postings and the loans rebuilt.

    Postings are put in order by their loan's position in the book (which is in loan_id
    order) rather than by the loan_id text: the same order, a tenth of the cost."""
    book, posted = frames.book, frames.postings
    by_position = {
        name: [POSITION, *ORDER[name][1:]] for name in ("charges", "cuts", "allocations")
    }
    charges = _last_of_each(posted.frame("charges", positions=True), by_position["charges"])
    cuts = _summed(posted.frame("cuts", positions=True), by_position["cuts"])
    terms = book.loans.select("loan_id", pl.col("cap_rule").alias("rule_id"),
                              pl.col("cap_source").alias("source"))  # fmt: skip
    cuts = pl.concat([cuts, terms[cuts.get_column(POSITION)]], how="horizontal")
    allocations = _summed(posted.frame("allocations", positions=True), by_position["allocations"])
    allocations = allocations.with_columns(
        book.loans.get_column("loan_id").gather(allocations.get_column(POSITION))
    )
    sorted_ = {"charges": charges, "cuts": cuts, "allocations": allocations}
    return {
        **{name: typed(frame, OUTPUTS[name]) for name, frame in sorted_.items()},
        "replayed": typed(frames.replay, OUTPUTS["replayed"]).sort(ORDER["replayed"]),
    }


def step_outputs(frames: RunFrames) -> dict[str, pl.DataFrame]:
    """The outputs of the steps after the ledger: promises, plan and blocked; and the flags
    read and the pauses and revisions the run worked with."""
    tables = {"promises": frames.promises, "plan": frames.plan, "blocked": frames.blocked,
              "flags": frames.flags, "pauses": frames.book.pauses,
              "revisions": frames.book.revisions}  # fmt: skip
    return {name: typed(frame, OUTPUTS[name]).sort(ORDER[name]) for name, frame in tables.items()}


def _summed(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The `keys` and the amount of the rows, ordered by `keys`, amounts of equal keys summed.
    Equal keys are rare (none on the bench's night): sorted first, the rows are summed only
    when some neighbours are equal, which spares hashing every key (the allocations' payment
    ids are texts): 9.6 -> 3.7 ms for a bench night's allocations."""
    ordered = frame.sort(keys).select(*keys, "amount")
    same = pl.all_horizontal(pl.col(k).eq_missing(pl.col(k).shift(1)) for k in keys)
    if not ordered.select(same.any()).item():
        return ordered
    return ordered.group_by(keys, maintain_order=True).agg(pl.col("amount").sum())


def _last_of_each(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The rows ordered by `keys`; of rows with the same keys, only the one posted last (a
    record posted again replaces the earlier one). A stable sort keeps equal keys in posting
    order, so the last of each run is the one kept: cheaper than a hashed unique."""
    ordered = frame.sort(keys, maintain_order=True)
    changes = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(-1)) for k in keys)
    return ordered.filter(changes | (pl.int_range(pl.len()) == pl.len() - 1))


def state_outputs(frames: RunFrames, payments: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The whole state of a full run (every loan worked), with what it was given of each loan
    (GIVEN); `payments`: every payment fed in."""
    assert frames.states is not None, "the pipeline ran"
    book = frames.book
    seen = _payments_seen(payments, book.loans.select("loan_id", "state_date"))
    balances = book.loans.join(seen, on="loan_id", how="left", maintain_order="left").with_columns(
        pl.col("payments_seen", "payments_sum", "payments_print").fill_null(0)
    )
    return {
        # Kept in the book's order: sorting ten million lines costs.
        "loan_balances": typed(balances, OUTPUTS["loan_balances"]),
        "instalment_states": typed(book.instalments, OUTPUTS["instalment_states"]),
        "cases": typed(frames.cases, OUTPUTS["cases"]).sort(ORDER["cases"]),
        "loan_states": typed(frames.states, OUTPUTS["loan_states"]).sort(ORDER["loan_states"]),
        "given_terms": typed(book.loans, GIVEN["given_terms"]),
        "given_schedule": typed(book.instalments, GIVEN["given_schedule"]),
    }
