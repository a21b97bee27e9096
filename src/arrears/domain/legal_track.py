"""The legal track of a case: a lawyer's letter, filing, judgment, enforcement and property
preservation, with their dates, deadlines, court, case number and costs.

The deadline that follows from the law is computed, not typed: enforcement is applied for
within 2 years of the judgment's last day of performance (民事诉讼法 Art. 250).
"""

from dataclasses import dataclass
from datetime import date

from arrears.domain.errors import DomainError

ENFORCEMENT_YEARS = 2  # 民事诉讼法 (2023) Art. 250: apply for enforcement within two years

# Steps in the order a case can take them; preservation may come at any point after filing.
STEPS = ("lawyers_letter", "filing", "preservation", "judgment", "enforcement", "closed")
NEXT = {
    "lawyers_letter": ("filing", "closed"),
    "filing": ("preservation", "judgment", "closed"),
    "preservation": ("judgment", "enforcement", "closed"),
    "judgment": ("enforcement", "preservation", "closed"),
    "enforcement": ("preservation", "closed"),
    "closed": (),
}


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
        if self.step not in STEPS:
            raise DomainError(f"legal step {self.step!r} is unknown ({', '.join(STEPS)})")
        if self.cost < 0:
            raise DomainError("a cost cannot be negative")
        if self.step == "filing" and not (self.court and self.case_number):
            raise DomainError("a filing names the court and the case number (案号)")
        if self.step == "judgment" and self.performance_due is None:
            raise DomainError("a judgment gives the last day of performance")


def check_next(current: str | None, step: LegalStep, last_on: date | None) -> None:
    """Refuse a step that cannot follow the current one, or dated before it."""
    allowed = ("lawyers_letter",) if current is None else NEXT[current]
    if step.step not in allowed:
        where = "a new legal case" if current is None else f"after {current}"
        raise DomainError(f"{step.step} cannot come {where}; next: {', '.join(allowed) or 'none'}")
    if last_on is not None and step.on < last_on:
        raise DomainError(f"{step.step} on {step.on} is before the last step ({last_on})")


def deadline_after(step: LegalStep) -> tuple[str, date] | None:
    """The legal deadline a judgment starts: applying for enforcement (what, and its day)."""
    if step.step != "judgment" or step.performance_due is None:
        return None
    due = step.performance_due
    years = due.year + ENFORCEMENT_YEARS
    until = (
        due.replace(year=years, day=28)
        if (due.month, due.day) == (2, 29)
        else due.replace(year=years)
    )
    return "enforcement application (民事诉讼法 Art. 250)", until
