"""Products: the terms a loan inherits (grace, penalty, fees, day count, caps, allocation)."""

from dataclasses import dataclass, field
from fractions import Fraction

from arrears.domain.calendar import HOLIDAY_RULES
from arrears.domain.caps import OwnCap
from arrears.domain.contact import HOLD_KINDS
from arrears.domain.delinquency import MAX_GRACE_DAYS
from arrears.domain.errors import DomainError
from arrears.domain.late_fees import LateFeeLimit
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
    # The hold kinds that stop the loan's clocks (domain/pauses.py; docs/MONEY_RULES.md,
    # "Pauses"): days past due (`pause_ageing`), penalty and the grace of the charges
    # (`pause_charges`). None by default: a hold then stops contacts only. Left out of the
    # repr, which fingerprints the rules a Parquet book's state was computed under: a product
    # that pauses nothing fingerprints as it did before these were added.
    pause_ageing: tuple[str, ...] = field(default=(), repr=False)
    pause_charges: tuple[str, ...] = field(default=(), repr=False)
    # The product's own cost cap, binding where it is below the pack's (domain/caps.py). Left
    # out of the repr for the same reason (rules_fingerprint adds it where set).
    own_cap: OwnCap | None = field(default=None, repr=False)
    # The most the loan's late fees may add up to (domain/late_fees.py); left out of the repr
    # for the same reason.
    late_fee_limit: LateFeeLimit | None = field(default=None, repr=False)

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
        if self.late_fee_limit is not None and self.late_fee == 0:
            # It would limit nothing, unseen: a product charging no late fee has none to limit.
            raise bad("late_fee_total", "limits late fees, but the product charges none")
        if self.day_count not in (360, 365):
            raise bad("day_count", "must be 360 or 365")
        if self.holiday_rule not in HOLIDAY_RULES:
            raise bad("holiday_rule", f"must be one of {', '.join(HOLIDAY_RULES)}")
        if self.limitation_years is not None:
            check_years(self.limitation_years, f"product {self.code!r}")
        if sorted(self.allocation) != sorted(COMPONENTS):
            raise bad("allocation", f"must order exactly {', '.join(COMPONENTS)}")
        for key, kinds in (("pause_ageing", self.pause_ageing),
                           ("pause_charges", self.pause_charges)):  # fmt: skip
            unknown = [kind for kind in kinds if kind not in HOLD_KINDS]
            if unknown:
                raise bad(key, f"names {unknown[0]!r}: hold kinds are {', '.join(HOLD_KINDS)}")

    @property
    def pauses_anything(self) -> bool:
        """Whether some hold kind stops one of the product's clocks."""
        return bool(self.pause_ageing or self.pause_charges)

    def penalty_rate_for(
        self, annual_rate: Fraction, loan_penalty_rate: Fraction | None
    ) -> Fraction:
        """The loan's own penalty rate, else its contract rate times the product multiplier."""
        if loan_penalty_rate is not None:
            return loan_penalty_rate
        return annual_rate * self.penalty_multiplier
