"""The settings file (TOML): products, extra LPR fixings, calendar overrides, how the feeds
read phone numbers, the lender's content-lint phrases; shipped defaults."""

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from arrears.adapters.calendar_source import CalendarYear, calendar_years
from arrears.adapters.channel_settings import ChannelSettings, parse_channels
from arrears.adapters.content_pack import shipped_content_packs, stricter_packs
from arrears.adapters.message_pack import own_messages, shipped_messages
from arrears.adapters.packs import JURISDICTIONS, cap_policies, lpr_table, read_pack
from arrears.adapters.phone_zones import DEFAULT_REGION, phone_region
from arrears.adapters.toml_text import control_character
from arrears.domain.caps import CapPolicy, OwnCap
from arrears.domain.content_lint import ContentPack
from arrears.domain.currencies import CURRENCY_TEXT
from arrears.domain.errors import DomainError
from arrears.domain.invisible import is_blank
from arrears.domain.late_fees import LateFeeLimit
from arrears.domain.lpr import LprTable
from arrears.domain.messages import KnownMessage
from arrears.domain.money import parse_amount
from arrears.domain.product import Product
from arrears.domain.queue_priority import QueueScale
from arrears.domain.rates import format_rate, parse_rate

CONFIG_ENV = "ARREARS_CONFIG"
DEFAULT_CONFIG = "arrears.toml"
_PRODUCT_KEYS = {
    "jurisdiction", "cap", "grace_days", "penalty_multiplier", "late_fee", "day_count",
    "holiday_rule", "allocation", "strategy", "limitation_years", "pause_ageing",
    "pause_charges", "cap_rate", "cap_source", "cap_total", "late_fee_total", "late_fee_source",
}  # fmt: skip
_MOST_MULTIPLIER = 10  # a penalty rate ten times the contract rate: past any law's limit
_TOP_KEYS = {"products", "lpr", "calendar_cn", "feeds", "queue", "content", "channels",
             "messages"}  # fmt: skip
# The keys of each table of the [lpr] and [calendar_cn] sections: a misspelt one (`holiday`
# for `holidays`) would drop what it holds without a word (a year's holidays, a fixing).
_SECTION_KEYS = {
    "lpr": {"known_through", "fixing"}, "lpr.fixing": {"published_on", "one_year", "source"},
    "calendar_cn": {"year"}, "calendar_cn.year": {"year", "holidays", "workdays"},
    "feeds": {"phone_region"}, "queue": {"currency", "rates", "score_low", "score_high"},
}  # fmt: skip
_REQUIRED = {"lpr.fixing": ("published_on", "one_year"), "calendar_cn.year": ("year",)}
# The one-year LPR has been between 3 % and 5 % since its 2019 reform (lpr_cn.toml); above
# 20 % it is a percentage written where the file takes a fraction ("3.1" for "0.031").
_LPR_MOST = Fraction(1, 5)


class SettingsError(DomainError):
    """The settings file is missing, unreadable or has a bad value (named in the message)."""


@dataclass(frozen=True)
class _Shipped:
    """What the shipped packs give every settings load: each jurisdiction's cap kinds, the
    shipped products' specs, content rules and messages (read-only)."""

    policies: Mapping[str, Mapping[str, CapPolicy]]
    products: Mapping[str, Any]
    content: Mapping[str, ContentPack]
    messages: Mapping[str, KnownMessage]


@cache
def _shipped() -> _Shipped:
    """The shipped packs, parsed once a process: they are package data, and parsing them took
    20 of a settings load's 25 ms, which every command, app and night context paid again."""
    policies = {j: MappingProxyType(cap_policies(read_pack(f"{j}.toml"), f"{j}.toml"))
                for j in JURISDICTIONS}  # fmt: skip
    content = shipped_content_packs()
    return _Shipped(
        MappingProxyType(policies),
        MappingProxyType(read_pack("products.toml")["products"]),
        MappingProxyType(content),
        MappingProxyType(shipped_messages(content)),
    )


