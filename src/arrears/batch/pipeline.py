"""The end-of-day run as an explicit pipeline of named steps over frames (order is data).

ledger → ageing → promises → stages → contact_plan. Each step takes the run's frames and
context and returns the frames with its own outputs added; the store writes them (snapshot).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from arrears.batch.advance import advance
from arrears.batch.ageing import SUMMARY_ONLY, states_from_summaries, summarise_loans
from arrears.batch.book import PAYMENT_SCHEMA, Book
from arrears.batch.contact_plan import BLOCKED_SCHEMA, PLAN_SCHEMA, plan_actions
from arrears.batch.due_treatments import due_candidates
from arrears.batch.ledger import Postings
from arrears.batch.plan_people import ActionHistory, KnownHistory, People
from arrears.batch.promises import PROMISE_SCHEMA, evaluate_promises
from arrears.batch.stages import (
    CASE_SCHEMA,
    FLAG_SCHEMA,
    stage_facts,
    transition,
    watch,
    with_loan_facts,
)
from arrears.batch.time_barred import time_bars
from arrears.domain.errors import DomainError
from arrears.domain.ladder import Ladder, label_clash
from arrears.domain.rule_pack import RulePack
from arrears.domain.terms import Terms


@dataclass(frozen=True)
class RunContext:
    """What the run decides with: the day, loan terms, ladders per product, contact packs."""

    as_of: date
    terms: Terms
    ladders: Mapping[str, Ladder]  # product code → its ladder
    packs: Mapping[str, RulePack]  # jurisdiction → its contact rule pack
    # The last run's day before as_of (None: the book's first run): the run's totals count
    # what it posts for the days after it, not a rebuilt or new loan's earlier days.
    since: date | None = None

    def __post_init__(self) -> None:
        clash = label_clash(self.ladders)
        if clash is not None:
            label = self.ladders[clash[0]].label
            raise DomainError(
                f"products {clash[0]!r} and {clash[1]!r} have different ladders named "
                f"{label!r}: a case records its ladder by name and version, so give each "
                f"ladder its own `name` or `version`"
            )

    def jurisdiction_by_ladder(self) -> dict[str, str]:
        """Ladder label → the jurisdiction of the products that use it; refused when products
        of two jurisdictions share a ladder (a candidate is judged under its ladder's pack:
        one product's loans would be judged under the other's rules)."""
        found: dict[str, tuple[str, str]] = {}
        for product, ladder in sorted(self.ladders.items()):
            jurisdiction = self.terms.products[product].jurisdiction
            first = found.setdefault(ladder.label, (jurisdiction, product))
            if first[0] != jurisdiction:
                raise DomainError(
                    f"ladder {ladder.label!r} serves products of two jurisdictions ({first[1]!r}: "
                    f"{first[0]}, {product!r}: {jurisdiction}); each jurisdiction's contacts are "
                    f"judged under its own rules, so give each its own ladder (its own `name`)"
                )
        return {label: jurisdiction for label, (jurisdiction, _) in found.items()}


# Per loan: worked tonight; if not, its bucket tonight when past due (its index among
# delinquency.BUCKETS; null: M0, nothing is; NO_BUCKET: none, not lent yet); the penalty its
# days resting since the last run added (its own ledger did not post it); its product, and
# the effective due date of its oldest line owing principal or interest (null: none), which
# the limitation rule reads.
STORED_SCHEMA = pl.Schema({"loan_id": pl.String(), "worked": pl.Boolean(), "bucket": pl.Int8(),
                           "rested_penalty": pl.Int64(), "product": pl.Categorical(),
                           "oldest": pl.Date()})  # fmt: skip
NO_BUCKET = -1  # the stored bucket of a loan not lent yet

CURRENCY_SCHEMA = pl.Schema({"loan_id": pl.String(), "currency": pl.String()})


def named_currencies(loans: pl.DataFrame) -> pl.DataFrame | None:
    """The loans' ids and currencies (RunFrames.currencies), or None when they name none."""
    currency = loans.get_column("currency")
    return None if currency.null_count() == currency.len() else loans.select("loan_id", "currency")


