"""Use case: the supervisors' dashboard: where the scope's cases are, what was collected,
by whom, what the rules refused, what the content lint flagged in what collectors wrote, and
how buckets roll month over month."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Protocol

from arrears.domain.access import Permission, Principal, Scope, require, scope_of
from arrears.domain.delinquency import BUCKETS
from arrears.domain.flow_rates import FlowRate, Rolls, flow_rates

WINDOW_DAYS = 30
FLOW_MONTHS = 12  # roll rates of the last complete months shown
FLAGGED_SHOWN = 20  # the newest flagged texts listed for the compliance officer to read
# Money by the loans' currency (→ minor units): amounts in two currencies are never added.
Amounts = Mapping[str, int]


@dataclass(frozen=True)
class FlaggedText:
    """A text written on a case that the content lint flagged: what it was (a contact's
    note, a case note, a visit report, a hold's note, a visit's reason, an approver's note on
    a visit or a proposal, a flag's reason), when, on which case, and the rules that found
    it."""

    # contact, note, visit, hold, visit_request, visit_decision, proposal_decision, flag
    written_in: str
    at: datetime
    loan_id: str  # a contact's or a hold's: the first of the borrower's loans in the scope
    borrower_id: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Figures:
    """What the store counts for a scope."""

    buckets: Mapping[str, tuple[int, Amounts]]  # bucket → (cases, past due)
    stages: Mapping[str, int]
    promises: Mapping[str, int]  # status → count
    collected_by_collector: Mapping[str, Amounts]  # collector ("" = none credited)
    # agency → the commission rate of the placements paid into → collected: a placement keeps
    # the rate it was made at, whatever the agency's rate is since.
    collected_by_agency: Mapping[str, Mapping[str, Amounts]]
    blocked_by_rule: Mapping[str, int]
    rolls: Sequence[tuple[date, Rolls]] = ()  # month end → how loans moved there
    # Texts written since the window's first day (UTC; after its last day too: the desk
    # writes every day) that the content lint flagged, by rule (a text counts once for each
    # rule that found something in it), and the newest of them.
    flagged_by_rule: Mapping[str, int] = field(default_factory=dict)
    flagged: Sequence[FlaggedText] = ()
    # Contacts made though a rule forbade them (recorded allowed = false: at the desk, by
    # `contact log`), by each rule broken, from `since` up to now.
    violations_by_rule: Mapping[str, int] = field(default_factory=dict)


class DashboardStore(Protocol):
    """Counts and sums within a scope."""

    def figures(self, scope: Scope, since: date, until: date) -> Figures:
        """The scope's figures; payments and refusals dated since..until, flagged texts
        written and contacts made against the rules since `since`."""
        ...


@dataclass(frozen=True)
class Dashboard:
    """The dashboard's figures, ready to show."""

    since: date
    until: date
    figures: Figures
    kept_rate: Fraction | None
    commissions: Mapping[str, Mapping[str, Amounts]]  # agency → rate → commission owed
    flows: list[FlowRate]


def dashboard(store: DashboardStore, who: Principal, as_of: date) -> Dashboard:
    """The principal's dashboard over the last WINDOW_DAYS days up to as_of (the book's
    last run day, as the other pages date their figures)."""
    require(who, Permission.DASHBOARD)
    since = as_of - timedelta(days=WINDOW_DAYS - 1)
    figures = store.figures(scope_of(who), since, as_of)
    judged = figures.promises.get("kept", 0) + figures.promises.get("broken", 0)
    kept = Fraction(figures.promises.get("kept", 0), judged) if judged else None
    commissions = {
        agency: {rate: commission(rate, collected) for rate, collected in by_rate.items()}
        for agency, by_rate in figures.collected_by_agency.items()
    }
    ordered = dict(sorted(figures.buckets.items(), key=lambda kv: BUCKETS.index(kv[0])))
    return Dashboard(since, as_of, replace(figures, buckets=ordered), kept, commissions,
                     flow_rates(figures.rolls))  # fmt: skip


def commission(rate: str, collected: Amounts) -> Amounts:
    """The commission at `rate` (an exact share) on what was collected at it, per currency:
    to the fen, half up, once per agency, rate and currency (a documented rounding point)."""
    share = Decimal(rate)
    return {
        currency: int((Decimal(total) * share).quantize(Decimal(1), ROUND_HALF_UP))
        for currency, total in collected.items()
    }


def totals(by_rate: Mapping[str, Amounts]) -> Amounts:
    """Amounts at several rates added up, per currency."""
    added: dict[str, int] = {}
    for amounts in by_rate.values():
        for currency, total in amounts.items():
            added[currency] = added.get(currency, 0) + total
    return added
