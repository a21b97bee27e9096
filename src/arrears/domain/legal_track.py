"""The legal track of a case: a lawyer's letter, filing, judgment, enforcement and property
preservation, with their dates, deadlines, court, case number and costs.

The main line runs lawyer's letter → filing → judgment → enforcement → closed (closing may
come at any point: a settlement ends the track; a new lawyer's letter opens a closed track
again, its earlier steps kept); property preservation (财产保全) is a side
step, possible any time after filing and before closing, as often as needed. The deadline that
follows from the law is computed, not typed, by the loan's jurisdiction's pack
(domain.legal_deadlines: in China, enforcement is applied for within 2 years of the
judgment's last day of performance, 民事诉讼法 Art. 250; the us and uk packs give none); it is
met once enforcement is applied for, and ends with the track.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from arrears.domain.errors import Refusal, Term, Terms, Words
from arrears.domain.invisible import is_blank

MAIN_LINE = ("lawyers_letter", "filing", "judgment", "enforcement")
STEPS = ("lawyers_letter", "filing", "preservation", "judgment", "enforcement", "closed")
PERFORMANCE_YEARS = 10  # a judgment's last day of performance lies within ten years of it


@dataclass(frozen=True)
class LegalStep:
    """One step on the legal track: what, on which day, its cost and what it needs."""

    step: str
    on: date
    cost: int = 0  # minor units: court fees, lawyer's fees, preservation deposit
    court: str | None = None
    case_number: str | None = None
    performance_due: date | None = None  # judgment: the last day the debtor may perform
    note: str = ""

    def __post_init__(self) -> None:
        # Kept trimmed, and one nothing of which shows is none: spaces alone named no court
        # (helper-121), nor does a zero-width space (helper-126).
        for key in ("court", "case_number"):
            given = getattr(self, key)
            kept = None if given is None or is_blank(given) else given.strip()
            object.__setattr__(self, key, kept)
        if self.step not in STEPS:
            raise Refusal(
                "legal step {step} is unknown ({steps})",
                step=repr(self.step),
                steps=Terms.of("legal:", STEPS, "or"),
            )
        if self.cost < 0:
            raise Refusal("a cost cannot be negative")
        if self.step == "filing" and not (self.court and self.case_number):
            raise Refusal("a filing names the court and the case number (案号)")
        if self.step == "judgment":
            due = self.performance_due
            if due is None or not self.on <= due <= years_after(self.on, PERFORMANCE_YEARS):
                raise Refusal(
                    "a judgment gives its last day of performance, on or after the judgment and "
                    "within {years} years of it",
                    years=str(PERFORMANCE_YEARS),
                )


def check_next(taken: Sequence[str], step: LegalStep, last_on: date | None) -> None:
    """Refuse a step that cannot follow the steps taken so far, or dated before the last."""
    allowed = next_steps(taken)
    if step.step not in allowed:
        where = (
            Words("after {steps}", {"steps": Terms.of("legal:", taken)})
            if taken
            else Words("a new legal case")
        )
        raise Refusal(
            "{step} cannot come {where}; next: {allowed}",
            step=step_term(step.step),
            where=where,
            allowed=Terms.of("legal:", allowed, "or") if allowed else Words("none"),
        )
    if last_on is not None and step.on < last_on:
        raise Refusal(
            "{step} on {on} is before the last step ({last_on})",
            step=step_term(step.step),
            on=step.on.isoformat(),
            last_on=str(last_on),
        )


def step_term(step: str) -> Term:
    """A legal step as a word of a message (named from the catalogue on a page)."""
    return Term(f"legal:{step}", step)


def next_steps(taken: Sequence[str]) -> tuple[str, ...]:
    """The steps that may come next, given those taken (in order). A closed track opens
    again with a new lawyer's letter (a settlement later defaulted on): the steps of the
    round it starts follow each other as the first round's did, and the earlier rounds stay
    on record."""
    if not taken or taken[-1] == "closed":
        return ("lawyers_letter",)
    reached = [s for s in current_round(taken) if s in MAIN_LINE]
    position = MAIN_LINE.index(reached[-1])
    following = MAIN_LINE[position + 1 : position + 2]
    side = ("preservation",) if position >= MAIN_LINE.index("filing") else ()
    return (*following, *side, "closed")


def current_round(taken: Sequence[str]) -> Sequence[str]:
    """The steps taken since the track was last opened (after its last closing, if any)."""
    closings = [n for n, name in enumerate(taken) if name == "closed"]
    return taken[closings[-1] + 1 :] if closings else taken


def reopens(taken: Sequence[str]) -> bool:
    """Whether the next step opens a closed track again."""
    return bool(taken) and taken[-1] == "closed"


def referral_after(taken: Sequence[str], step: LegalStep) -> bool | None:
    """What `step` does to the loan's `legal` flag (domain.flags): opening the track, or
    opening it again, refers the loan to legal (True), closing it withdraws the referral
    (False); others leave it."""
    if not taken or reopens(taken):
        return True
    return False if step.step == "closed" else None


def years_after(day: date, years: int) -> date:
    """The same day `years` later (28 February for a 29 February; the calendar's last day
    if that is past it)."""
    if day.year + years > date.max.year:
        return date.max
    if (day.month, day.day) == (2, 29):
        return day.replace(year=day.year + years, day=28)
    return day.replace(year=day.year + years)
