"""Loan terms as integer columns (exact in Int64) for the frames; the loans they cannot price."""

from datetime import date
from fractions import Fraction
from typing import Any

import polars as pl

from arrears.domain.calendar import effective_due_date
from arrears.domain.caps import OWN_CAP_RULE, cap_rule_for
from arrears.domain.day_range import MAX_DAYS
from arrears.domain.errors import DomainError
from arrears.domain.product import COMPONENTS
from arrears.domain.rates import format_rate, parse_rate
from arrears.domain.terms import Pricing, Terms

# Int64 headroom: the largest intermediate values (a day's penalty and the cap's allowance,
# numerators and divisors) must stay below this, or the loan cannot be priced.
INT64_SAFE = 2**62
# The cap's allowance multiplies a principal by its days outstanding: at most every day from
# the first a contract may be signed on to the last a run may reach (day_range: 1900-2199,
# 109,573 days with both ends). It was 40,000 (109 years): a loan at the largest principal
# allowed run past them wrapped its allowance negative, and every charge was cut.
_CAP_DAYS = MAX_DAYS + 1
# A rate of up to 6 decimals, times a product's multiplier, has a penalty denominator below
# this: a penalty past Int64 with one is the principal's size; past it, the rate's precision.
_PLAIN_DENOMINATOR = 10**7
_PRECISE = "is too precise for the columnar engine's exact Int64 arithmetic"
_KEYS = ["product", "contract_date", "annual_rate", "penalty_rate"]
_TERMS = pl.Schema({
    "product": pl.String(), "contract_date": pl.Date(), "annual_rate": pl.String(),
    "penalty_rate": pl.String(), "pen_num": pl.Int64(), "pen_den": pl.Int64(),
    "cap_num": pl.Int64(), "cap_den": pl.Int64(), "total_num": pl.Int64(),
    "total_den": pl.Int64(), "cap_rule": pl.String(),
    "cap_source": pl.String(), "day_count": pl.Int64(), "grace_days": pl.Int64(),
    "late_fee": pl.Int64(), "late_fee_total": pl.Int64(),
    **{f"rank_{c}": pl.Int64() for c in COMPONENTS},
})  # fmt: skip
# What only the check needs: each key's largest principal (for its penalty, its cap and its
# limit on total charges), the rate column a too-long rate is in, and the fault of a key that
# cannot be priced at all.
_CHECK = pl.Schema({
    "pen_most": pl.Int64(), "cap_most": pl.Int64(), "tot_most": pl.Int64(),
    "pen_text": pl.String(), "cap_text": pl.String(), "tot_text": pl.String(),
    "plain": pl.Boolean(), "rate_column": pl.String(),
    "rate_text": pl.String(), "key_fault": pl.String(), "key_reason": pl.String(),
})  # fmt: skip


# The terms a loan's charges are priced with. A loan whose terms differ from those its stored
# state was worked under (a product's penalty multiplier, grace, late fee, day count or
# allocation changed in the settings, a cap's rate, the loan's own rate corrected) is run again
# from its contract date, as one run under today's terms would run it (MONEY_RULES.md).
PRICED = ("pen_num", "pen_den", "cap_num", "cap_den", "day_count", "grace_days", "late_fee",
          *(f"rank_{c}" for c in COMPONENTS))  # fmt: skip


def priced_print() -> pl.Expr:
    """A loan's PRICED terms as one text (null parts as `-`), which a store keeps beside its
    state to tell whether the loan is priced otherwise now; under a product's own cap, its
    source and its limit on total charges too (needs `cap_rule`, `cap_source`, `cap_total`),
    and a limit on late fees where there is one (`late_fee_total`)."""
    parts = [pl.col(name).cast(pl.String).fill_null("-") for name in PRICED]
    # A lender may reword its own cap's source: its loans are then replayed, so that every cut
    # cites the new words, as one run would. A pack's cap prints as before (no replay of the
    # whole book on the upgrade that added this), its source changing only with the code; so
    # does an own cap without a limit on total charges.
    total = pl.concat_str(pl.lit(" total "), pl.col("cap_total").cast(pl.String)).fill_null("")
    own = pl.when(pl.col("cap_rule") == OWN_CAP_RULE).then(
        pl.concat_str(pl.lit(" "), pl.col("cap_source"), total)
    )
    # A limit on late fees prints only where set: the loans of the products without one print
    # as before it was added (no replay on the upgrade).
    late = pl.concat_str(pl.lit(" late "), pl.col("late_fee_total").cast(pl.String))
    return pl.concat_str(
        [pl.concat_str(parts, separator=" "), own.otherwise(pl.lit("")), late.fill_null("")]
    )


