"""A Spark run's summary: the buckets' posting totals added up, and the frames summarise reads."""

from pathlib import Path

import polars as pl

from arrears.adapters.book_folder import part_files
from arrears.adapters.book_tables import OUTPUTS, typed
from arrears.batch.book import INSTALMENT_SCHEMA, LOAN_SCHEMA, PAYMENT_SCHEMA, Book
from arrears.batch.ledger import EXACT, Postings, exact_total
from arrears.batch.pipeline import RunFrames
from arrears.batch.plan_people import REACH_SCHEMA, FrameReach, People
from arrears.batch.run import add_up

AMOUNTS = ("interest", "penalty", "fees")
# A bucket's totals: a part of the book, whose sums can pass Int64 (ledger.EXACT).
TOTALS = pl.Schema(
    {"interest": EXACT, "penalty": EXACT, "fees": EXACT, "days": pl.Int64(),
     "advanced": pl.Boolean()}
)  # fmt: skip


def totals_of(postings: Postings) -> pl.DataFrame:
    """A bucket's posting totals as one row."""
    row = {k: postings.totals.get(k, 0) for k in AMOUNTS}
    return pl.DataFrame([{**row, "days": postings.days, "advanced": postings.advanced}], TOTALS)


def summary_frames(
    folder: Path, totals: pl.DataFrame, sums: pl.DataFrame, plan: pl.DataFrame | None = None
) -> RunFrames:
    """What summarise reads: the tables Spark wrote into `folder`, and the buckets' totals,
    with what they posted by currency (`sums`, run.CURRENCY_SUMS: none when the book names
    no currencies); `plan`, the run's own plan when the one written holds more (None: the
    one written).

    Days run is the most any bucket ran: once a loan starts it runs every day to as_of, so
    the book's days are those of the bucket holding its earliest loan.
    """

    def read(name: str) -> pl.DataFrame:
        parts = part_files(folder / name)
        return typed(pl.read_parquet(parts) if parts else None, OUTPUTS[name])

    postings = Postings(cuts=[read("cuts")])
    for kind in AMOUNTS:
        postings.count(kind, exact_total(totals.get_column(kind)))
    most = totals.get_column("days").max()
    postings.days = most if isinstance(most, int) else 0
    postings.advanced = bool(totals.get_column("advanced").any())
    nothing = Book(
        pl.DataFrame(schema=LOAN_SCHEMA), pl.DataFrame(schema=INSTALMENT_SCHEMA),
        pl.DataFrame(schema=PAYMENT_SCHEMA),
    )  # fmt: skip
    return RunFrames(
        nothing, People.of_frames(FrameReach(pl.DataFrame(schema=REACH_SCHEMA))),
        cases=read("cases"), promises=read("promises"), postings=postings,
        states=read("loan_states"), blocked=read("blocked"),
        plan=read("plan") if plan is None else typed(plan, OUTPUTS["plan"]),
        currency_sums=add_up(sums) if sums.height else None,
    )  # fmt: skip