@dataclass(frozen=True)
class RunFrames:
    """The run's inputs and, as the steps go, its outputs.

    `book` holds the loans the ledger works tonight. A store may leave out loans that rest:
    nothing about them changes before their `wake_on` but the penalty each day adds to a
    loan resting past due (ageing.summarise_loans), so their case stays as it was. Such a
    store gives `stored`: every loan in loan_id order, `worked` marking those in `book`, the
    others' bucket tonight, the penalty of every loan's resting days since the last run;
    then `states` and `summaries` hold the worked loans only, and `cases` every loan's. A
    store that works every loan leaves `stored` empty.
    """

    book: Book
    people: People
    stored: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=STORED_SCHEMA))
    # Loans whose state was rebuilt from their contract date (a back-dated payment or a changed
    # schedule): the store clears their old derived rows before writing the new ones.
    replay: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"loan_id": pl.String})
    )
    history: ActionHistory = field(default_factory=lambda: KnownHistory({}))
    # The people and history when a store hands the frames over while still reading them
    # (beside the ledger, on a thread of its own): the plan, which alone needs them, waits
    # for them here; `people` and `history` are UNREAD and UNREAD_HISTORY until then.
    people_read: "PeopleRead | None" = None
    cases: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CASE_SCHEMA))
    promises: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROMISE_SCHEMA))
    # The flags set on loans (stages.FLAG_SCHEMA): of every loan, or at least the worked ones'.
    flags: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FLAG_SCHEMA))
    postings: Postings = field(default_factory=Postings)
    # Every loan's currency (CURRENCY_SCHEMA, the currency as text or as categories; in the
    # order of `stored` when a store gives it: every loan, in loan_id order), when the book
    # names them (None: the book's one currency, unnamed): what the run posted is then added
    # up by currency too.
    currencies: pl.DataFrame | None = None
    # What the run posted added up by currency already (run.CURRENCY_SUMS), by an engine that
    # runs the book in parts (Spark's buckets): the summary takes it as it is.
    currency_sums: pl.DataFrame | None = None
    # On a re-run of the latest day by a store that keeps no state before it (the SQL store):
    # what the first run posted on the run's days for the loans replayed tonight
    # (ledger.RESTATED_SCHEMA). They are taken from the first run's amounts, tonight's added.
    restated: pl.DataFrame | None = None
    applied: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAYMENT_SCHEMA))
    # Payments of the loans of promises given to be judged afresh (`paid` null) that `book`
    # may leave out (dated on or before their loan's state date): with the book's, every
    # payment of such a loan dated in its promise's window up to as_of (promises.py).
    promised_paid: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAYMENT_SCHEMA))
    # Each applied payment's loan position in `book.loans`, when the book knows its payments'.
    applied_loans: npt.NDArray[np.int64] | None = None
    summaries: pl.DataFrame | None = None  # every loan's summary (worked ones: as of today)
    states: pl.DataFrame | None = None
    plan: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PLAN_SCHEMA))
    blocked: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=BLOCKED_SCHEMA))


PeopleRead = Callable[[], tuple[People, ActionHistory]]


class _NotYetRead:
    """The reach of people, and the loans' history, a store is still reading: asking either
    is a mistake (the plan takes them from RunFrames.people_read)."""

    def of(self, asked: Any) -> Any:
        """Refused: not read yet."""
        raise RuntimeError(
            f"the people are still being read ({len(asked)} asked for): take them from "
            "RunFrames.people_read"
        )

    def carried_out(self, day: date) -> pl.DataFrame:
        """Refused: not read yet."""
        raise RuntimeError(
            f"the history is still being read (the actions carried out on {day} asked for): "
            "take it from RunFrames.people_read"
        )


# RunFrames.people and .history while people_read is pending.
UNREAD = People.of_frames(_NotYetRead())
UNREAD_HISTORY: ActionHistory = _NotYetRead()

Step = Callable[[RunFrames, RunContext], RunFrames]


def ledger(frames: RunFrames, ctx: RunContext) -> RunFrames:
    """Age every loan day by day to as_of: postings, payments, penalty, caps."""
    applied, at = applied_payments(frames.book, ctx.as_of)
    book, postings = advance(frames.book, ctx.as_of, ctx.terms, counted_after=ctx.since)
    return replace(frames, book=book, postings=postings, applied=applied, applied_loans=at)


def applied_payments(book: Book, as_of: date) -> tuple[pl.DataFrame, npt.NDArray[np.int64] | None]:
    """The payments this run applies: dated after their loan's state date, up to as_of; and
    their loans' positions, when the book knows its payments'."""
    if book.payment_loans is not None:
        since = book.loans.get_column("state_date").gather(book.payment_loans)
        paid = book.payments.get_column("paid_on")
        kept = (paid > since) & (paid <= as_of)
        return book.payments.filter(kept), book.payment_loans[kept.to_numpy()]
    dates = book.loans.select("loan_id", pl.col("state_date").alias("since"))
    applied = book.payments.join(dates, on="loan_id", how="inner").filter(
        (pl.col("paid_on") > pl.col("since")) & (pl.col("paid_on") <= as_of)
    )
    return applied.drop("since"), None


def ageing(frames: RunFrames, ctx: RunContext) -> RunFrames:
    """Each worked loan's dpd, bucket and overdue parts on as_of, and its summary."""
    book = frames.book
    summaries = summarise_loans(
        book.loans, book.instalments, ctx.as_of, watch(ctx.ladders), book.line_loans,
        book.line_matrix, book.pauses,
    ).with_columns(pl.lit(ctx.as_of).alias("summary_day"))  # fmt: skip
    signed = book.loans.get_column("contract_date")
    states = states_from_summaries(summaries, ctx.as_of, signed, book.pauses).drop(*SUMMARY_ONLY)
    # The ledger's matrix is let go: no step after reads it.
    book = book.with_frames(book.line_loans)
    return replace(frames, book=book, summaries=summaries, states=states)