def moved_due(lines: pl.DataFrame, loans: pl.DataFrame, terms: Terms) -> pl.DataFrame:
    """The loans (loan_id) with a line whose stored effective due date (`eff_due`, set once it
    fell due) is not the one its product's holiday rule and business calendar now give: the
    rule or the calendar changed since the line was worked. `lines`: loan_id, due_date,
    eff_due; `loans`: loan_id, product (a product the terms lack is refused elsewhere)."""
    known = lines.filter(pl.col("eff_due").is_not_null()).select("loan_id", "due_date", "eff_due")
    known = known.join(loans.select("loan_id", "product"), on="loan_id")
    pairs = known.select("product", "due_date").unique()
    found: list[date | None] = []
    for code, due in pairs.iter_rows():
        product = terms.products.get(code)
        if product is None:
            found.append(None)
            continue
        calendar = terms.calendar_for(product.jurisdiction, due.year, due.year + 1)
        found.append(effective_due_date(due, product.holiday_rule, calendar))
    now = pairs.with_columns(pl.Series("now", found, pl.Date))
    moved = known.join(now, on=["product", "due_date"]).filter(pl.col("now") != pl.col("eff_due"))
    return moved.select("loan_id").unique()


def loan_terms(loans: pl.DataFrame, terms: Pricing) -> pl.DataFrame:
    """Add pen_num/pen_den, cap_num/cap_den, cap_total (the most its charges may total under a
    cap on total charges: null, none), day_count, grace, late fee and the most its late fees
    may add up to (late_fee_total: null, no limit), and allocation ranks;
    DomainError naming the loans when any cannot be priced (see `unpriceable`)."""
    priced = _priced(loans, terms)
    unfit = priced.filter(pl.col("reason").is_not_null())
    if unfit.height:
        reason, fault = unfit.item(0, "reason"), unfit.item(0, "fault")
        same = unfit.filter(pl.col("reason") == reason).get_column("loan_id")
        others = unfit.height - same.len()
        more = f"; and {others} other loans the engine cannot price" if others else ""
        raise DomainError(f"column {fault!r}: {reason} (loans {_first(same)}){more}")
    return priced.drop("fault", "reason")


def unpriceable(loans: pl.DataFrame, terms: Pricing) -> pl.DataFrame:
    """The loans no run could price, with the column at `fault` and the `reason`: an unknown
    product or bad rate, a cost cap unresolved for the contract date, or a penalty or cap
    whose exact integer arithmetic would overflow Int64 (a rate of too many decimals, or too
    large a principal). Needs the loans' key columns and principal; keeps all their columns."""
    return _priced(loans, terms).filter(pl.col("reason").is_not_null())


def _priced(loans: pl.DataFrame, terms: Pricing) -> pl.DataFrame:
    """The loans with their terms columns, and a fault and reason where they cannot be priced."""
    keys = loans.select(_KEYS).unique().iter_rows()
    table = pl.DataFrame([_key_terms(key, terms) for key in keys], schema=_TERMS | _CHECK)
    joined = loans.join(table, on=_KEYS, how="left", nulls_equal=True, maintain_order="left")
    total = pl.col("principal") * pl.col("total_num") // pl.col("total_den")  # floored, exact
    return joined.with_columns(*_fault_and_reason(), total.alias("cap_total")).drop(
        *_CHECK.names(), "total_num", "total_den"
    )


def _key_terms(key: tuple[Any, ...], terms: Pricing) -> dict[str, Any]:
    """One key's terms and the largest principals its Int64 arithmetic holds; or its fault."""
    code, contract, rate, penalty = key
    row: dict[str, Any] = dict(zip(_KEYS, key, strict=True))
    row["rate_column"] = "penalty_rate" if penalty else "annual_rate"
    row["rate_text"] = penalty or rate
    product = terms.products.get(code)
    if product is None:
        return row | {"key_fault": "product", "key_reason": f"unknown product {code!r}"}
    try:
        annual = parse_rate(rate)
    except DomainError as error:
        return row | {"key_fault": "annual_rate", "key_reason": str(error)}
    try:
        pen = product.penalty_rate_for(annual, parse_rate(penalty) if penalty else None)
    except DomainError as error:
        return row | {"key_fault": row["rate_column"], "key_reason": str(error)}
    policies = terms.cap_policies.get(product.jurisdiction, {})
    try:
        rule = cap_rule_for(product.cap, contract, policies, terms.lpr, product.own_cap)
    except DomainError as error:
        # A cap its pack lacks, or looser than it, is the product's fault; one it has, the
        # contract date's (no LPR known for it).
        fault = "contract_date" if product.cap in policies else "product"
        return row | {"key_fault": fault, "key_reason": f"product {code}: {error}"}
    days, cap, total = product.day_count, rule.rate, rule.total
    if max(pen.numerator, 2 * pen.denominator * days) >= INT64_SAFE:
        # A rate of many decimals (0.1800000000000000001) has a fraction no Int64 holds.
        reason = f"rate {row['rate_text']} {_PRECISE}: use a rate with fewer decimals"
        return row | {"key_fault": row["rate_column"], "key_reason": reason}
    if cap is not None and max(cap.numerator, cap.denominator * days) >= INT64_SAFE:
        reason = f"product {code}: its cost cap {format_rate(cap)}/yr {_PRECISE}"
        return row | {"key_fault": "product", "key_reason": reason}
    return row | {
        "pen_num": pen.numerator, "pen_den": pen.denominator,
        "cap_num": cap.numerator if cap is not None else None,
        "cap_den": cap.denominator if cap is not None else None,
        "total_num": total.numerator if total is not None else None,
        "total_den": total.denominator if total is not None else None,
        "cap_rule": rule.rule_id, "cap_source": rule.source, "day_count": days,
        "grace_days": product.grace_days, "late_fee": product.late_fee,
        "late_fee_total": limit.total if (limit := product.late_fee_limit) else None,
        **{f"rank_{c}": product.allocation.index(c) for c in COMPONENTS},
        **_most_principal(pen, cap, days, total),
    }  # fmt: skip


