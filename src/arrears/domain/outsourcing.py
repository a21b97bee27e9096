"""Outsourcing: a case is placed only with an agency on the lender's published white list,
evaluated within the pack's interval (the cn pack's `[outsourcing]`: CBA 2026, GB/T
45251-2025, "evaluated at least yearly"; the lender stays responsible for what it places).
The us and uk packs have no such rule: there an agency's standing is lender policy.

"At least every N months" is counted on the calendar: an evaluation made on D holds through
the same day N months later (the month's last day when that month is shorter: 29 February
and 31 August count to 28 February), and a placement is refused from the day after. The day
is the desk's, never the clock's."""

import calendar
from dataclasses import dataclass
from datetime import date

from arrears.domain.citation import cited
from arrears.domain.errors import DomainError, Refusal, Term

MAX_MONTHS = 60  # an interval longer than five years is no "regular" evaluation


@dataclass(frozen=True)
class OutsourcingRule:
    """A pack's outsourcing rule: an agency is on the white list and was evaluated within
    `evaluation_months` before a case is placed with it, with the legal source."""

    rule_id: str
    evaluation_months: int
    source: str
    verified: bool

    def __post_init__(self) -> None:
        if not 1 <= self.evaluation_months <= MAX_MONTHS:
            raise DomainError(
                f"{self.rule_id}: evaluation_months must be between 1 and {MAX_MONTHS}, "
                f"got {self.evaluation_months}"
            )
        if not self.source.strip():
            raise DomainError(f"{self.rule_id}: every rule cites its legal source")

    @property
    def cited(self) -> str:
        """The source as a refusal cites it (labelled when the rule is not verified)."""
        return cited(self.source, self.verified)


@dataclass(frozen=True)
class Agency:
    """A collection agency: its commission on what it collects (exact decimal text), whether
    it is on the lender's white list, and the day of its last evaluation (None: never)."""

    agency_id: str
    name: str
    commission_rate: str
    listed: bool = False
    evaluated_on: date | None = None


def months_after(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > date.max.year:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def evaluation_holds_through(evaluated_on: date, months: int) -> date:
    """The last day an evaluation made on `evaluated_on` holds under an interval of months."""
    return months_after(evaluated_on, months)


class AgencyNotCleared(Refusal):
    """The outsourcing rule refuses a placement with the agency on its day."""


def check_agency(rule: OutsourcingRule | None, agency: Agency, on: date) -> None:
    """Refuse a placement on `on` with an agency the pack's rule does not clear: never
    evaluated (or not by that day), not on the white list, or last evaluated more than the
    interval before (nothing under a pack without the rule)."""
    if rule is None:
        return
    cited: dict[str, str | Term] = {
        "agency": repr(agency.agency_id),
        "name": agency.name,
        "rule": rule.rule_id,
        "source": Term(rule.cited, rule.cited),  # its text is its key
    }
    if agency.evaluated_on is None:
        raise AgencyNotCleared(
            "agency {agency} ({name}) has never been evaluated: a case is placed only with an "
            "agency evaluated in the last {months} months; record its evaluation first "
            "({rule}: {source})",
            months=str(rule.evaluation_months),
            **cited,
        )
    if agency.evaluated_on > on:
        raise AgencyNotCleared(
            "agency {agency} ({name}) was evaluated on {evaluated}, after {on}: no evaluation "
            "of it by {on} is on record ({rule}: {source})",
            evaluated=agency.evaluated_on.isoformat(),
            on=on.isoformat(),
            **cited,
        )
    if not agency.listed:
        raise AgencyNotCleared(
            "agency {agency} ({name}) is not on the lender's white list of collection "
            "agencies: no case is placed with it ({rule}: {source})",
            **cited,
        )
    if on > evaluation_holds_through(agency.evaluated_on, rule.evaluation_months):
        raise AgencyNotCleared(
            "agency {agency} ({name}) was last evaluated on {evaluated}, more than {months} "
            "months before {on}: evaluate it again before a case is placed with it "
            "({rule}: {source})",
            evaluated=agency.evaluated_on.isoformat(),
            months=str(rule.evaluation_months),
            on=on.isoformat(),
            **cited,
        )
