"""The limitation period: the actions that threaten or bring a suit, refused once the debt is
time-barred (in the us pack: 12 CFR 1006.26(b), never sue or threaten to sue on such a debt);
or, where the law leaves it to the debtor to plead (cn: 民法典 Art. 188-195), the day it runs
out shown as information (LimitationPeriod, period_run), refusing nothing.

A debt is taken as time-barred from the day its oldest unpaid instalment (the effective due
date the DPD counts from) is `years` old: conservative for the borrower, since it ignores
whatever a state's law may count as restarting the period (a payment, an acknowledgement),
and a suit on the later instalments alone is a lawyer's decision outside the run and desk.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from arrears.domain.errors import DomainError, Term, Words
from arrears.domain.escalation import ACTIONS, DONE_OUTCOMES, ActionRecord

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


# The recorded steps that interrupt a limitation period that the court leaves to the debtor
# (民法典 Art. 195: a demand for performance, the debtor agreeing to perform, a suit; the
# period runs afresh from the interruption): the written demands sent and the calls that
# reached the borrower. Payments and promises to pay (the debtor's agreement) and filings are
# given apart. Unanswered calls and plain reminders are not counted: a demand that did not
# reach the debtor does not interrupt, so the date shown is never later than the law's.
INTERRUPTING = {
    "formal_notice": DONE_OUTCOMES, "letter": DONE_OUTCOMES, "lawyers_letter": DONE_OUTCOMES,
    "call": ("connected",),
}  # fmt: skip
LAST_DUE = "last_due"  # the period runs from the last instalment's due date (Art. 189)


@dataclass(frozen=True)
class LimitationPeriod:
    """A pack's limitation period shown as information only (it refuses nothing): the
    debtor's defence, which a court does not apply of its own motion (cn: 民法典 Art. 193)."""

    rule_id: str
    years: int
    source: str
    verified: bool

    def __post_init__(self) -> None:
        check_years(self.years, self.rule_id)
        if not self.source.strip():
            raise DomainError(f"{self.rule_id}: every rule cites its legal source")


@dataclass(frozen=True)
class PeriodRun:
    """Where a loan's limitation period stands: the day it runs from, what started it (an
    interrupting action, `payment`, `promise`, `filing`, or LAST_DUE), and the day it runs
    out: its last day, the same day `years` later (民法典 Art. 201-202: the first day is not
    counted and the period ends on the corresponding day, the month's end when there is none;
    a last day that is a holiday moves on, Art. 203, not counted here: the day shown is never
    later than the law's). From the day after, the debtor may plead it."""

    runs_from: date
    because: str
    runs_out: date


def period_run(
    period: LimitationPeriod,
    last_due: date,
    records: Sequence[ActionRecord],
    others: Sequence[tuple[date, str]],
    today: date,
) -> PeriodRun:
    """The period as it stands on `today`: from the last instalment's due date (民法典 Art.
    189: a debt paid in instalments), or from the latest interruption on record by then
    (Art. 195): an INTERRUPTING action, or one of `others` (day, what: payment, promise,
    filing); it runs out `years` later (Art. 188)."""
    found = [(r.on, r.action) for r in records
             if r.outcome in INTERRUPTING.get(r.action, ()) and r.on <= today]  # fmt: skip
    found += [(day, what) for day, what in others if day <= today]
    runs_from, because = max([(last_due, LAST_DUE), *found], key=lambda event: event[0])
    return PeriodRun(runs_from, because, barred_from(runs_from, period.years))
