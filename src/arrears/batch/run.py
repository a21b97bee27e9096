"""Use case: the end-of-day run for a date over the whole book (load → pipeline → save)."""

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import numpy as np
import polars as pl

from arrears.batch.ledger import EXACT, POSITION, Postings, exact_total
from arrears.batch.pipeline import NO_BUCKET, RunContext, RunFrames, run_pipeline
from arrears.batch.ports import EngineStore
from arrears.domain.delinquency import BUCKETS
from arrears.domain.errors import DomainError
from arrears.domain.money import format_amount, parse_amount
from arrears.domain.stages import NOT_LENT


class RunRefused(DomainError):
    """The run cannot go ahead (e.g. it would move the book back in time)."""


def run_day(store: EngineStore, ctx: RunContext, at: datetime) -> dict[str, Any]:
    """Run the end of day for ctx.as_of (re-running the latest day changes nothing)."""
    last = store.last_run()
    if last is not None and ctx.as_of < last:
        raise RunRefused(
            f"the book was already run up to {last}; a run for {ctx.as_of} would move it back "
            f"in time"
        )
    # The days this run reports what it posted for: those after the last run before it.
    ctx = replace(ctx, since=store.last_run(before=ctx.as_of))
    frames = store.load(ctx)
    try:
        since = store.last_run(before=ctx.as_of)
        if since != ctx.since:  # the store holds the book, or its save will see what changed
            raise RunRefused(
                f"another run of the book (for {since}) finished as this run for {ctx.as_of} "
                f"began, which would count its amounts from {ctx.since}: nothing was written, "
                f"run it again"
            )
        frames = run_pipeline(frames, ctx, store.progress)
        summary = day_summary(frames, ctx.as_of, ctx.since, store.run_summary(ctx.as_of))
        store.save(frames, ctx.as_of, summary, at)
    except BaseException:
        store.abandon()  # what the store began writing is dropped, not left half-written
        raise
    return summary


# What a day posted. A re-run of a completed day on a state already brought to it (the SQL
# store keeps only the latest) posts nothing again: these stay the first run's.
POSTED = ("interest_posted", "penalty_posted", "fees_posted", "cap_cut", "by_currency", "days_run")


def day_summary(
    frames: RunFrames, as_of: date, since: date | None, stored: dict[str, Any] | None
) -> dict[str, Any]:
    """The run's summary (summarise). On a re-run (`stored`: the first run's) from a state
    already at the day (RunFrames.restated: a store that keeps no state before it), what the
    day posted is the first run's, with the loans it moved again restated; the rest is
    tonight's: its plan, the contacts blocked and the promises follow the inputs as they are
    now. A re-run from the state before the day works the day afresh: its own summary."""
    summary = summarise(frames, as_of, since)
    if stored is None or frames.restated is None:
        return summary
    if frames.postings.advanced:
        return _restated(summary, stored, frames.restated, frames.currencies)
    # A key the first run's summary lacks (it was written before the key was) is left out:
    # tonight's would be nothing posted, beside the first run's amounts.
    first = {key: stored[key] for key in POSTED if key in stored}
    return {key: first.get(key, value) for key, value in summary.items()
            if key not in POSTED or key in first}  # fmt: skip


# The amounts of a summary, and their columns in ledger.RESTATED_SCHEMA and CURRENCY_SUMS.
_AMOUNTS = {"interest_posted": "interest", "penalty_posted": "penalty", "fees_posted": "fees",
            "cap_cut": "cut"}  # fmt: skip


def _restated(
    summary: dict[str, Any], stored: dict[str, Any], earlier: pl.DataFrame,
    currencies: pl.DataFrame | None,
) -> dict[str, Any]:  # fmt: skip
    """The first run's amounts with what it posted for the loans replayed tonight taken out
    and tonight's postings (theirs, and a loan's first seen tonight) added, per currency too."""

    def restate(first: dict[str, str], out: pl.DataFrame, now: dict[str, str]) -> dict[str, str]:
        return {
            key: format_amount(parse_amount(first[key]) - exact_total(out.get_column(column))
                               + parse_amount(now[key]))
            for key, column in _AMOUNTS.items()
        }  # fmt: skip

    restated = summary | restate(stored, earlier, summary)
    if "by_currency" not in stored or currencies is None:
        restated.pop("by_currency", None)
        return restated
    tagged = earlier.join(currencies, on="loan_id")
    zero = dict.fromkeys(_AMOUNTS, "0.00")
    restated["by_currency"] = {
        currency: restate(stored["by_currency"].get(currency, zero),
                          tagged.filter(pl.col("currency") == currency),
                          summary["by_currency"].get(currency, zero))
        for currency in sorted(set(stored["by_currency"]) | set(summary["by_currency"]))
    }  # fmt: skip
    return restated