def promises(frames: RunFrames, ctx: RunContext) -> RunFrames:
    """Promises to pay judged kept or broken: an open one an earlier run judged counts on with
    the payments this run applied; one given to be judged afresh (new, or of a loan rebuilt
    from its contract date: its store says which) from every payment of its loan in its
    window, the book's and those the store gave for it (RunFrames.promised_paid)."""
    every = frames.book.payments.select(list(PAYMENT_SCHEMA)).cast(PAYMENT_SCHEMA)
    if frames.promised_paid.height:
        every = pl.concat([every, frames.promised_paid.select(every.columns).cast(PAYMENT_SCHEMA)])
    judged = evaluate_promises(frames.promises, frames.applied, ctx.as_of, every)
    return replace(frames, promises=judged)


_MOVED = ("stage", "entered_on", "reason", "ladder", "arm")  # what a transition may change


def stages(frames: RunFrames, ctx: RunContext) -> RunFrames:
    """Stage transitions on each product's ladder, with the experiment arms drawn as cases
    enter an experiment's stages (the worked loans': a resting loan keeps its case)."""
    assert frames.states is not None, "ageing runs before stages"
    facts = with_loan_facts(
        stage_facts(frames.states), frames.book.loans, ctx.ladders, frames.flags
    )
    if frames.stored.height == 0:
        return replace(frames, cases=transition(facts, frames.cases, ctx.ladders, ctx.as_of))
    cases = frames.cases.with_columns(pl.lit(ctx.as_of).alias("as_of"))
    at = frames.stored.get_column("worked").arg_true()
    if cases.height == frames.stored.height:
        # Every loan has a case (the usual book): the worked loans' are found by position,
        # only the columns a transition reads (the borrower ids too cost about 15 ms).
        mine = cases.select("loan_id", *_MOVED)[at]
    else:
        mine = cases.join(frames.states.select("loan_id"), on="loan_id", how="semi",
                          maintain_order="left")  # fmt: skip
    moved = transition(facts, mine, ctx.ladders, ctx.as_of)
    if cases.height == frames.stored.height and moved.height == at.len():
        # Both in loan order and holding the same loans: the worked rows go back by position,
        # only the columns a transition changed (the loan's borrower stays, and every case is
        # as of today already: copying a million borrower ids cost a fresh night 20 ms; each
        # column scattered is a million values copied, 3-5 ms, and a night's ladders and arms
        # mostly stay as they were).
        changed = [n for n in _MOVED if not moved.get_column(n).equals(mine.get_column(n))]
        laid = cases.with_columns(
            cases.get_column(name).scatter(at, moved.get_column(name)) for name in changed
        )
        return replace(frames, cases=laid)
    kept = cases.join(moved.select("loan_id"), on="loan_id", how="anti", maintain_order="left")
    return replace(frames, cases=kept.merge_sorted(moved, key="loan_id"))


def contact_plan(frames: RunFrames, ctx: RunContext) -> RunFrames:
    """Due treatments → escalation guards and limitation → compliance: today's plan and what
    was blocked."""
    if frames.people_read is not None:
        people, history = frames.people_read()
        frames = replace(frames, people=people, history=history, people_read=None)
    candidates = due_candidates(frames.cases, ctx.ladders, ctx.as_of, frames.history)
    carried = frames.history.carried_out(ctx.as_of)
    if carried.height:
        # A re-run of the day decides no action carried out since its first run: planned
        # again, its key is not written (the record stays); refused, it was counted as
        # blocked though sent before the hold that refused it (helper-64).
        candidates = candidates.join(carried, on=["loan_id", "action"], how="anti")
    by_label = {ladder.label: ladder for ladder in ctx.ladders.values()}
    bars = None
    if frames.states is not None:  # the ageing step gave every worked loan's state
        bars = time_bars(ctx.terms.products, ctx.packs, frames.states, frames.stored)
    plan, blocked = plan_actions(
        candidates, by_label, ctx.packs, ctx.jurisdiction_by_ladder(), frames.people,
        frames.history, ctx.as_of, bars,
    )  # fmt: skip
    return replace(frames, plan=plan, blocked=blocked)


# The steps after which a store may begin writing (ports.EngineStore.progress): once the
# loans are aged, their lines and the ledger's outputs are final; once staged, their cases.
AGEING, STAGES = "ageing", "stages"
PIPELINE: tuple[tuple[str, Step], ...] = (
    ("ledger", ledger),
    (AGEING, ageing),
    ("promises", promises),
    (STAGES, stages),
    ("contact_plan", contact_plan),
)


def run_pipeline(
    frames: RunFrames, ctx: RunContext, after: Callable[[str, RunFrames], None] | None = None
) -> RunFrames:
    """Run every step in order; `after` is told each step's name and the frames after it (a
    store may begin writing what is final while the rest runs: ports.EngineStore.progress)."""
    for name, step in PIPELINE:
        frames = step(frames, ctx)
        if after is not None:
            after(name, frames)
    return frames
