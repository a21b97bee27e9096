"""The limitation period: the actions that threaten or bring a suit, refused once the debt is
time-barred (in the us pack: 12 CFR 1006.26(b), never sue or threaten to sue on such a debt).

A debt is taken as time-barred from the day its oldest unpaid instalment (the effective due
date the DPD counts from) is `years` old: conservative for the borrower, since it ignores
whatever a state's law may count as restarting the period (a payment, an acknowledgement),
and a suit on the later instalments alone is a lawyer's decision outside the run and desk.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from arrears.domain.errors import DomainError, Term, Words
from arrears.domain.escalation import ACTIONS

MAX_YEARS = 30  # longer than any US state's period for written contracts (10-15 at most)


@dataclass(frozen=True)
class Limitation:
    """A pack's limitation rule: its period and the actions it refuses on a time-barred debt."""

    rule_id: str
    years: int
    actions: frozenset[str]
    source: str
    verified: bool

    def __post_init__(self) -> None:
        check_years(self.years, self.rule_id)
        unknown = sorted(self.actions - set(ACTIONS))
        if unknown or not self.actions:
            raise DomainError(
                f"{self.rule_id}: actions must name some of {', '.join(ACTIONS)}; got {unknown}"
            )
        if not self.source.strip():
            raise DomainError(f"{self.rule_id}: every rule cites its legal source")


def check_years(years: int, owner: str) -> None:
    """Refuse a limitation period outside 1..MAX_YEARS years."""
    if not 1 <= years <= MAX_YEARS:
        raise DomainError(
            f"{owner}: limitation years must be between 1 and {MAX_YEARS}, got {years}"
        )


def oldest_due(as_of: date, dpd: int) -> date | None:
    """The effective due date of the oldest unpaid instalment from a state's DPD (None: none
    is past due)."""
    return as_of - timedelta(days=dpd) if dpd > 0 else None


def barred_from(oldest: date, years: int) -> date:
    """The first day a debt whose oldest unpaid instalment fell due on `oldest` is time-barred:
    the same day `years` later (28 February for a 29 February; the calendar's last day if
    that is past it)."""
    if oldest.year + years > date.max.year:
        return date.max
    if (oldest.month, oldest.day) == (2, 29):
        return oldest.replace(year=oldest.year + years, day=28)
    return oldest.replace(year=oldest.year + years)


def refusal(
    limitation: Limitation, years: int, action: str, oldest: date | None, on: date
) -> Words | None:
    """Why `action` on `on` is refused as the debt is time-barred (in words a page shows in
    its reader's language: the action named from the catalogue, and the rule's source when
    the catalogue has it); None when it is not (or the rule does not govern the action).
    `years`: the product's period, else the pack's."""
    if action not in limitation.actions or oldest is None:
        return None
    barred = barred_from(oldest, years)
    if on < barred:
        return None
    values: dict[str, str | Term] = {
        "rule": limitation.rule_id,
        "since": barred.isoformat(),
        "oldest": oldest.isoformat(),
        "years": str(years),
        "action": Term(f"action:{action}", action),
        "source": Term(limitation.source, limitation.source),  # its text is its key
    }
    if limitation.verified:
        return Words(
            "{rule}: time-barred since {since} (oldest unpaid instalment due {oldest}, "
            "limitation {years} years): no {action} — {source}",
            values,
        )
    return Words(
        "{rule} (unverified): time-barred since {since} (oldest unpaid instalment due "
        "{oldest}, limitation {years} years): no {action} — {source}",
        values,
    )


@dataclass(frozen=True)
class TimeBar:
    """What decides whether a loan's debt is time-barred on a day: its pack's rule, its
    product's period, and its oldest unpaid due date that day (None: nothing past due)."""

    limitation: Limitation
    years: int
    oldest: date | None

    def since(self) -> date | None:
        """The day the debt became (or becomes) time-barred; None when nothing is past due."""
        return None if self.oldest is None else barred_from(self.oldest, self.years)

    def refusal(self, action: str, on: date) -> Words | None:
        """Why `action` on `on` is refused (None: it is not)."""
        return refusal(self.limitation, self.years, action, self.oldest, on)