@dataclass(frozen=True)
class Settings:
    """Everything configurable that the engines need: products, caps, LPR, calendar overrides."""

    products: dict[str, Product]
    cap_policies: dict[str, dict[str, CapPolicy]]
    lpr: LprTable
    calendar_overrides: tuple[CalendarYear, ...]
    path: Path | None
    # A phone number a feed writes without +country code is read as this region's (ISO 3166).
    phone_region: str = DEFAULT_REGION
    # How a queue weighs overdue amounts in several currencies ([queue]).
    queue_scale: QueueScale = field(default_factory=QueueScale)
    # Each jurisdiction's content-lint rules: the pack's, with the file's [content] added.
    content_packs: dict[str, ContentPack] = field(default_factory=lambda: dict(_shipped().content))
    # The texts and e-mails the ladders' templates send: shipped, with the file's [[messages]].
    messages: dict[str, KnownMessage] = field(default_factory=lambda: dict(_shipped().messages))
    # Where the messages go out through ([channels]): none set, none is sent.
    channels: ChannelSettings = field(default_factory=ChannelSettings)

    def product(self, code: str) -> Product:
        """The product called `code`, or a clear error listing the known ones."""
        try:
            return self.products[code]
        except KeyError:
            known = ", ".join(sorted(self.products))
            raise SettingsError(f"unknown product {code!r} (known: {known})") from None


def config_path(explicit: str | None, cwd: Path) -> Path | None:
    """--config, else $ARREARS_CONFIG, else ./arrears.toml if present, else none."""
    chosen = explicit or os.environ.get(CONFIG_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            wrong = "is not a file" if path.exists() else "does not exist"
            raise SettingsError(f"settings file {path} {wrong}")
        return path
    default = cwd / DEFAULT_CONFIG
    return default if default.is_file() else None


def load_settings(path: Path | None) -> Settings:
    """Shipped defaults plus the settings file at `path` (its products added or replacing)."""
    data = _read(path) if path else {}
    where = str(path) if path else "settings"
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SettingsError(
            f"{where}: unknown section(s) {sorted(unknown)}; known: {sorted(_TOP_KEYS)}"
        )
    _check_sections(data, where)
    shipped = _shipped()
    policies = {j: dict(caps) for j, caps in shipped.policies.items()}
    products = {}
    for specs, source in ((shipped.products, "products.toml"), (data.get("products", {}), where)):
        for code, spec in specs.items():
            product = parse_product(code, spec, source)
            _check_cap(product, policies[product.jurisdiction], source)
            products[code] = product  # a file's product replaces the shipped one of its name
    try:
        lpr = lpr_table(data.get("lpr"))
        overrides = calendar_years(data.get("calendar_cn", {}).get("year", []))
    except (KeyError, ValueError) as error:
        raise SettingsError(f"{where}: {error}") from None
    region = data.get("feeds", {}).get("phone_region", DEFAULT_REGION)
    try:
        region = phone_region(region)
    except ValueError as error:
        raise SettingsError(f"{where}: feeds.phone_region: {error}") from None
    scale = _queue_scale(data.get("queue", {}), where)
    try:
        content = stricter_packs(shipped.content, data.get("content", {}), where)
        # The shipped messages are read under the shipped rules; the lender's own and what
        # `send` sends under the lender's too (a stricter lender replaces what it must).
        messages = own_messages(data.get("messages", []), where, shipped.messages, content)
        channels = parse_channels(data.get("channels", {}), where)
    except DomainError as error:
        raise SettingsError(str(error)) from None  # names the file and key already
    return Settings(products, policies, lpr, overrides, path, region, scale, content, messages,
                    channels)  # fmt: skip


PRODUCT_CODE_MAX = 64  # characters: the loans table's product column (adapters/db/tables.py)
RATE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,8})?")  # a positive exact decimal


