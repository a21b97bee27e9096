"""What the contact planner knows of people, as look-ups built from frames on first use.

The planner asks about the borrowers it plans for (a few in ten of a book), so zones, attempts,
holds and action history are turned into domain values per borrower or loan when asked, not
for the whole book up front: a million phone-number look-ups would cost more than the run.
The values are the same as `run_people` builds eagerly.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import polars as pl

from arrears.adapters.phone_zones import PhonenumbersZones
from arrears.batch.contact_plan import People
from arrears.domain.contact import ContactAttempt, Hold, OptOut
from arrears.domain.escalation import ActionRecord

V = TypeVar("V")
# Contact outcomes that the escalation guards read as a call's outcome (as run_people).
CALL_OUTCOMES = ("connected", "no_answer", "busy", "refused", "failed", "sent", "delivered")
FALLBACK_ZONE = "Asia/Shanghai"


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
        """The key's values, else `default` (without raising: most borrowers have none)."""
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


class Lookup(Mapping[str, V]):
    """A key column → value column look-up, built when first asked."""

    def __init__(self, frame: pl.DataFrame, key: str, make: Callable[[pl.DataFrame], dict[str, V]]):
        self._frame, self._key, self._make = frame, key, make
        self._table: dict[str, V] | None = None

    def _get(self) -> dict[str, V]:
        if self._table is None:
            self._table = self._make(self._frame)
        return self._table

    def __getitem__(self, key: str) -> V:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return self._frame.height


class BorrowerZones(Mapping[str, tuple[tuple[str, ...], str]]):
    """Borrower → (candidate zones, day zone): the recorded zone wins, else the number's zones,
    else the pack's default; the day zone is the single candidate, else the pack's default."""

    def __init__(self, borrowers: pl.DataFrame) -> None:
        self._rows: Lookup[tuple[str, str | None, str]] = Lookup(
            borrowers, "borrower_id", _zone_inputs
        )
        self._phones = PhonenumbersZones()
        self._made: dict[str, tuple[tuple[str, ...], str]] = {}

    def __getitem__(self, borrower_id: str) -> tuple[tuple[str, ...], str]:
        found = self._made.get(borrower_id)
        if found is None:
            phone, recorded, default = self._rows[borrower_id]
            own = self._phones.zones(phone, default, recorded)
            found = self._made[borrower_id] = (own, own[0] if len(own) == 1 else default)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def _zone_inputs(frame: pl.DataFrame) -> dict[str, tuple[str, str | None, str]]:
    ids, phones, zones, defaults = (
        frame.get_column(c).to_list() for c in ("borrower_id", "phone", "timezone", "default_zone")
    )
    return dict(zip(ids, zip(phones, zones, defaults, strict=True), strict=True))


def _column(value: str) -> Callable[[pl.DataFrame], dict[str, Any]]:
    def make(frame: pl.DataFrame) -> dict[str, Any]:
        ids, values = (frame.get_column(c).to_list() for c in ("borrower_id", value))
        return dict(zip(ids, values, strict=True))

    return make


def people_from_frames(
    borrowers: pl.DataFrame, attempts: pl.DataFrame, holds: pl.DataFrame, opt_outs: pl.DataFrame
) -> People:
    """People from frames: borrowers (borrower_id, phone, timezone, default_zone), attempts
    (ordered by time), holds and opt-outs."""
    return People(
        zones=BorrowerZones(borrowers),
        phones=Lookup(borrowers, "borrower_id", _column("phone")),
        attempts=KeyedRows(
            attempts,
            "borrower_id",
            ["at", "channel", "to_phone", "contact_id", "outcome"],
            ContactAttempt,
        ),
        holds=KeyedRows(holds, "borrower_id", ["kind", "starts_on", "ends_on"], Hold),
        opt_outs=KeyedRows(opt_outs, "borrower_id", ["channel", "since"], OptOut),
    )


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
        called = loans.join(calls.select("borrower_id").unique(), on="borrower_id", how="semi")
        self._owner: Lookup[str] = Lookup(called, "loan_id", _owners)

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


def _owners(frame: pl.DataFrame) -> dict[str, str]:
    ids, owners = (frame.get_column(c).to_list() for c in ("loan_id", "borrower_id"))
    return dict(zip(ids, owners, strict=True))
