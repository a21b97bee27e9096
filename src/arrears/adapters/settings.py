"""The settings file (TOML): products, extra LPR fixings, calendar overrides; shipped defaults."""

import os
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from arrears.adapters.calendar_source import CalendarYear, calendar_years
from arrears.adapters.packs import JURISDICTIONS, cap_policies, lpr_table, read_pack
from arrears.domain.caps import CapPolicy
from arrears.domain.errors import DomainError
from arrears.domain.lpr import LprTable
from arrears.domain.money import parse_amount
from arrears.domain.product import Product

CONFIG_ENV = "ARREARS_CONFIG"
DEFAULT_CONFIG = "arrears.toml"
_PRODUCT_KEYS = {
    "jurisdiction", "cap", "grace_days", "penalty_multiplier", "late_fee", "day_count",
    "holiday_rule", "allocation", "strategy",
}  # fmt: skip
_TOP_KEYS = {"products", "lpr", "calendar_cn"}


class SettingsError(DomainError):
    """The settings file is missing, unreadable or has a bad value (named in the message)."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable that the engines need: products, caps, LPR, calendar overrides."""

    products: dict[str, Product]
    cap_policies: dict[str, dict[str, CapPolicy]]
    lpr: LprTable
    calendar_overrides: tuple[CalendarYear, ...]
    path: Path | None

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
            raise SettingsError(f"settings file {path} does not exist")
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
    shipped = read_pack("products.toml")["products"]
    products = {code: parse_product(code, spec, "products.toml") for code, spec in shipped.items()}
    for code, spec in data.get("products", {}).items():
        products[code] = parse_product(code, spec, where)
    try:
        lpr = lpr_table(data.get("lpr"))
        overrides = calendar_years(data.get("calendar_cn", {}).get("year", []))
    except (KeyError, ValueError) as error:
        raise SettingsError(f"{where}: {error}") from None
    policies = {j: cap_policies(read_pack(f"{j}.toml")) for j in JURISDICTIONS}
    return Settings(products, policies, lpr, overrides, path)


def parse_product(code: str, spec: Any, where: str) -> Product:
    """Build a Product from one [products.NAME] table, naming any bad key."""
    if not isinstance(spec, dict):
        raise SettingsError(f"{where}: products.{code} must be a table")
    unknown = set(spec) - _PRODUCT_KEYS
    if unknown:
        raise SettingsError(
            f"{where}: products.{code} has unknown key(s) {sorted(unknown)}; "
            f"known: {sorted(_PRODUCT_KEYS)}"
        )
    jurisdiction = _typed(spec, "jurisdiction", str, "cn", where, code)
    try:
        return Product(
            code=code,
            jurisdiction=jurisdiction,
            cap=_typed(spec, "cap", str, "licensed", where, code),
            grace_days=_typed(spec, "grace_days", int, 3, where, code),
            penalty_multiplier=Fraction(
                str(_typed(spec, "penalty_multiplier", (int, float), 1.5, where, code))
            ),
            late_fee=parse_amount(_typed(spec, "late_fee", str, "0.00", where, code)),
            day_count=_typed(
                spec, "day_count", int, 360 if jurisdiction == "cn" else 365, where, code
            ),
            holiday_rule=_typed(spec, "holiday_rule", str, "none", where, code),
            allocation=tuple(
                _typed(
                    spec,
                    "allocation",
                    list,
                    ["fees", "penalty", "interest", "principal"],
                    where,
                    code,
                )
            ),
            strategy=_typed(spec, "strategy", str, None, where, code),
        )
    except DomainError as error:
        raise SettingsError(f"{where}: {error}") from None


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
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"cannot read settings file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"settings file {path} is not valid TOML: {error}") from None
