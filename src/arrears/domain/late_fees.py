"""A product's limit on its late fees in all: the late fee a loan is asked on crossing grace
is at most what the limit leaves of it."""

from dataclasses import dataclass

from arrears.domain.errors import DomainError
from arrears.domain.invisible import is_blank
from arrears.domain.money import LARGEST_AMOUNT, format_amount


@dataclass(frozen=True)
class LateFeeLimit:
    """The most a loan's late fees may add up to (minor units), with the law or policy it
    follows: the UK's default cap for high-cost short-term credit keeps default fees to £15 in
    all (FCA CONC 5A.3.18R), so `total` 1500 for such a product."""

    total: int
    source: str

    def __post_init__(self) -> None:
        if not 0 < self.total <= LARGEST_AMOUNT:
            raise DomainError(
                f"a limit on late fees must be above 0.00 and at most "
                f"{format_amount(LARGEST_AMOUNT)}, got {format_amount(self.total)}"
            )
        if is_blank(self.source):
            raise DomainError("a limit on late fees needs its source (the law or policy)")

    def asked(self, fee: int, charged: int) -> int:
        """The late fee asked of a line crossing grace (late_fee_asked)."""
        return late_fee_asked(fee, self.total, charged)


def late_fee_asked(fee: int, total: int, charged: int) -> int:
    """The late fee asked of a line crossing grace: the product's `fee`, at most what a limit
    of `total` leaves after the late fees `charged` on the loan so far (the ledger kernel's
    formula too, compiled in)."""
    return max(min(fee, total - charged), 0)
