"""Read the shipped rule packs (caps, LPR table, calendar overrides) from package data."""

import tomllib
from datetime import date
from fractions import Fraction
from importlib import resources
from typing import Any

from arrears.domain.caps import CapPolicy
from arrears.domain.errors import DomainError
from arrears.domain.lpr import LprFixing, LprTable
from arrears.domain.rates import parse_rate

JURISDICTIONS = ("cn", "us", "uk")


def read_pack(name: str) -> dict[str, Any]:
    """The parsed TOML of a file in arrears/packs."""
    text = resources.files("arrears.packs").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def cap_policies(pack: dict[str, Any]) -> dict[str, CapPolicy]:
    """The cap kinds a jurisdiction's pack defines, with their legal sources."""
    policies: dict[str, CapPolicy] = {}
    for kind, spec in pack.get("caps", {}).items():
        rate = parse_rate(spec["rate"]) if "rate" in spec else None
        multiple = Fraction(str(spec["lpr_multiple"])) if "lpr_multiple" in spec else None
        policies[kind] = CapPolicy(spec["rule"], spec["source"], rate, multiple)
    return policies


def lpr_table(extra: dict[str, Any] | None = None) -> LprTable:
    """The shipped LPR table, extended by a settings file's [lpr] section when given."""
    shipped = read_pack("lpr_cn.toml")
    rows = {r["published_on"]: (r["one_year"], shipped["source"]) for r in shipped["fixing"]}
    known_through = shipped["known_through"]
    if extra:
        for row in extra.get("fixing", []):
            rows[row["published_on"]] = (row["one_year"], row.get("source", "settings file"))
        known_through = max(str(known_through), str(extra.get("known_through", known_through)))
    fixings = tuple(
        LprFixing(_iso(day, "lpr.fixing.published_on"), parse_rate(str(rate)), source)
        for day, (rate, source) in sorted((str(d), v) for d, v in rows.items())
    )
    return LprTable(fixings, _iso(known_through, "lpr.known_through"))


def _iso(value: object, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DomainError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from None
