"""A borrower's dispute of a credit-bureau record (征信异议): the day it must be answered by
under the pack's rule, and whether it was (docs/BUREAU.md, "Disputes")."""

from dataclasses import dataclass
from datetime import date, timedelta

from arrears.domain.errors import DomainError, Refusal, Term, Terms

# What an answer finds: the record was wrong and is corrected (the month exported again), or
# it stands.
OUTCOMES = ("corrected", "upheld")
OPEN, OVERDUE, ANSWERED, ANSWERED_LATE = "open", "overdue", "answered", "answered_late"
# A bound against a mistyped pack: the deadlines known are 20 days (China) to FCRA's 45 at
# the longest (15 USC 1681i(a)(1)).
MAX_DAYS = 90


@dataclass(frozen=True)
class DisputeRule:
    """A pack's deadline for answering a dispute of a furnished record: `days` after the day
    it was received, with the legal source."""

    rule_id: str
    days: int
    source: str
    verified: bool

    def __post_init__(self) -> None:
        if not 1 <= self.days <= MAX_DAYS:
            raise DomainError(f"{self.rule_id}: days must be between 1 and {MAX_DAYS}, "
                              f"got {self.days}")  # fmt: skip
        if not self.source.strip():
            raise DomainError(f"{self.rule_id}: every rule cites its legal source")

    def answer_by(self, received_on: date) -> date:
        """The last day a dispute received on `received_on` may be answered on: the day of
        receipt not counted (自收到异议之日起20日内; 民法典 第二百零一条), nor a last day that is
        a public holiday moved to the next working day (第二百零三条): never later than the
        law's last day."""
        return received_on + timedelta(days=self.days)


@dataclass(frozen=True)
class Dispute:
    """A dispute of a loan's record of a month: received, due, and its answer if any."""

    dispute_id: int
    loan_id: str
    month: date  # the disputed record's month (its first day)
    received_on: date
    due_on: date
    jurisdiction: str  # the pack the disputed record was furnished under
    rule: str  # that pack's rule its deadline is from
    reason: str
    answered_on: date | None = None
    outcome: str | None = None
    answer: str | None = None

    def state(self, today: date) -> str:
        """open (still within its days), overdue (not answered and past its last day),
        answered, or answered_late."""
        if self.answered_on is None:
            return OVERDUE if today > self.due_on else OPEN
        return ANSWERED_LATE if self.answered_on > self.due_on else ANSWERED


def refuse_receipt(received_on: date, month_end: date, today: date) -> None:
    """Refuse a dispute said to be received after today, or before the record of the month
    ending on `month_end` could exist (it is furnished once the month is over)."""
    if not month_end < received_on <= today:
        raise Refusal(
            "a dispute of a record of a month ending on {month_end} is received after it and "
            "by today ({today}), not on {received_on}",
            month_end=month_end.isoformat(),
            today=today.isoformat(),
            received_on=received_on.isoformat(),
        )


def refuse_answer(dispute: Dispute, outcome: str, answered_on: date, today: date) -> None:
    """Refuse an answer to a dispute answered already, of an outcome not known, or dated
    before the dispute was received or after today."""
    if dispute.answered_on is not None:
        raise Refusal(
            "dispute {dispute} was answered on {on} already ({outcome})",
            dispute=str(dispute.dispute_id),
            on=dispute.answered_on.isoformat(),
            outcome=Term(f"dispute:{dispute.outcome}", str(dispute.outcome)),
        )
    if outcome not in OUTCOMES:
        raise Refusal("an answer finds the record {known}, not {outcome}",
                      known=Terms.of("dispute:", OUTCOMES, "or", " or "),
                      outcome=repr(outcome))  # fmt: skip
    if not dispute.received_on <= answered_on <= today:
        raise Refusal(
            "dispute {dispute} is answered on a day from its receipt ({received_on}) to today "
            "({today}), not {on}",
            dispute=str(dispute.dispute_id),
            received_on=dispute.received_on.isoformat(),
            today=today.isoformat(),
            on=answered_on.isoformat(),
        )
