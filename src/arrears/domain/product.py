"""Products: the terms a loan inherits (grace, penalty, fees, day count, caps, allocation)."""

from dataclasses import dataclass
from fractions import Fraction

from arrears.domain.calendar import HOLIDAY_RULES
from arrears.domain.delinquency import MAX_GRACE_DAYS
from arrears.domain.errors import DomainError
from arrears.domain.limitation import check_years
from arrears.domain.money import LARGEST_AMOUNT, format_amount

JURISDICTIONS = ("cn", "us", "uk")
CAP_KINDS = ("licensed", "private", "none")
COMPONENTS = ("fees", "penalty", "interest", "principal")
DEFAULT_ALLOCATION = COMPONENTS


@dataclass(frozen=True)
class Product:
    """A product's terms, validated on construction."""

    code: str
    jurisdiction: str = "cn"
    cap: str = "licensed"
    grace_days: int = 3
    penalty_multiplier: Fraction = Fraction(3, 2)
    late_fee: int = 0
    day_count: int = 360
    holiday_rule: str = "none"
    allocation: tuple[str, ...] = DEFAULT_ALLOCATION
    strategy: str | None = None
    # The limitation period where the loan is collected (a US state's, say); None: the
    # jurisdiction pack's default ([limitation] years).
    limitation_years: int | None = None

    def __post_init__(self) -> None:
        def bad(key: str, why: str) -> DomainError:
            return DomainError(f"product {self.code!r}: {key} {why}")

        if self.jurisdiction not in JURISDICTIONS:
            raise bad("jurisdiction", f"must be one of {', '.join(JURISDICTIONS)}")
        if self.cap not in CAP_KINDS:
            raise bad("cap", f"must be one of {', '.join(CAP_KINDS)}")
        if not 0 <= self.grace_days <= MAX_GRACE_DAYS:
            raise bad("grace_days", f"must be between 0 and {MAX_GRACE_DAYS}")
        if self.penalty_multiplier < 0:
            raise bad("penalty_multiplier", "must not be negative")
        if self.late_fee < 0:
            raise bad("late_fee", "must not be negative")
        if self.late_fee > LARGEST_AMOUNT:
            raise bad("late_fee", f"must be at most {format_amount(LARGEST_AMOUNT)}")
        if self.day_count not in (360, 365):
            raise bad("day_count", "must be 360 or 365")
        if self.holiday_rule not in HOLIDAY_RULES:
            raise bad("holiday_rule", f"must be one of {', '.join(HOLIDAY_RULES)}")
        if self.limitation_years is not None:
            check_years(self.limitation_years, f"product {self.code!r}")
        if sorted(self.allocation) != sorted(COMPONENTS):
            raise bad("allocation", f"must order exactly {', '.join(COMPONENTS)}")

    def penalty_rate_for(
        self, annual_rate: Fraction, loan_penalty_rate: Fraction | None
    ) -> Fraction:
        """The loan's own penalty rate, else its contract rate times the product multiplier."""
        if loan_penalty_rate is not None:
            return loan_penalty_rate
        return annual_rate * self.penalty_multiplier
