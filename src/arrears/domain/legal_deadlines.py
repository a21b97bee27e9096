"""The deadlines the legal track starts, each a rule of the loan's jurisdiction's pack: in
China, enforcement is applied for within two years of a judgment's last day of performance
(民事诉讼法 Art. 250; `[deadlines.enforcement]` in packs/cn.toml). A deadline is met once
enforcement is applied for, and ends with the track."""

from dataclasses import dataclass
from datetime import date

from arrears.domain.citation import cited
from arrears.domain.errors import DomainError
from arrears.domain.legal_track import LegalStep, years_after

# The steps after which no deadline runs: enforcement applied for, the track closed.
ENDS_DEADLINE = frozenset({"enforcement", "closed"})
ENFORCEMENT = "enforcement_application"  # what the deadline a judgment starts is for
MAX_DEADLINE_YEARS = 30


@dataclass(frozen=True)
class DeadlineRule:
    """A pack's deadline that a judgment starts: apply for enforcement within `years` of the
    judgment's last day of performance, with the legal source."""

    rule_id: str
    years: int
    source: str
    verified: bool

    def __post_init__(self) -> None:
        if not 1 <= self.years <= MAX_DEADLINE_YEARS:
            raise DomainError(
                f"{self.rule_id}: years must be between 1 and {MAX_DEADLINE_YEARS}, "
                f"got {self.years}"
            )
        if not self.source.strip():
            raise DomainError(f"{self.rule_id}: every rule cites its legal source")


@dataclass(frozen=True)
class Deadline:
    """A deadline on the track: what for (a catalogue key, `deadline:<what>`), its day, and
    the rule and source it follows from."""

    what: str
    day: date
    rule_id: str
    source: str


def deadline_after(step: LegalStep, rule: DeadlineRule | None) -> Deadline | None:
    """The legal deadline a judgment starts under the loan's pack (`rule`; None: the pack
    sets none): applying for enforcement by its day."""
    if rule is None or step.step != "judgment" or step.performance_due is None:
        return None
    day = years_after(step.performance_due, rule.years)
    return Deadline(ENFORCEMENT, day, rule.rule_id, cited(rule.source, rule.verified))
