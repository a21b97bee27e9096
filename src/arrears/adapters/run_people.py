"""Build what the contact planner knows of people (zones, history, holds) from frames."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime

import polars as pl

from arrears.adapters.phone_zones import PhonenumbersZones
from arrears.batch.contact_plan import People
from arrears.domain.contact import ContactAttempt, Hold, OptOut
from arrears.domain.escalation import ActionRecord

# Contact outcomes that the escalation guards read as an action's outcome.
_ACTION_OUTCOMES = {"connected", "no_answer", "busy", "refused", "failed", "sent", "delivered"}


def people_of(
    borrowers: pl.DataFrame,
    attempts: pl.DataFrame,
    holds: pl.DataFrame,
    opt_outs: pl.DataFrame,
    default_zones: Mapping[str, str],
) -> People:
    """People from frames: borrowers (borrower_id, phone, timezone), attempts, holds, opt-outs.

    `default_zones` maps a borrower to the zone their pack assumes when nothing else says.
    """
    phones = PhonenumbersZones()
    zones: dict[str, tuple[tuple[str, ...], str]] = {}
    for borrower_id, phone, recorded in borrowers.select(
        "borrower_id", "phone", "timezone"
    ).iter_rows():
        default = default_zones.get(borrower_id, "Asia/Shanghai")
        own = phones.zones(phone, default, recorded)
        zones[borrower_id] = (own, own[0] if len(own) == 1 else default)
    return People(
        zones=zones,
        phones=dict(borrowers.select("borrower_id", "phone").iter_rows()),
        attempts=_attempts(attempts),
        holds=_grouped(holds, lambda r: Hold(r["kind"], r["starts_on"], r["ends_on"])),
        opt_outs=_grouped(opt_outs, lambda r: OptOut(r["channel"], r["since"])),
    )


def _attempts(frame: pl.DataFrame) -> dict[str, list[ContactAttempt]]:
    return _grouped(
        frame,
        lambda r: ContactAttempt(
            r["at"], r["channel"], r["to_phone"], r["contact_id"], r["outcome"]
        ),
    )


def _grouped(frame: pl.DataFrame, make: object) -> dict[str, list]:  # type: ignore[type-arg]
    out: defaultdict[str, list] = defaultdict(list)  # type: ignore[type-arg]
    for row in frame.iter_rows(named=True):
        out[row["borrower_id"]].append(make(row))  # type: ignore[operator]
    return dict(out)


def action_history(
    attempts: pl.DataFrame, done: pl.DataFrame, loans: pl.DataFrame
) -> dict[str, list[ActionRecord]]:
    """Per loan, what was done: the borrower's calls (with outcomes) and completed plan items."""
    history: defaultdict[str, list[ActionRecord]] = defaultdict(list)
    calls: defaultdict[str, list[ActionRecord]] = defaultdict(list)
    for row in attempts.filter(pl.col("channel") == "call").iter_rows(named=True):
        if row["outcome"] in _ACTION_OUTCOMES:
            at: datetime = row["at"]
            calls[row["borrower_id"]].append(ActionRecord("call", at.date(), row["outcome"]))
    for loan_id, borrower_id in loans.select("loan_id", "borrower_id").iter_rows():
        if borrower_id in calls:
            history[loan_id].extend(calls[borrower_id])
    for row in done.iter_rows(named=True):
        outcome = row["outcome"] or ("done" if row["status"] == "done" else "failed")
        day: date = row["planned_for"]
        history[row["loan_id"]].append(ActionRecord(row["action"], day, outcome))
    return dict(history)
