"""What the contact planner knows of people, built from frames: zones from phone numbers (only
for the borrowers it asks about) and each loan's action history for the escalation guards.

The planner asks about the borrowers it plans for (a few in ten of a book): a million phone
number look-ups would cost more than the run, so zones are worked out when asked, once per
distinct (number, recorded zone, default zone).
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import polars as pl

from arrears.adapters.phone_zones import PhonenumbersZones
from arrears.batch.contact_checks import ZONE_SEPARATOR
from arrears.batch.contact_plan import REACH_SCHEMA, People
from arrears.domain.escalation import ActionRecord

V = TypeVar("V")
# Contact outcomes that the escalation guards read as a call's outcome.
CALL_OUTCOMES = ("connected", "no_answer", "busy", "refused", "failed", "sent", "delivered")
FALLBACK_ZONE = "Asia/Shanghai"


ZONE_KEYS = ("phone", "timezone", "default_zone")
ZONES_SCHEMA = pl.Schema({
    "phone": pl.String(), "timezone": pl.String(), "default_zone": pl.String(),
    "zones": pl.String(), "day_zone": pl.String(),
})  # fmt: skip


class PhoneReach:
    """contact_plan.Reach over a borrowers frame (borrower_id, phone, timezone, default_zone):
    the recorded zone wins, else the number's zones, else the pack's default; the day zone is
    the single candidate, else the pack's default. `known` zones (ZONES_SCHEMA, e.g. a book's
    cache) are reused; the ones worked out here are kept in `learned`."""

    def __init__(self, borrowers: pl.DataFrame, known: pl.DataFrame | None = None) -> None:
        self._borrowers = borrowers.select("borrower_id", *ZONE_KEYS)
        self._known = known if known is not None else pl.DataFrame(schema=ZONES_SCHEMA)
        self._phones = PhonenumbersZones()
        self.learned: list[tuple[str | None, str | None, str, str, str]] = []

    def of(self, borrower_ids: pl.Series) -> pl.DataFrame:
        """The phone, zones and day zone of the borrowers asked for (REACH_SCHEMA)."""
        wanted = pl.DataFrame({"borrower_id": borrower_ids.unique()})
        rows = self._borrowers.join(wanted, on="borrower_id", how="semi")
        found = rows.join(self._known, on=list(ZONE_KEYS), how="left", nulls_equal=True)
        missing = found.filter(pl.col("zones").is_null()).select(ZONE_KEYS).unique()
        if missing.height:
            made = []
            for phone, recorded, default in missing.iter_rows():
                own = self._phones.zones(phone, default, recorded)
                day = own[0] if len(own) == 1 else default
                made.append((phone, recorded, default, ZONE_SEPARATOR.join(own), day))
            self.learned += made
            more = pl.DataFrame(made, schema=ZONES_SCHEMA, orient="row")
            self._known = pl.concat([self._known, more])
            found = rows.join(self._known, on=list(ZONE_KEYS), how="left", nulls_equal=True)
        return found.select(list(REACH_SCHEMA)).cast(REACH_SCHEMA)


def people_from_frames(
    borrowers: pl.DataFrame,
    attempts: pl.DataFrame,
    holds: pl.DataFrame,
    opt_outs: pl.DataFrame,
    known_zones: pl.DataFrame | None = None,
) -> People:
    """People from frames: borrowers (borrower_id, phone, timezone, default_zone), attempts
    (ordered by time), holds and opt-outs; `known_zones` as PhoneReach takes them."""
    return People.of_frames(PhoneReach(borrowers, known_zones), attempts, holds, opt_outs)


class KeyedRows(Mapping[str, list[V]]):
    """A frame's rows grouped by a key column, each group made into values when first asked."""

    def __init__(
        self, frame: pl.DataFrame, key: str, columns: Sequence[str], make: Callable[..., V]
    ) -> None:
        self._frame, self._key, self._columns, self._make = frame, key, list(columns), make
        self._index: dict[str, tuple[int, int]] | None = None
        self._values: list[list[Any]] = []
        self._made: dict[str, list[V]] = {}

    def _build(self) -> dict[str, tuple[int, int]]:
        """Sort once by key (stable, so the frame's order holds within a key) and index runs."""
        frame = self._frame.sort(self._key, maintain_order=True)
        runs = (
            frame.select(self._key)
            .with_row_index("start")
            .group_by(self._key, maintain_order=True)
            .agg(pl.col("start").first(), pl.len().alias("n"))
        )
        self._values = [frame.get_column(c).to_list() for c in self._columns]
        keys, starts, sizes = (runs.get_column(c).to_list() for c in (self._key, "start", "n"))
        return {k: (s, s + n) for k, s, n in zip(keys, starts, sizes, strict=True)}

    def __getitem__(self, key: str) -> list[V]:
        found: list[V] | None = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def get(self, key: str, default: Any = None) -> Any:
        """The key's values, else `default` (without raising: most keys have none)."""
        made = self._made.get(key)
        if made is not None:
            return made
        if self._index is None:
            self._index = self._build() if self._frame.height else {}
        span = self._index.get(key)
        if span is None:
            return default
        start, end = span
        made = [self._make(*row) for row in zip(*(v[start:end] for v in self._values), strict=True)]
        self._made[key] = made
        return made

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        if self._index is None:
            self._index = self._build()
        return iter(self._index)

    def __len__(self) -> int:
        return self._frame.get_column(self._key).n_unique()


class LoanHistory(Mapping[str, list[ActionRecord]]):
    """Per loan, what was done: its borrower's calls (with outcomes), then its done actions."""

    def __init__(self, attempts: pl.DataFrame, done: pl.DataFrame, loans: pl.DataFrame) -> None:
        calls = attempts.filter(
            (pl.col("channel") == "call") & pl.col("outcome").is_in(CALL_OUTCOMES)
        ).select("borrower_id", pl.lit("call").alias("action"), pl.col("at").dt.date(), "outcome")
        self._calls = KeyedRows(calls, "borrower_id", ["action", "at", "outcome"], ActionRecord)
        outcome = pl.coalesce(
            "outcome",
            pl.when(pl.col("status") == "done").then(pl.lit("done")).otherwise(pl.lit("failed")),
        )
        done = done.select("loan_id", "action", "planned_for", outcome.alias("outcome"))
        self._done = KeyedRows(done, "loan_id", ["action", "planned_for", "outcome"], ActionRecord)
        # Only loans whose borrower was called need their owner looked up.
        self._called = loans.join(calls.select("borrower_id").unique(), on="borrower_id",
                                  how="semi")  # fmt: skip
        self._owners: dict[str, str] | None = None

    @property
    def _owner(self) -> dict[str, str]:
        """Loan → borrower for the loans whose borrower was called (built when first asked)."""
        if self._owners is None:
            self._owners = dict(self._called.select("loan_id", "borrower_id").iter_rows())
        return self._owners

    def __getitem__(self, loan_id: str) -> list[ActionRecord]:
        found: list[ActionRecord] | None = self.get(loan_id)
        if found is None:
            raise KeyError(loan_id)
        return found

    def get(self, loan_id: str, default: Any = None) -> Any:
        """The loan's history, else `default` (without raising: most loans have none)."""
        borrower = self._owner.get(loan_id)
        calls = self._calls.get(borrower, ()) if borrower is not None else ()
        found = [*calls, *self._done.get(loan_id, ())]
        return found or default

    def __iter__(self) -> Iterator[str]:
        return iter(self._owner)

    def __len__(self) -> int:
        return len(self._owner)
