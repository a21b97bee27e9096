"""Loan terms as integer columns (exact in Int64) for the frames."""

import polars as pl

from arrears.domain.caps import cap_rule_for
from arrears.domain.errors import DomainError
from arrears.domain.product import COMPONENTS
from arrears.domain.rates import parse_rate
from arrears.domain.terms import Terms

# Int64 headroom: the largest intermediate values (a day's penalty and the cap's allowance,
# numerators and divisors) must stay below this, or the run refuses the book.
INT64_SAFE = 2**62
_KEYS = ["product", "contract_date", "annual_rate", "penalty_rate"]
_TERMS = pl.Schema({
    "product": pl.String(), "contract_date": pl.Date(), "annual_rate": pl.String(),
    "penalty_rate": pl.String(), "pen_num": pl.Int64(), "pen_den": pl.Int64(),
    "cap_num": pl.Int64(), "cap_den": pl.Int64(), "cap_rule": pl.String(),
    "cap_source": pl.String(), "day_count": pl.Int64(), "grace_days": pl.Int64(),
    "late_fee": pl.Int64(), **{f"rank_{c}": pl.Int64() for c in COMPONENTS},
})  # fmt: skip


def loan_terms(loans: pl.DataFrame, terms: Terms) -> pl.DataFrame:
    """Add pen_num/pen_den, cap_num/cap_den, day_count, grace, late fee and allocation ranks."""
    rows = []
    for key in loans.select(_KEYS).unique().iter_rows():
        product_code, contract, rate, penalty = key
        product = terms.products.get(product_code)
        try:
            if product is None:
                raise DomainError(f"unknown product {product_code!r}")
            annual = parse_rate(rate)
            pen = product.penalty_rate_for(annual, parse_rate(penalty) if penalty else None)
            policies = terms.cap_policies.get(product.jurisdiction, {})
            rule = cap_rule_for(product.cap, contract, policies, terms.lpr)
        except DomainError as error:
            raise DomainError(f"{error} (loans {_loans_of(loans, key)})") from None
        cap = rule.rate
        parts = (pen.numerator, pen.denominator, *((cap.numerator, cap.denominator) if cap else ()))
        if any(abs(part) >= INT64_SAFE for part in parts):
            # A rate of many decimals (0.1800000000000000001) has a fraction no Int64 holds.
            given = " and ".join(r for r in (rate, penalty) if r)
            raise DomainError(
                f"rate {given} is too precise for the columnar engine's exact Int64 "
                f"arithmetic (use rates with fewer decimals) (loans {_loans_of(loans, key)})"
            )
        rows.append({
            "product": product_code, "contract_date": contract, "annual_rate": rate,
            "penalty_rate": penalty, "pen_num": pen.numerator, "pen_den": pen.denominator,
            "cap_num": cap.numerator if cap is not None else None,
            "cap_den": cap.denominator if cap is not None else None,
            "cap_rule": rule.rule_id, "cap_source": rule.source,
            "day_count": product.day_count, "grace_days": product.grace_days,
            "late_fee": product.late_fee,
            **{f"rank_{c}": product.allocation.index(c) for c in COMPONENTS},
        })  # fmt: skip
    # Typed whether or not there are rows: a book without loans has none to infer them from.
    table = pl.DataFrame(rows, schema=_TERMS)
    joined = loans.join(table, on=_KEYS, how="left", nulls_equal=True, maintain_order="left")
    _check_headroom(joined)
    return joined


def _loans_of(loans: pl.DataFrame, key: tuple[object, ...]) -> str:
    """The first loans whose terms are `key` (product, contract date, rates), by id."""
    same = pl.all_horizontal(
        pl.col(name).eq_missing(pl.lit(value, loans.schema[name]))
        for name, value in zip(_KEYS, key, strict=True)
    )
    found = loans.filter(same).get_column("loan_id")
    shown = ", ".join(found.head(3).to_list())
    return shown + (f" and {found.len() - 3} more" if found.len() > 3 else "")


def _check_headroom(loans: pl.DataFrame) -> None:
    """Refuse terms whose exact integer arithmetic could overflow Int64 (named, not wrapped):
    a day's penalty, floor((2·unpaid·num + den·days) / (2·den·days)), and the cap's allowance,
    principal-days·num // (den·days). Reckoned in floats, which cannot wrap as the check would."""
    if loans.height == 0:
        return
    principal, days = pl.col("principal").cast(pl.Float64), pl.col("day_count").cast(pl.Float64)
    pen_num, pen_den = pl.col("pen_num").cast(pl.Float64), pl.col("pen_den").cast(pl.Float64)
    cap_num = pl.col("cap_num").cast(pl.Float64).fill_null(0)
    cap_den = pl.col("cap_den").cast(pl.Float64).fill_null(0)
    sizes = {
        "penalty": 2 * principal * pen_num + pen_den * days,
        "penalty divisor": 2 * pen_den * days,
        "cap": principal * 40_000 * cap_num,
        "cap divisor": cap_den * days,
    }
    too_large = pl.any_horizontal(size >= INT64_SAFE for size in sizes.values())
    if not loans.select(too_large.any()).item():
        return
    found = loans.filter(too_large).select(
        "loan_id", *(size.alias(name) for name, size in sizes.items())
    )
    over = [name for name in sizes if (found.get_column(name) >= INT64_SAFE).any()]
    shown = ", ".join(found.get_column("loan_id").head(3).to_list())
    more = f" and {found.height - 3} more" if found.height > 3 else ""
    raise DomainError(
        f"loans {shown}{more}: the principal and rates are too large for the columnar "
        f"engine's exact Int64 arithmetic ({', '.join(over)}; use rates with fewer decimals)"
    )
