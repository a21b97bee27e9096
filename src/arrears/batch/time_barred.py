"""The limitation rule in the run: treatments that threaten or bring a suit (a lawyer's letter,
a legal review) refused on a time-barred debt, each with the domain's reason
(domain.limitation.refusal)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from arrears.domain.limitation import Limitation, refusal
from arrears.domain.product import Product
from arrears.domain.rule_pack import RulePack

UNKNOWN = "limitation.unknown"  # the rule named when a loan's product or age is not known
REFUSAL_SCHEMA = pl.Schema({"req": pl.UInt32, "rule": pl.String, "detail": pl.String})


@dataclass(frozen=True)
class TimeBars:
    """Each product's limitation rule and period, and where to find a loan's oldest due date:
    `states` (the loans worked tonight: as_of and DPD) and `stored` (every loan, when a store
    lets some rest: their product and oldest line's due date as last summarised).
    `jurisdictions`: those of the governed products (a candidate's `jurisdiction` is its
    ladder's): the others' candidates are let through unread."""

    rules: Mapping[str, tuple[Limitation, int]]
    jurisdictions: frozenset[str]
    states: pl.DataFrame
    stored: pl.DataFrame

    def refusals(self, cands: pl.DataFrame, as_of: date) -> pl.DataFrame:
        """(req, rule, detail) for the candidates the limitation rule refuses tonight."""
        governed = sorted({a for limitation, _ in self.rules.values() for a in limitation.actions})
        # A Chinese book's lawyer's letters are not governed: no join over its states.
        asked = pl.col("action").is_in(governed) & pl.col("jurisdiction").is_in(self.jurisdictions)
        mine = cands.filter(asked).select("req", "loan_id", "action")
        if mine.height == 0:
            return pl.DataFrame(schema=REFUSAL_SCHEMA)
        rows = []
        for req, loan_id, action, product, oldest in self._known(mine, as_of).iter_rows():
            if product is None:
                # Every candidate has a case, hence a state tonight or a stored row: one with
                # neither cannot be shown not to be time-barred, so it is not sent.
                rows.append((req, UNKNOWN, f"loan {loan_id!r}: no state tonight, so whether "
                                           f"its debt is time-barred is unknown"))  # fmt: skip
                continue
            rule = self.rules.get(product)
            why = refusal(*rule, action, oldest, as_of) if rule else None
            if rule and why is not None:
                rows.append((req, rule[0].rule_id, str(why)))
        return pl.DataFrame(rows, schema=REFUSAL_SCHEMA, orient="row")

    def _known(self, mine: pl.DataFrame, as_of: date) -> pl.DataFrame:
        """The candidates with their loan's product and oldest unpaid due date tonight."""
        worked = self.states.join(mine.select("loan_id").unique(), on="loan_id", how="semi")
        # Its oldest line owing past its effective due date (whatever days its ageing clock
        # stood still: the limitation period runs on).
        past = pl.col("oldest") < pl.lit(as_of)
        today = worked.select(
            "loan_id",
            pl.col("product").cast(pl.String),
            pl.when(past).then(pl.col("oldest")).alias("oldest"),
        )
        resting = self.stored.filter(~pl.col("worked")).join(
            mine.select("loan_id").unique(), on="loan_id", how="semi"
        )
        rested = resting.select("loan_id", pl.col("product").cast(pl.String), "oldest")
        known = pl.concat([today, rested.cast(today.schema)])
        return mine.join(known, on="loan_id", how="left")


def time_bars(
    products: Mapping[str, Product],
    packs: Mapping[str, RulePack],
    states: pl.DataFrame,
    stored: pl.DataFrame,
) -> TimeBars | None:
    """The night's TimeBars (None: no product's pack has a limitation rule)."""
    rules = product_rules(products, packs)
    if not rules:
        return None
    jurisdictions = frozenset(products[code].jurisdiction for code in rules)
    return TimeBars(rules, jurisdictions, states, stored)


def product_rules(
    products: Mapping[str, Product], packs: Mapping[str, RulePack]
) -> dict[str, tuple[Limitation, int]]:
    """Each product's limitation rule (its jurisdiction pack's) and period (its own, else the
    pack's), for the products whose pack has one."""
    rules = {}
    for code, product in products.items():
        limitation = packs[product.jurisdiction].limitation
        if limitation is not None:
            rules[code] = (limitation, product.limitation_years or limitation.years)
    return rules
