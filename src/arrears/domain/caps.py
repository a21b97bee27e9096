"""The all-in cost cap: which rate applies to a loan, and the allowance on a day."""

from dataclasses import dataclass, field
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
    # The most charges may total, as a multiple of the principal lent (None: no such limit).
    total: Fraction | None = None

    @classmethod
    def uncapped(cls) -> "CapRule":
        """No cost cap (cap = 'none')."""
        return cls("none", None, "", Words("no all-in cost cap for this product"))


# The rule id a cut under a product's own cap cites (its source is the lender's, OwnCap.source).
OWN_CAP_RULE = "product.cap"


@dataclass(frozen=True)
class OwnCap:
    """A product's own all-in cost cap, which binds where it is stricter than its pack's: a US
    state's usury limit, the UK's high-cost short-term credit cap, a lender's own policy; with
    the source a cut under it cites. `total`: the most charges may total besides, as a
    multiple of the principal lent (the UK's total cost cap, FCA CONC 5A.3.2R: 1, charges
    never above the credit provided)."""

    rate: Fraction
    source: str
    # Left out of its repr, which a stored book's fingerprint reads: an own cap without one
    # fingerprints as before (no replay of the book on the upgrade that added it).
    total: Fraction | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise DomainError(f"an own cost cap must be above zero, got {format_rate(self.rate)}")
        if not self.source.strip():
            raise DomainError("an own cost cap needs its source (the law or policy it follows)")
        if self.total is not None and self.total <= 0:
            raise DomainError(
                f"an own cap on total charges must be above zero, got {format_rate(self.total)} "
                f"of the principal lent"
            )


def cap_rule_for(
    cap_kind: str, contract_date: date, policies: dict[str, CapPolicy], lpr: LprTable,
    own: OwnCap | None = None,
) -> CapRule:  # fmt: skip
    """Resolve a product's cap kind into the rate that binds a loan signed on `contract_date`
    (`policies`: the cap kinds of the product's jurisdiction). `none` only where it defines
    none: under a pack that caps every loan it would break the cap invariant (REGULATIONS.md:
    a lender may only make a pack stricter), whoever built the product. The product's `own`
    cap binds instead where it is the lower rate on that date (strictly: on a tie the pack's
    rule is cited). An own cap on total charges only where the pack caps nothing: a cut then
    always cites the own cap, whichever of its two limits bound."""
    rule = _pack_rule(cap_kind, contract_date, policies, lpr)
    if own is not None and own.total is not None and rule.rate is not None:
        raise DomainError(
            f"an own cap on total charges needs cap 'none' (a pack that caps nothing): under "
            f"the pack's {rule.rule_id} a cut could not tell which rule bound"
        )
    if own is None or (rule.rate is not None and rule.rate <= own.rate):
        return rule
    detail = Words("{rate}/yr, the product's own cap", {"rate": format_rate(own.rate)})
    if own.total is not None:
        detail = Words(
            "{rate}/yr, the product's own cap, and charges in all at most {total} of the "
            "principal lent",
            {"rate": format_rate(own.rate), "total": format_rate(own.total)},
        )
    if rule.rate is not None:
        detail = Words(
            "{rate}/yr, the product's own cap, below the pack's {pack_rate}/yr",
            {"rate": format_rate(own.rate), "pack_rate": format_rate(rule.rate)},
        )
    return CapRule(OWN_CAP_RULE, own.rate, own.source, detail, own.total)


def _pack_rule(
    cap_kind: str, contract_date: date, policies: dict[str, CapPolicy], lpr: LprTable
) -> CapRule:
    """The rule of the pack's cap kind for a loan signed on `contract_date`."""
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


def allowance(rule: CapRule, principal_days: int, day_count: int, lent: int) -> int | None:
    """The most that charges may total: cap rate × Σ principal-days ÷ day count, floored to the
    fen, and at most the rule's total × the principal `lent`, floored too.

    Flooring is exact, not a rounding choice: charges are whole fen, so `charges ≤ x` holds
    exactly when `charges ≤ floor(x)`.
    """
    if rule.rate is None:
        return None
    by_rate = (principal_days * rule.rate.numerator) // (rule.rate.denominator * day_count)
    if rule.total is None:
        return by_rate
    return min(by_rate, lent * rule.total.numerator // rule.total.denominator)