def summarise(frames: RunFrames, as_of: date, since: date | None) -> dict[str, Any]:
    """The run's JSON document (CONTRACT.md `arrears run --json`, with more keys)."""
    assert frames.states is not None
    # A loan signed after as_of is in no bucket: not lent, it is not delinquent or current
    # (its stage says so; the month-end buckets leave it out too).
    lent = frames.states.get_column("stage") != NOT_LENT
    buckets = _tally(frames.states.get_column("bucket").filter(lent))
    # Loans a store left resting (pipeline.RunFrames): their buckets tonight; and every
    # loan's penalty of its days resting since the last run.
    # The bucket column alone is filtered: the whole frame's 800,000 loan ids took 35 ms.
    worked = frames.stored.get_column("worked").to_numpy()
    codes = frames.stored.get_column("bucket").fill_null(0).to_numpy()[~worked]
    counts = np.bincount(codes[codes != NO_BUCKET], minlength=len(BUCKETS))
    for name, count in zip(BUCKETS, counts.tolist(), strict=True):
        buckets[name] = buckets.get(name, 0) + count
    rested_penalty = exact_total(frames.stored.get_column("rested_penalty"))
    stages = _tally(frames.cases.get_column("stage"))
    totals = frames.postings.totals
    cut = counted_cuts(frames.postings, since)
    cuts = exact_total(cut.get_column("amount"))
    contacts = frames.plan.filter(pl.col("channel").is_not_null())
    blocked = frames.blocked.group_by("rule").len().sort("rule")
    sums = frames.currency_sums
    if sums is None and frames.currencies is not None:
        sums = currency_sums(frames, since)
    return {
        "as_of": as_of.isoformat(),
        "since": since.isoformat() if since else None,
        "loans": frames.stored.height or frames.states.height,
        "buckets": {b: buckets.get(b, 0) for b in BUCKETS},
        "stages": dict(sorted(stages.items())),
        "interest_posted": format_amount(totals.get("interest", 0)),
        "penalty_posted": format_amount(totals.get("penalty", 0) + rested_penalty),
        "fees_posted": format_amount(totals.get("fees", 0)),
        "cap_cut": format_amount(cuts),
        # Each currency's own (the amounts above add minor units of them all together).
        **({} if sums is None else {"by_currency": _by_currency(sums)}),
        "planned_contacts": _counts(contacts, "channel"),
        "planned_actions": _counts(frames.plan, "action"),
        "blocked_contacts": dict(blocked.iter_rows()),
        "promises": _counts(frames.promises, "status"),
        # The days the run covered: since the last run, else from the first contract date.
        "days_run": (as_of - since).days if since else frames.postings.days,
    }


def counted_cuts(
    postings: Postings, since: date | None, *, positions: bool = False
) -> pl.DataFrame:
    """The cap cuts of the days after the last run (a rebuilt loan's earlier ones were
    reported), with each one's loan position in the book the run advanced too."""
    cuts = postings.frame("cuts", positions=positions)
    return cuts if since is None else cuts.filter(pl.col("day") > since)


def currency_sums(frames: RunFrames, since: date | None) -> pl.DataFrame:
    """What the run posted and cut on its days (those after `since`) by the currencies of
    the loans (CURRENCY_SUMS), every currency of the book listed, those that posted nothing
    too. A posting's currency is its loan's in the book the run advanced, found by its
    position (a join of a million loan ids cost a night 20-35 ms)."""
    currencies = frames.currencies
    assert currencies is not None
    lent_in = frames.book.loans.get_column("currency")
    posted = frames.postings.frame("posted", positions=True)
    cuts = counted_cuts(frames.postings, since, positions=True)
    parts = [
        posted.select(lent_in.gather(posted.get_column(POSITION)), "interest", "penalty", "fees",
                      cut=0),
        cuts.select(lent_in.gather(cuts.get_column(POSITION)), interest=0, penalty=0, fees=0,
                    cut="amount"),
        # Every currency of the book, those that posted nothing too.
        currencies.select(pl.col("currency").unique(), interest=0, penalty=0, fees=0, cut=0),
    ]  # fmt: skip
    if frames.stored.height:
        # The penalty of loans left resting: `stored` and `currencies` hold every loan, in
        # loan_id order (pipeline.RunFrames), so by position too.
        rested = frames.stored.get_column("rested_penalty").alias("penalty")
        assert rested.len() == currencies.height, "stored and currencies: every loan"
        resting = pl.DataFrame([currencies.get_column("currency"), rested])
        parts.append(resting.group_by("currency").agg(pl.col("penalty").cast(EXACT).sum())
                     .select("currency", interest=0, penalty="penalty", fees=0, cut=0))  # fmt: skip
    return add_up(pl.concat([part.cast({"currency": pl.String}) for part in parts],
                            how="vertical_relaxed"))  # fmt: skip


# A run's postings by currency (currency_sums; an engine that runs the book in parts adds its
# parts' up: add_up), added up exactly (ledger.EXACT: a book's sum can pass Int64).
CURRENCY_SUMS = pl.Schema({"currency": pl.String(), **dict.fromkeys(_AMOUNTS.values(), EXACT)})


def add_up(sums: pl.DataFrame) -> pl.DataFrame:
    """Rows of CURRENCY_SUMS added up by currency, in currency order."""
    added = sums.group_by("currency").agg(pl.col(*_AMOUNTS.values()).cast(EXACT).sum())
    return added.cast(CURRENCY_SUMS).sort("currency")


def _by_currency(sums: pl.DataFrame) -> dict[str, dict[str, str]]:
    """The summary's `by_currency` of a run's CURRENCY_SUMS."""
    return {
        row["currency"]: {key: format_amount(row[column]) for key, column in _AMOUNTS.items()}
        for row in sums.iter_rows(named=True)
    }


def _tally(values: pl.Series) -> dict[str, int]:
    """How many times each value occurs."""
    # Counted before any cast: a million categories cast to text cost more than the count.
    counted = values.value_counts()
    keys = counted.get_column(counted.columns[0]).cast(pl.String).to_list()
    return dict(zip(keys, counted.get_column(counted.columns[1]).to_list(), strict=True))


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return dict(frame.group_by(column).len().sort(column).iter_rows()) if frame.height else {}