def _queue_scale(queue: dict[str, Any], where: str) -> QueueScale:
    """[queue]: `currency`, the one the queues weigh amounts in (default CNY), and `rates`,
    what one unit of each other currency is worth in it, as exact decimal text."""
    reference = queue.get("currency", "CNY")
    if not isinstance(reference, str) or not CURRENCY_TEXT.fullmatch(reference):
        raise SettingsError(f"{where}: queue.currency {reference!r} is not an ISO 4217 code")
    rates = queue.get("rates", {})
    if not isinstance(rates, dict):
        raise SettingsError(f'{where}: queue.rates must be a table, e.g. USD = "7.10"')
    parsed = {}
    for currency, rate in rates.items():
        if not CURRENCY_TEXT.fullmatch(currency):
            raise SettingsError(f"{where}: queue.rates: {currency!r} is not an ISO 4217 code")
        if not isinstance(rate, str) or not RATE.fullmatch(rate) or Decimal(rate) == 0:
            raise SettingsError(
                f"{where}: queue.rates.{currency} {rate!r} must be a positive decimal in "
                f'quotes, the value of one {currency} in {reference} (e.g. "7.10")'
            )
        if currency == reference:
            raise SettingsError(f"{where}: queue.rates.{currency}: the reference needs no rate")
        parsed[currency] = Decimal(rate)
    return QueueScale(reference, parsed, _score_range(queue, where))


def _score_range(queue: dict[str, Any], where: str) -> tuple[int, int] | None:
    """[queue] `score_low` and `score_high`: the range the lender's loan scores run over (the
    feed's score is a whole number of the lender's own scale), both or neither."""
    given = [queue.get(key) for key in ("score_low", "score_high")]
    if given == [None, None]:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in given):
        raise SettingsError(
            f"{where}: queue.score_low and queue.score_high are given together, whole numbers "
            f"(the range the loans' scores run over), got {given[0]!r} and {given[1]!r}"
        )
    low, high = int(given[0]), int(given[1])  # type: ignore[arg-type]
    if low >= high:
        raise SettingsError(f"{where}: queue.score_low {low} must be below score_high {high}")
    return low, high


def _check_cap(product: Product, policies: dict[str, CapPolicy], where: str) -> None:
    """Refuse a cap the product's jurisdiction does not define, and one looser than its pack
    requires: where the pack caps every loan (cn: licensed or private), `none` would charge
    past the cap, and a lender may only make a pack stricter (REGULATIONS.md). `none` stays
    the only choice where the pack defines no all-in cap (us, uk)."""
    kinds = sorted(policies)
    if product.cap == "none" and kinds:
        raise SettingsError(
            f"{where}: products.{product.code}.cap 'none' is refused: the "
            f"{product.jurisdiction} rule pack caps every loan, and a product may only be "
            f"stricter than its pack (REGULATIONS.md); choose one of {', '.join(kinds)}"
        )
    if product.cap != "none" and product.cap not in policies:
        choose = f"one of {', '.join(kinds)}" if kinds else "none"
        raise SettingsError(
            f"{where}: products.{product.code}.cap {product.cap!r} must be {choose} "
            f"(the {product.jurisdiction} rule pack defines {', '.join(kinds) or 'no cost cap'})"
        )
    pack = policies.get(product.cap)
    own = product.own_cap
    if own is not None and own.total is not None and product.cap != "none":
        # A cut cites one rule: where the pack's cap binds, it could not be the own total's.
        raise SettingsError(
            f"{where}: products.{product.code}.cap_total needs cap 'none' (a pack that caps "
            f"nothing, us or uk), not {product.cap!r}: under the pack's cap a cut could not "
            f"tell which rule bound; cap charges in all outside arrears, or lower cap_rate"
        )
    if own is not None and pack is not None and pack.rate is not None and own.rate >= pack.rate:
        # It would never bind: most likely a percentage written for a fraction, or the wrong
        # cap kind. (Against an LPR multiple the binding rate depends on the contract date:
        # the lower of the two binds, loan by loan.)
        raise SettingsError(
            f"{where}: products.{product.code}.cap_rate {format_rate(own.rate)}/yr is not "
            f"below the {product.jurisdiction} rule pack's {product.cap} cap "
            f"({format_rate(pack.rate)}/yr, {pack.rule_id}), which binds already: give a "
            f"lower rate as a decimal fraction (0.18 = 18 %/yr), or leave it out"
        )


