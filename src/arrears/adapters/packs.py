"""Read the shipped rule packs (caps, LPR table, calendar overrides) from package data."""

import tomllib
from datetime import date, datetime
from fractions import Fraction
from importlib import resources
from typing import Any

from arrears.domain.caps import CapPolicy
from arrears.domain.day_range import DAY_TEXT
from arrears.domain.errors import DomainError
from arrears.domain.lpr import LprFixing, LprTable
from arrears.domain.rates import format_rate, parse_rate

JURISDICTIONS = ("cn", "us", "uk")
# A cost cap's keys: its rule id and legal source (a cut cites both), and one of its limits.
_CAP_KEYS = frozenset({"rule", "source", "rate", "lpr_multiple", "verified"})


class RulePackError(DomainError):
    """A rule pack file has a missing, unknown or badly typed key (named in the message)."""


def read_pack(name: str) -> dict[str, Any]:
    """The parsed TOML of a file in arrears/packs."""
    text = resources.files("arrears.packs").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def cap_policies(pack: dict[str, Any], where: str) -> dict[str, CapPolicy]:
    """The cap kinds a jurisdiction's pack (the file `where`) defines, with their legal
    sources; RulePackError naming the key of a cap without its rule, source or one limit."""
    caps = pack.get("caps", {})
    if not isinstance(caps, dict):
        raise RulePackError(f"{where}: [caps] must be a table of caps ([caps.NAME])")
    policies: dict[str, CapPolicy] = {}
    for kind, spec in caps.items():
        at = f"{where}: caps.{kind}"
        if not isinstance(spec, dict):
            raise RulePackError(f"{at} must be a table")
        unknown = sorted(set(spec) - _CAP_KEYS)
        if unknown:
            raise RulePackError(f"{at}: unknown key(s) {unknown}; known: {sorted(_CAP_KEYS)}")
        for key in ("rule", "source"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                # A cut is recorded with the rule's id and legal source (CONTRACT.md).
                raise RulePackError(f"{at}.{key} must be a text that is not blank")
        if ("rate" in spec) == ("lpr_multiple" in spec):
            raise RulePackError(f"{at}: give one of `rate` and `lpr_multiple`")
        try:
            rate = parse_rate(str(spec["rate"])) if "rate" in spec else None
            multiple = Fraction(str(spec["lpr_multiple"])) if "lpr_multiple" in spec else None
        except (DomainError, ValueError, ZeroDivisionError) as error:
            raise RulePackError(f"{at}: {error}") from None
        if multiple is not None and multiple <= 0:
            raise RulePackError(f"{at}.lpr_multiple must be above zero, got {multiple}")
        policies[kind] = CapPolicy(spec["rule"], spec["source"], rate, multiple)
    return policies


def lpr_table(extra: dict[str, Any] | None = None) -> LprTable:
    """The shipped LPR table, extended by a settings file's [lpr] section when given."""
    shipped = read_pack("lpr_cn.toml")
    published = {
        _iso(row["published_on"], "lpr_cn.toml published_on"): (
            parse_rate(str(row["one_year"])),
            shipped["source"],
        )
        for row in shipped["fixing"]
    }
    official = _table(published, _iso(shipped["known_through"], "lpr_cn.toml known_through"))
    if not extra:
        return official
    rows = {f.published_on: (f.one_year, f.source) for f in official.fixings}
    given: dict[date, int] = {}
    for number, row in enumerate(extra.get("fixing", [])):
        where = f"lpr.fixing[{number}]"
        day = _iso(row["published_on"], f"{where}.published_on")
        if day in given:
            raise DomainError(
                f"{where}.published_on {day} is given twice (lpr.fixing[{given[day]}])"
            )
        given[day] = number
        rate = parse_rate(str(row["one_year"]))
        source = row.get("source", "settings file")
        if not isinstance(source, str) or not source.strip():
            raise DomainError(
                f"{where}.source must be a text naming the publication, got {source!r}"
            )
        if day <= official.known_through:
            first = official.fixings[0].published_on
            _agrees(official.fixing_on(day) if day >= first else None, day, rate, where)
            continue  # the shipped table already holds it
        rows[day] = (rate, source)
    through = extra.get("known_through", official.known_through)
    return _table(rows, max(official.known_through, _iso(through, "lpr.known_through")))


def _agrees(fixing: LprFixing | None, day: date, rate: Fraction, where: str) -> None:
    """Refuse a settings file's fixing inside the shipped table unless it is the rate in force:
    the published LPR is a fact (and 4 × it caps private loans), not a setting."""
    if fixing is None or fixing.one_year != rate:
        shown = "none" if fixing is None else f"{format_rate(fixing.one_year)} ({fixing.source})"
        raise DomainError(
            f"{where}: the one-year LPR in force on {day} is {shown} in the shipped table; a "
            f"settings file adds fixings after it, it cannot change a published one "
            f"(got {format_rate(rate)})"
        )


def _table(rows: dict[date, tuple[Fraction, str]], known_through: date) -> LprTable:
    """An LprTable of rows by publication day."""
    fixings = tuple(LprFixing(day, rate, source) for day, (rate, source) in sorted(rows.items()))
    return LprTable(fixings, known_through)


def _iso(value: object, where: str) -> date:
    """A day given as a TOML date or as YYYY-MM-DD text: not a number, nor another of the
    forms `date.fromisoformat` takes (2026W51 is a week's Monday, helper-88)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and DAY_TEXT.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise DomainError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)")
