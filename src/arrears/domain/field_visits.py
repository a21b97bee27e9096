"""Field visits (外访): requested on a case, approved by a supervisor once the gentler steps
are on record, made by two collectors, and recorded.

CBA 2026 Art. 22 and NIFA 2018 Art. 21 (REGULATIONS.md): at least two collectors, their
identification shown, audio/video recorded, no entry without the occupant's consent. The
ladder's guard for `field_visit_request` names the gentler steps (domain.escalation).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from arrears.domain.errors import Refusal, Term, Terms, Words

COLLECTORS = 2  # CBA 2026 Art. 22; NIFA 2018 Art. 21: at least two collectors go together
VISIT_OUTCOMES = ("connected", "no_answer", "refused")
SOURCE = "CBA 2026 Art. 22; NIFA 2018 Art. 21"
CITED = Term(SOURCE, SOURCE)  # in a refusal: its text is its catalogue key
# A visit is planned within a season: a date further out is a typo, not a plan, and by then
# the case will have moved on (the guard's steps were judged today).
PLAN_AHEAD = timedelta(days=90)
# Lender policy: a visit is made on its planned day or in the week after it. Later, what its
# guard found and its approval judged (the calls of the last 60 days, the loan still owing)
# is stale: the visit lapses and is asked for again. A lapsed visit no longer counts as open.
VISIT_DAYS = timedelta(days=7)
# A visit asked for or approved, not yet made nor lapsed: a case has at most one.
OPEN = ("requested", "approved")


def last_visit_day(planned_on: date) -> date:
    """The last day a visit planned for `planned_on` may be made (VISIT_DAYS, lender policy)."""
    return planned_on + VISIT_DAYS


def lapsed(planned_on: date, today: date) -> bool:
    """Whether a visit planned for `planned_on` can no longer be made on the desk's `today`."""
    return today > last_visit_day(planned_on)


def check_visit_day(planned_on: date, day: date) -> None:
    """Refuse a visit made before its planned day or after its last day (VISIT_DAYS)."""
    if not planned_on <= day <= last_visit_day(planned_on):
        raise Refusal(
            "a visit planned for {planned_on} is made from that day until {last} (lender "
            "policy: {days} days), not on {day}; ask for a visit again",
            planned_on=planned_on.isoformat(),
            last=last_visit_day(planned_on).isoformat(),
            days=str(VISIT_DAYS.days),
            day=day.isoformat(),
        )


@dataclass(frozen=True)
class VisitRequest:
    """Who asks to visit a case, who will go, when and why."""

    loan_id: str
    requested_by: str
    collectors: tuple[str, ...]
    planned_on: date
    reason: str

    def __post_init__(self) -> None:
        if len(set(self.collectors)) < COLLECTORS:
            raise Refusal(
                "a field visit names {n} different collectors ({source}); named: {named}",
                n=str(COLLECTORS),
                source=CITED,
                named=", ".join(self.collectors) if self.collectors else Words("none"),
            )
        if not self.reason.strip():
            raise Refusal("a field visit request says why the gentler means are not enough")


def check_planned_on(planned_on: date, today: date) -> None:
    """Refuse a visit planned before the desk's today or more than PLAN_AHEAD after it."""
    if planned_on < today:
        raise Refusal(
            "planned_on: a field visit is planned from today ({today}), not {planned_on}",
            today=today.isoformat(),
            planned_on=planned_on.isoformat(),
        )
    if planned_on > today + PLAN_AHEAD:
        raise Refusal(
            "planned_on: a field visit is planned at most {days} days ahead (until {last}), "
            "not {planned_on}",
            days=str(PLAN_AHEAD.days),
            last=(today + PLAN_AHEAD).isoformat(),
            planned_on=planned_on.isoformat(),
        )


@dataclass(frozen=True)
class VisitReport:
    """What happened on a visit, as the collectors report it."""

    visited_at: datetime
    outcome: str
    recording: str  # reference of the audio/video recording of the whole visit
    identification_shown: bool
    entered_with_consent: bool | None  # None: nobody entered
    note: str = ""

    def __post_init__(self) -> None:
        if self.visited_at.tzinfo is None:
            raise Refusal("the visit's instant needs its time zone")
        if self.outcome not in VISIT_OUTCOMES:
            raise Refusal(
                "a visit ends {known}; not {outcome}",
                known=Terms.of("outcome:", VISIT_OUTCOMES, "or"),
                outcome=repr(self.outcome),
            )
        if not self.recording.strip():
            raise Refusal(
                "a field visit is recorded on audio or video ({source}): give the recording's "
                "reference",
                source=CITED,
            )
        if not self.identification_shown:
            raise Refusal(
                "collectors show their identification on a visit ({source})", source=CITED
            )
        if self.entered_with_consent is False:
            raise Refusal("no entry without the occupant's consent ({source})", source=CITED)