def _check_sections(data: dict[str, Any], where: str) -> None:
    """Refuse a section of the wrong shape, a table with an unknown or missing key, and an
    LPR that cannot be one, naming the file and the key."""
    if not isinstance(data.get("products", {}), dict):
        raise SettingsError(f"{where}: [products] must hold [products.NAME] tables")
    if not isinstance(data.get("feeds", {}), dict):
        raise SettingsError(f"{where}: [feeds] must be a table")
    _keys(data.get("feeds", {}), "feeds", where)
    if not isinstance(data.get("queue", {}), dict):
        raise SettingsError(f"{where}: [queue] must be a table")
    _keys(data.get("queue", {}), "queue", where)
    for section, entries in (("lpr", "fixing"), ("calendar_cn", "year")):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise SettingsError(f"{where}: [{section}] must be a table")
        _keys(table, section, where)
        rows = table.get(entries, [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise SettingsError(
                f"{where}: {section}.{entries} must be [[{section}.{entries}]] tables"
            )
        for i, row in enumerate(rows):
            _keys(row, f"{section}.{entries}", f"{where}: {section}.{entries}[{i}]")
    for i, row in enumerate(data.get("lpr", {}).get("fixing", [])):
        if not isinstance(row["one_year"], str):  # a TOML float is no exact rate
            raise SettingsError(
                f"{where}: lpr.fixing[{i}].one_year must be a decimal fraction written as text, "
                f'such as "0.031", got {row["one_year"]!r}'
            )
        try:
            rate = parse_rate(row["one_year"])
        except DomainError as error:
            raise SettingsError(f"{where}: lpr.fixing[{i}].one_year: {error}") from None
        if not 0 < rate <= _LPR_MOST:
            raise SettingsError(
                f"{where}: lpr.fixing[{i}].one_year {row['one_year']!r} is not an LPR (a "
                f"fraction above 0 and at most {_LPR_MOST}: 3.1 % is written 0.031)"
            )
    for i, row in enumerate(data.get("calendar_cn", {}).get("year", [])):
        for name in ("holidays", "workdays"):
            if not isinstance(row.get(name, []), list):
                raise SettingsError(f"{where}: calendar_cn.year[{i}].{name} must be a list of days")


def _keys(table: dict[str, Any], kind: str, where: str) -> None:
    """Refuse a table of `kind` with a key it cannot have, or without one it needs."""
    unknown = sorted(set(table) - _SECTION_KEYS[kind])
    if unknown:
        raise SettingsError(
            f"{where}: unknown key(s) {unknown} in {kind}; known: {sorted(_SECTION_KEYS[kind])}"
        )
    missing = [key for key in _REQUIRED.get(kind, ()) if key not in table]
    if missing:
        raise SettingsError(f"{where}: {kind} needs {missing}")


def _strategy(spec: dict[str, Any], where: str, code: str) -> str | None:
    """The product's ladder (a shipped key or a file), None: its jurisdiction's shipped one;
    an empty name is refused, not taken as none (helper-115: it ran the shipped ladder)."""
    strategy: str | None = _typed(spec, "strategy", str, None, where, code)
    if strategy is not None and not strategy.strip():
        raise SettingsError(
            f"{where}: products.{code}.strategy is empty: name a shipped ladder or a ladder "
            f"file, or leave the key out for the jurisdiction's own"
        )
    return strategy


def parse_product(code: str, spec: Any, where: str) -> Product:
    """Build a Product from one [products.NAME] table, naming any bad key."""
    if not isinstance(spec, dict):
        raise SettingsError(f"{where}: products.{code} must be a table")
    if not 1 <= len(code) <= PRODUCT_CODE_MAX or not all(
        ch.isprintable() and not ch.isspace() for ch in code
    ):
        # Loans store their product's code (64 characters): PostgreSQL refused a longer one
        # with a traceback where SQLite took it (helper-59).
        raise SettingsError(
            f"{where}: product code {code!r} must be 1 to {PRODUCT_CODE_MAX} characters, "
            f"without spaces or control characters"
        )
    unknown = set(spec) - _PRODUCT_KEYS
    if unknown:
        raise SettingsError(
            f"{where}: products.{code} has unknown key(s) {sorted(unknown)}; "
            f"known: {sorted(_PRODUCT_KEYS)}"
        )
    jurisdiction = _typed(spec, "jurisdiction", str, "cn", where, code)
    multiplier = _typed(spec, "penalty_multiplier", (int, float), 1.5, where, code)
    if not math.isfinite(multiplier):
        raise SettingsError(f"{where}: products.{code}.penalty_multiplier must be a number, "
                            f"got {multiplier!r}")  # fmt: skip
    places = -int(Decimal(str(multiplier)).as_tuple().exponent)
    if not 0 <= multiplier <= _MOST_MULTIPLIER or places > 6:
        # Past them the engines cannot price a penalty exactly, and every loan of the product
        # was refused for its rate instead, the settings unnamed (helper-88: 1e-300, 1e300).
        raise SettingsError(
            f"{where}: products.{code}.penalty_multiplier must be from 0 to {_MOST_MULTIPLIER} "
            f"with at most 6 decimals (the penalty rate is the contract rate times it), got "
            f"{multiplier!r}"
        )
    order = _typed(spec, "allocation", list, ["fees", "penalty", "interest", "principal"],
                   where, code)  # fmt: skip
    if not all(isinstance(component, str) for component in order):
        raise SettingsError(f"{where}: products.{code}.allocation must list component names, "
                            f"got {order!r}")  # fmt: skip
    # China caps every loan (REGULATIONS.md; _check_cap refuses `none` there); the other
    # packs define no cap.
    default_cap = "licensed" if jurisdiction == "cn" else "none"
    fee = _typed(spec, "late_fee", str, "0.00", where, code)
    try:
        late_fee = parse_amount(fee)
    except DomainError as error:
        raise SettingsError(f"{where}: products.{code}.late_fee: {error}") from None
    try:
        return Product(
            code=code,
            jurisdiction=jurisdiction,
            cap=_typed(spec, "cap", str, default_cap, where, code),
            grace_days=_typed(spec, "grace_days", int, 3, where, code),
            penalty_multiplier=Fraction(str(multiplier)),
            late_fee=late_fee,
            day_count=_typed(
                spec, "day_count", int, 360 if jurisdiction == "cn" else 365, where, code
            ),
            holiday_rule=_typed(spec, "holiday_rule", str, "none", where, code),
            allocation=tuple(order),
            strategy=_strategy(spec, where, code),
            limitation_years=_limitation_years(spec, jurisdiction, where, code),
            pause_ageing=_hold_kinds(spec, "pause_ageing", where, code),
            pause_charges=_hold_kinds(spec, "pause_charges", where, code),
            own_cap=_own_cap(spec, where, code),
            late_fee_limit=_late_fee_limit(spec, where, code),
        )
    except SettingsError:
        raise  # names the file already
    except DomainError as error:
        raise SettingsError(f"{where}: {error}") from None


def _own_cap(spec: dict[str, Any], where: str, code: str) -> OwnCap | None:
    """The product's own cost cap (`cap_rate`, a decimal fraction as text, and `cap_source`,
    the law or policy a cut under it cites: both or neither)."""
    rate, source, total = spec.get("cap_rate"), spec.get("cap_source"), spec.get("cap_total")
    if rate is None and source is None and total is None:
        return None
    at = f"{where}: products.{code}"
    if rate is None:
        given = "cap_source" if source is not None else "cap_total"
        raise SettingsError(f"{at}.{given} is given without cap_rate, the cap it is for")
    if not isinstance(rate, str) or not RATE.fullmatch(rate.strip()):
        # A TOML float is no exact rate (docs/MONEY_RULES.md: no floats in the money path); an
        # exponent or more than 8 decimals, none the engines' 64-bit arithmetic can hold.
        raise SettingsError(
            f'{at}.cap_rate must be a decimal fraction written as text, such as "0.36" for '
            f"36 %/yr, with at most 8 decimals, got {rate!r}"
        )
    if source is None:
        raise SettingsError(
            f"{at}.cap_source is required with cap_rate: the law or policy a cut under the "
            f"cap cites"
        )
    if not isinstance(source, str) or not source.strip():
        raise SettingsError(
            f"{at}.cap_source must name the law or policy of cap_rate as text, got {source!r}"
        )
    try:
        own = OwnCap(parse_rate(rate), source.strip())
    except DomainError as error:
        raise SettingsError(f"{at}.cap_rate: {error}") from None
    if total is None:
        return own
    if not isinstance(total, str) or not RATE.fullmatch(total.strip()):
        raise SettingsError(
            f"{at}.cap_total must be a multiple of the principal lent written as text, such as "
            f'"1" for charges never above the credit provided, with at most 8 decimals, got '
            f"{total!r}"
        )
    multiple = Fraction(Decimal(total.strip()))
    if multiple > 10:  # ten times the credit: past any law's limit, likely a percentage
        raise SettingsError(
            f'{at}.cap_total must be at most 10 times the principal lent ("1": charges never '
            f"above the credit provided), got {total!r}"
        )
    try:
        return replace(own, total=multiple)
    except DomainError as error:
        raise SettingsError(f"{at}.cap_total: {error}") from None


def _late_fee_limit(spec: dict[str, Any], where: str, code: str) -> LateFeeLimit | None:
    """The product's limit on late fees in all (`late_fee_total`, an amount as text, and
    `late_fee_source`, the law or policy it follows: both or neither)."""
    total, source = spec.get("late_fee_total"), spec.get("late_fee_source")
    if total is None and source is None:
        return None
    at = f"{where}: products.{code}"
    if total is None:
        raise SettingsError(f"{at}.late_fee_source is given without late_fee_total, the limit "
                            f"it is for")  # fmt: skip
    if not isinstance(total, str):
        # A TOML number is no exact amount (docs/MONEY_RULES.md: no floats in the money path).
        raise SettingsError(f'{at}.late_fee_total must be an amount written as text, such as '
                            f'"15.00", got {total!r}')  # fmt: skip
    if not isinstance(source, str) or is_blank(source):
        raise SettingsError(f"{at}.late_fee_source is required with late_fee_total: the law or "
                            f"policy it follows, as text, got {source!r}")  # fmt: skip
    try:
        return LateFeeLimit(parse_amount(total), source.strip())
    except DomainError as error:
        raise SettingsError(f"{at}.late_fee_total: {error}") from None


def _hold_kinds(spec: dict[str, Any], key: str, where: str, code: str) -> tuple[str, ...]:
    """A list of hold kinds (pause_ageing, pause_charges; Product refuses an unknown one)."""
    kinds = _typed(spec, key, list, [], where, code)
    if not all(isinstance(kind, str) for kind in kinds):
        raise SettingsError(f"{where}: products.{code}.{key} must list hold kinds, got {kinds!r}")
    return tuple(dict.fromkeys(kinds))


def _limitation_years(spec: dict[str, Any], jurisdiction: str, where: str, code: str) -> int | None:
    """The product's limitation period, refused where its pack has no limitation rule (the
    setting would then change nothing, unseen)."""
    years: int | None = _typed(spec, "limitation_years", int, None, where, code)
    known = jurisdiction in JURISDICTIONS  # an unknown one is refused by Product, by name
    if years is not None and known and "limitation" not in read_pack(f"{jurisdiction}.toml"):
        raise SettingsError(
            f"{where}: products.{code}.limitation_years: the {jurisdiction} pack refuses no "
            f"action on a time-barred debt, so the period would change nothing"
        )
    return years


def _typed(spec: dict[str, Any], key: str, kind: Any, default: Any, where: str, code: str) -> Any:
    value = spec.get(key, default)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise SettingsError(f"{where}: products.{code}.{key} must be {expected}, got {value!r}")
    return value


def _read(path: Path) -> dict[str, Any]:
    try:
        # A byte-order mark (Windows Notepad writes one) is read past, as a ladder's is.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"cannot read settings file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"settings file {path} is not valid TOML: {error}") from None
    wrong = control_character(data)
    if wrong is not None:
        raise SettingsError(f"settings file {path}: {wrong}")
    return data