def _most_principal(
    pen: Fraction, cap: Fraction | None, days: int, total: Fraction | None
) -> dict[str, Any]:
    """The largest principals (minor units) whose exact arithmetic stays below INT64_SAFE: a
    day's penalty, floor((2·unpaid·num + den·days) / (2·den·days)), and the cap's allowance,
    principal-days·num // (den·days), and its limit on total charges, principal·num // den.
    Worked out in Python's integers, which cannot wrap."""
    most: dict[str, Any] = {"plain": pen.denominator < _PLAIN_DENOMINATOR}
    if pen.numerator:
        most["pen_most"] = (INT64_SAFE - 1 - pen.denominator * days) // (2 * pen.numerator)
        most["pen_text"] = format_rate(pen)
    if cap is not None and cap.numerator:
        most["cap_most"] = (INT64_SAFE - 1) // (_CAP_DAYS * cap.numerator)
        most["cap_text"] = format_rate(cap)
    if total is not None:  # above zero (OwnCap): many decimals make a large numerator
        most["tot_most"] = (INT64_SAFE - 1) // total.numerator
        most["tot_text"] = format_rate(total)
    return most


def _fault_and_reason() -> list[pl.Expr]:
    """Each loan's fault column and reason: its key's, else its principal past a limit."""
    principal = pl.col("principal")
    over_cap = principal > pl.col("cap_most")
    over_tot = principal > pl.col("tot_most")
    over_pen = principal > pl.col("pen_most")
    lent = _shown(principal)
    fault = (
        pl.when(pl.col("key_fault").is_not_null()).then(pl.col("key_fault"))
        .when(over_cap | over_tot | (over_pen & pl.col("plain"))).then(pl.lit("principal"))
        .when(over_pen).then(pl.col("rate_column"))
    )  # fmt: skip
    too_large = "principal {} is too large for the columnar engine's exact Int64 arithmetic"
    reason = (
        pl.when(pl.col("key_reason").is_not_null()).then(pl.col("key_reason"))
        .when(over_cap).then(pl.format(
            f"{too_large} (under its cost cap of {{}}/yr a principal may be at most {{}})",
            lent, pl.col("cap_text"), _shown(pl.col("cap_most"))))
        .when(over_tot).then(pl.format(
            f"{too_large} (under its limit on total charges of {{}} of the principal lent a "
            "principal may be at most {}; use a limit with fewer decimals)",
            lent, pl.col("tot_text"), _shown(pl.col("tot_most"))))
        .when(over_pen & pl.col("plain")).then(pl.format(
            f"{too_large} (at a penalty rate of {{}}/yr a principal may be at most {{}})",
            lent, pl.col("pen_text"), _shown(pl.col("pen_most"))))
        .when(over_pen).then(pl.format(
            f"rate {{}} {_PRECISE} on principal {{}} (at this rate a principal may be at most "
            "{}; use a rate with fewer decimals)",
            pl.col("rate_text"), lent, _shown(pl.col("pen_most"))))
    )  # fmt: skip
    return [fault.alias("fault"), reason.alias("reason")]


def _shown(minor: pl.Expr) -> pl.Expr:
    """Minor units as decimal text (12345 → 123.45)."""
    return pl.format("{}.{}", minor // 100, (minor % 100).cast(pl.String).str.pad_start(2, "0"))


def _first(loan_ids: pl.Series) -> str:
    """The first three loan ids, and how many more."""
    shown = ", ".join(loan_ids.head(3).to_list())
    return shown + (f" and {loan_ids.len() - 3} more" if loan_ids.len() > 3 else "")
