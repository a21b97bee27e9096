"""The all-in cost cap: which rate applies to a loan, and the allowance on a day."""

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from arrears.domain.errors import DomainError, Words
from arrears.domain.lpr import LprTable
from arrears.domain.rates import format_rate


@dataclass(frozen=True)
class CapPolicy:
    """A jurisdiction's cap kinds: a fixed rate or a multiple of the one-year LPR, with sources."""

    rule_id: str
    source: str
    rate: Fraction | None = None
    lpr_multiple: Fraction | None = None


@dataclass(frozen=True)
class CapRule:
    """The cap that binds one loan: its annual rate (None = uncapped), legal source, and how
    the rate follows, in words (a page shows them in its reader's language)."""

    rule_id: str
    rate: Fraction | None
    source: str
    detail: Words

    @classmethod
    def uncapped(cls) -> "CapRule":
        """No cost cap (cap = 'none')."""
        return cls("none", None, "", Words("no all-in cost cap for this product"))


def cap_rule_for(
    cap_kind: str, contract_date: date, policies: dict[str, CapPolicy], lpr: LprTable
) -> CapRule:
    """Resolve a product's cap kind into the rate that binds a loan signed on `contract_date`
    (`policies`: the cap kinds of the product's jurisdiction). `none` only where it defines
    none: under a pack that caps every loan it would break the cap invariant (REGULATIONS.md:
    a lender may only make a pack stricter), whoever built the product."""
    if cap_kind == "none":
        if policies:
            raise DomainError(
                f"cap 'none' is looser than the jurisdiction's rule pack allows: it caps every "
                f"loan ({', '.join(sorted(policies))})"
            )
        return CapRule.uncapped()
    policy = policies.get(cap_kind)
    if policy is None:
        raise DomainError(f"cap {cap_kind!r} is not defined by the jurisdiction's rule pack")
    if policy.rate is not None:
        return CapRule(policy.rule_id, policy.rate, policy.source, a_year(policy.rate))
    if policy.lpr_multiple is None:
        raise DomainError(f"cap {cap_kind!r} has neither a rate nor an LPR multiple")
    fixing = lpr.fixing_on(contract_date)
    rate = policy.lpr_multiple * fixing.one_year
    detail = Words(
        "{multiple} × one-year LPR {lpr} (published {published}, in force on the contract date "
        "{signed}) = {rate}/yr",
        {
            "multiple": str(policy.lpr_multiple),
            "lpr": format_rate(fixing.one_year),
            "published": fixing.published_on.isoformat(),
            "signed": contract_date.isoformat(),
            "rate": format_rate(rate),
        },
    )
    return CapRule(policy.rule_id, rate, f"{policy.source}; LPR: {fixing.source}", detail)


def a_year(rate: Fraction) -> Words:
    """An annual rate in words: '24%/yr'."""
    return Words("{rate}/yr", {"rate": format_rate(rate)})


def allowance(rule: CapRule, principal_days: int, day_count: int) -> int | None:
    """The most that charges may total: cap rate × Σ principal-days ÷ day count, floored to the fen.

    Flooring is exact, not a rounding choice: charges are whole fen, so `charges ≤ x` holds
    exactly when `charges ≤ floor(x)`.
    """
    if rule.rate is None:
        return None
    return (principal_days * rule.rate.numerator) // (rule.rate.denominator * day_count)
