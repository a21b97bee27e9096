"""The settings file: shipped products, added products, and clear errors for bad values."""

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from arrears.adapters.settings import SettingsError, config_path, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "arrears.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_defaults_work_with_no_file() -> None:
    settings = load_settings(None)
    cash = settings.product("cn-cash")
    assert (cash.jurisdiction, cash.cap, cash.grace_days, cash.day_count) == (
        "cn",
        "licensed",
        3,
        360,
    )
    assert settings.product("cn-private").cap == "private"
    assert settings.product("us-installment").day_count == 365
    assert settings.product("uk-installment").jurisdiction == "uk"


def test_a_file_adds_products_with_every_key_of_the_contract(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[products.cash-30]
jurisdiction = "cn"
cap = "licensed"
grace_days = 3
penalty_multiplier = 1.5
late_fee = "0.00"
day_count = 360
holiday_rule = "none"
allocation = ["fees", "penalty", "interest", "principal"]

[products.us-short]
jurisdiction = "us"
""",
    )
    settings = load_settings(path)
    assert settings.product("cash-30").penalty_multiplier == Fraction(3, 2)
    assert settings.product("us-short").day_count == 365  # 365 outside cn by default
    assert "cn-cash" in settings.products


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[products.x]\ngrace = 3", r"products.x has unknown key\(s\) \['grace'\]"),
        ('[products.x]\ngrace_days = "3"', "products.x.grace_days must be int, got '3'"),
        ('[products.x]\ncap = "usury"', "cap must be one of licensed, private, none"),
        ('[products.x]\nlate_fee = "1.234"', "not an amount"),
        ('[products.x]\nallocation = ["fees", "principal"]', "allocation must order exactly"),
        ("[products.x]\nday_count = 366", "day_count must be 360 or 365"),
        ("[product.x]", r"unknown section\(s\) \['product'\]"),
        ("[products.x\n", "not valid TOML"),
        ('[products.x]\nlate_fee = "12.345"', r"products.x.late_fee: '12.345' is not an amount"),
        ("[products.x]\npenalty_multiplier = nan", "penalty_multiplier must be a number, got nan"),
        (
            '[products.x]\nallocation = ["fees", "penalty", "interest", 1]',
            "products.x.allocation must list component names",
        ),
        ("products = 1", r"\[products\] must hold \[products.NAME\] tables"),
        ("lpr = 3", r"\[lpr\] must be a table"),
        # A misspelt key would drop what it holds: a year's holidays, a fixing's source.
        (
            '[[calendar_cn.year]]\nyear = 2026\nholiday = ["2026-10-01"]',
            r"calendar_cn.year\[0\]: unknown key\(s\) \['holiday'\]",
        ),
        ('[lpr]\nknown_thru = "2026-12-31"', r"unknown key\(s\) \['known_thru'\] in lpr"),
        (
            '[[lpr.fixing]]\npublished_on = "2026-01-20"\none_year = "0.03"\nsorce = "x"',
            r"lpr.fixing\[0\]: unknown key\(s\) \['sorce'\]",
        ),
        ('[[lpr.fixing]]\npublished_on = "2026-01-20"', r"lpr.fixing needs \['one_year'\]"),
        (
            '[[lpr.fixing]]\npublished_on = "2026-01-20"\none_year = "3.0"',
            r"one_year '3.0' is not an LPR",
        ),
    ],
)
def test_bad_settings_are_refused_naming_the_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        load_settings(write(tmp_path, body))
    assert str(raised.value).count(str(tmp_path)) == 1  # the file named once


def test_newer_lpr_fixings_extend_the_shipped_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[lpr]
known_through = "2026-12-20"
[[lpr.fixing]]
published_on = "2026-06-22"
one_year = "0.0290"
source = "LPR 2026-06-22"
""",
    )
    lpr = load_settings(path).lpr
    assert lpr.fixing_on(date(2026, 7, 1)).one_year == Fraction("0.029")
    assert lpr.fixing_on(date(2025, 6, 1)).one_year == Fraction("0.03")


def test_config_path_prefers_the_flag_then_the_environment_then_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARREARS_CONFIG", raising=False)
    assert config_path(None, tmp_path) is None
    local = write(tmp_path, "")
    assert config_path(None, tmp_path) == local
    other = tmp_path / "other.toml"
    other.write_text("")
    monkeypatch.setenv("ARREARS_CONFIG", str(other))
    assert config_path(None, tmp_path) == other
    assert config_path(str(local), tmp_path) == local
    with pytest.raises(SettingsError, match="does not exist"):
        config_path(str(tmp_path / "missing.toml"), tmp_path)
