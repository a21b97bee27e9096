"""The settings file: shipped products, added products, and clear errors for bad values."""

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from arrears.adapters import content_pack, message_pack
from arrears.adapters import settings as settings_module
from arrears.adapters.settings import SettingsError, config_path, load_settings
from arrears.domain.caps import OwnCap
from arrears.domain.late_fees import LateFeeLimit
from arrears.domain.queue_priority import QueueScale


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

[products.us-ohio]
jurisdiction = "us"
limitation_years = 6

[products.held]
pause_ageing = ["dispute"]
pause_charges = ["dispute", "hardship"]
""",
    )
    settings = load_settings(path)
    # The hold kinds that stop each clock (docs/MONEY_RULES.md, "Pauses"); none by default.
    held = settings.product("held")
    assert (held.pause_ageing, held.pause_charges) == (("dispute",), ("dispute", "hardship"))
    assert not settings.product("cn-cash").pauses_anything
    assert not any(p.pauses_anything for p in load_settings(None).products.values())
    assert settings.product("cash-30").penalty_multiplier == Fraction(3, 2)
    assert settings.product("us-short").day_count == 365  # 365 outside cn by default
    assert settings.product("us-short").cap == "none"  # no pack outside cn defines a cap
    assert settings.product("cash-30").cap == "licensed"
    assert "cn-cash" in settings.products
    # The state's limitation period, else the pack's (batch/time_barred.product_rules).
    assert (
        settings.product("us-ohio").limitation_years,
        settings.product("us-short").limitation_years,
    ) == (6, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[products.x]\ngrace = 3", r"products.x has unknown key\(s\) \['grace'\]"),
        # Found by helper-115: a NUL stored by SQLite, refused by PostgreSQL with a
        # traceback; an empty ladder name run as the shipped one; an empty product code kept.
        (
            '[products.x]\ncap_rate = "0.10"\ncap_source = "policy\\u0000x"',
            r"products.x.cap_source holds a control character \(U\+0000\)",
        ),
        ('[products.x]\nstrategy = ""', r"products.x.strategy is empty: name a shipped ladder"),
        ('[products.""]\njurisdiction = "cn"', r"product code '' must be 1 to 64 characters"),
        ('[products.x]\ngrace_days = "3"', "products.x.grace_days must be int, got '3'"),
        ('[products.x]\ncap = "usury"', "cap must be one of licensed, private, none"),
        ('[products.x]\nlate_fee = "1.234"', "not an amount"),
        ('[products.x]\nallocation = ["fees", "principal"]', "allocation must order exactly"),
        ("[products.x]\nday_count = 366", "day_count must be 360 or 365"),
        ("[product.x]", r"unknown section\(s\) \['product'\]"),
        ("[products.x\n", "not valid TOML"),
        ('[products.x]\nlate_fee = "12.345"', r"products.x.late_fee: '12.345' is not an amount"),
        # The largest amount a feed takes (money.LARGEST_AMOUNT): the engines' sums rest on it.
        ('[products.x]\nlate_fee = "10000000000000.00"', r"late_fee must be at most 9{13}\.99"),
        ("[products.x]\npenalty_multiplier = nan", "penalty_multiplier must be a number, got nan"),
        # Past the engines' exact arithmetic: named here, not blamed on the loans' rates.
        (
            "[products.x]\npenalty_multiplier = 1e-300",
            r"products.x.penalty_multiplier must be from 0 to 10 with at most 6 decimals .* 1e-300",
        ),
        ("[products.x]\npenalty_multiplier = 1e300", r"penalty_multiplier must be from 0 to 10"),
        ("[products.x]\npenalty_multiplier = 1.123456789", "got 1.123456789"),
        ("[products.x]\npenalty_multiplier = 0.0000128", "got 1.28e-05"),
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
        # A float is no exact rate, nor a week, a number or a time a day (helper-88).
        (
            '[[lpr.fixing]]\npublished_on = "2026-06-22"\none_year = 0.029',
            r"lpr.fixing\[0\].one_year must be a decimal fraction written as text, such as "
            r'"0.031", got 0.029',
        ),
        ('[lpr]\nknown_through = "2026W51"', r"known_through: '2026W51' is not an ISO date"),
        (
            '[[lpr.fixing]]\npublished_on = 20260622\none_year = "0.029"',
            r"published_on: 20260622 is not an ISO date",
        ),
        (
            '[[lpr.fixing]]\npublished_on = 2026-06-22T00:00:00\none_year = "0.029"',
            r"published_on: datetime.datetime\(2026, 6, 22, 0, 0\) is not an ISO date",
        ),
        # A cap the jurisdiction's pack lacks would fail the whole night later, for every loan.
        (
            '[products.x]\njurisdiction = "us"\ncap = "private"',
            r"products.x.cap 'private' must be none \(the us rule pack defines no cost cap\)",
        ),
        # China's pack caps every loan: a product may choose its cap, never none (REGULATIONS.md:
        # a lender may only make a pack stricter).
        (
            '[products.x]\njurisdiction = "cn"\ncap = "none"',
            r"products.x.cap 'none' is refused: the cn rule pack caps every loan, .* choose one "
            r"of licensed, private",
        ),
        # The published LPR is a fact, and 4 × it caps private loans.
        (
            '[[lpr.fixing]]\npublished_on = "2025-05-20"\none_year = "0.2"',
            r"lpr.fixing\[0\]: the one-year LPR in force on 2025-05-20 is 3% \(全国银行间",
        ),
        (
            '[[lpr.fixing]]\npublished_on = "2025-06-20"\none_year = "0.031"',
            r"in force on 2025-06-20 is 3% .* cannot change a published one \(got 3.1%\)",
        ),
        (
            '[[lpr.fixing]]\npublished_on = "2019-01-20"\none_year = "0.0431"',
            "the one-year LPR in force on 2019-01-20 is none in the shipped table",
        ),
        (
            '[[lpr.fixing]]\npublished_on = "2030-01-20"\none_year = "0.03"\n'
            '[[lpr.fixing]]\npublished_on = 2030-01-20\none_year = "0.019"',
            r"lpr.fixing\[1\].published_on 2030-01-20 is given twice \(lpr.fixing\[0\]\)",
        ),
        (
            '[[lpr.fixing]]\npublished_on = "2030-01-20"\none_year = "0.03"\nsource = " "',
            r"lpr.fixing\[0\].source must be a text naming the publication, got ' '",
        ),
        (
            "[[calendar_cn.year]]\nyear = true",
            r"calendar_cn.year\[0\].year must be an integer, got True",
        ),
        ("[[calendar_cn.year]]\nyear = 2030.5", r"year\[0\].year must be an integer, got 2030.5"),
        ("[[calendar_cn.year]]\nyear = 3030", r"year\[0\].year 3030 is outside 1900-2199"),
        (
            "[[calendar_cn.year]]\nyear = 2030\n"
            '[[calendar_cn.year]]\nyear = 2030\nholidays = ["2030-01-01"]',
            r"calendar_cn.year\[1\].year 2030 is given twice \(calendar_cn.year\[0\]\)",
        ),
        (
            '[[calendar_cn.year]]\nyear = 2030\nholidays = ["2030-02-03"]\nworkdays = [2030-02-03]',
            r"calendar_cn.year\[0\]: 2030-02-03 is both a holiday and a make-up working day",
        ),
        (
            "[[calendar_cn.year]]\nyear = 2030\nholidays = [1]",
            r"calendar_cn.year\[0\].holidays\[0\] must be a day \(YYYY-MM-DD\), got 1",
        ),
        (
            '[[calendar_cn.year]]\nyear = 2030\nworkdays = ["2030-01-05", "2030-02-30"]',
            r"calendar_cn.year\[0\].workdays\[1\] '2030-02-30' is not a day \(YYYY-MM-DD\)",
        ),
        (
            '[[calendar_cn.year]]\nyear = 2030\nholidays = ["2031-01-01"]',
            r"calendar_cn.year\[0\].holidays\[0\] 2031-01-01 is not in 2030",
        ),
        (
            '[feeds]\nphone_region = "USA"',
            r"feeds.phone_region: 'USA' is not a region phone numbers are read in \(ISO 3166",
        ),
        ('[feeds]\nregion = "US"', r"unknown key\(s\) \['region'\] in feeds"),
        ('feeds = "US"', r"\[feeds\] must be a table"),
        # A period where the pack bars no suit would change nothing, unseen.
        (
            "[products.x]\nlimitation_years = 6",
            r"products.x.limitation_years: the cn pack refuses no action on a time-barred debt",
        ),
        (
            '[products.x]\njurisdiction = "us"\nlimitation_years = 0',
            r"product 'x': limitation years must be between 1 and 30, got 0",
        ),
        (
            '[products.x]\njurisdiction = "us"\nlimitation_years = "6"',
            "products.x.limitation_years must be int, got '6'",
        ),
        ('[queue]\ncurrncy = "CNY"', r"unknown key\(s\) \['currncy'\] in queue"),
        ('[queue]\ncurrency = "yuan"', "queue.currency 'yuan' is not an ISO 4217 code"),
        ("[queue.rates]\nUSD = 7.1", r"queue.rates.USD 7.1 must be a positive decimal in quotes"),
        ('[queue.rates]\nUSD = "0"', "queue.rates.USD '0' must be a positive decimal"),
        ('[queue.rates]\nUSD = "7,10"', "queue.rates.USD '7,10' must be a positive decimal"),
        ('[queue.rates]\nusd = "7.10"', "queue.rates: 'usd' is not an ISO 4217 code"),
        ('[queue.rates]\nCNY = "1"', "queue.rates.CNY: the reference needs no rate"),
        ('queue = "CNY"', r"\[queue\] must be a table"),
        (f"[products.{'p' * 65}]", f"product code '{'p' * 65}' must be 1 to 64 characters"),
        ('[products."cn cash"]', "product code 'cn cash' must be 1 to 64 characters, without"),
        ("[queue]\nscore_low = 300", "queue.score_low and queue.score_high are given together"),
        ('[queue]\nscore_low = 300\nscore_high = "850"', "whole numbers"),
        ("[queue]\nscore_low = 850\nscore_high = 300", "queue.score_low 850 must be below"),
        # A misspelt kind would pause nothing, unseen.
        (
            '[products.x]\npause_charges = ["Dispute"]',
            r"product 'x': pause_charges names 'Dispute': hold kinds are dispute, hardship",
        ),
        ('[products.x]\npause_ageing = "dispute"', "products.x.pause_ageing must be list"),
        ("[products.x]\npause_ageing = [1]", r"products.x.pause_ageing must list hold kinds"),
        # A product's own cost cap: exact text, with its source, and stricter than the pack's.
        (
            '[products.x]\njurisdiction = "us"\ncap_rate = 0.36\ncap_source = "MLA"',
            r'products.x.cap_rate must be a decimal fraction written as text, such as "0.36"',
        ),
        (
            '[products.x]\njurisdiction = "us"\ncap_rate = "0.36"',
            "products.x.cap_source is required with cap_rate: the law or policy a cut",
        ),
        (
            '[products.x]\njurisdiction = "us"\ncap_rate = "0.36"\ncap_source = " "',
            "products.x.cap_source must name the law or policy of cap_rate as text, got ' '",
        ),
        (
            '[products.x]\njurisdiction = "us"\ncap_source = "MLA"',
            "products.x.cap_source is given without cap_rate",
        ),
        (
            '[products.x]\njurisdiction = "us"\ncap_rate = "1e-1"\ncap_source = "MLA"',
            r"products.x.cap_rate must be a decimal fraction .* at most 8 decimals, got '1e-1'",
        ),
        (
            '[products.x]\njurisdiction = "us"\ncap_rate = "0.3600000000000000001"\n'
            'cap_source = "MLA"',
            r"at most 8 decimals, got '0.3600000000000000001'",
        ),
        (
            '[products.x]\njurisdiction = "us"\ncap_rate = "36"\ncap_source = "MLA"',
            r"products.x.cap_rate: rate '36' is outside 0..10",
        ),
        (
            '[products.x]\njurisdiction = "us"\ncap_rate = "0"\ncap_source = "MLA"',
            "products.x.cap_rate: an own cost cap must be above zero",
        ),
        (
            '[products.x]\ncap_rate = "0.24"\ncap_source = "policy"',
            r"products.x.cap_rate 24%/yr is not below the cn rule pack's licensed cap "
            r"\(24%/yr, cn.cap.licensed\)",
        ),
        (
            '[products.x]\njurisdiction = "uk"\ncap_total = "1"',
            "products.x.cap_total is given without cap_rate",
        ),
        (
            '[products.x]\njurisdiction = "uk"\ncap_rate = "2.92"\ncap_source = "CONC"\n'
            "cap_total = 1.0",
            r"products.x.cap_total must be a multiple of the principal lent written as text, such "
            r'as "1" .* got 1.0',
        ),
        (
            '[products.x]\njurisdiction = "uk"\ncap_rate = "2.92"\ncap_source = "CONC"\n'
            'cap_total = "0"',
            "products.x.cap_total: an own cap on total charges must be above zero",
        ),
        (
            '[products.x]\njurisdiction = "uk"\ncap_rate = "2.92"\ncap_source = "CONC"\n'
            'cap_total = "11"',
            r"products.x.cap_total must be at most 10 times the principal lent .* got '11'",
        ),
        (
            '[products.x]\ncap_rate = "0.18"\ncap_source = "policy"\ncap_total = "1"',
            r"products.x.cap_total needs cap 'none' .* not 'licensed'",
        ),
        (
            '[products.x]\njurisdiction = "uk"\nlate_fee = "12.00"\nlate_fee_source = "CONC"',
            "products.x.late_fee_source is given without late_fee_total, the limit it is for",
        ),
        (
            '[products.x]\njurisdiction = "uk"\nlate_fee = "12.00"\nlate_fee_total = 15\n'
            'late_fee_source = "CONC"',
            r'products.x.late_fee_total must be an amount written as text, such as "15.00", '
            r"got 15",
        ),
        (
            '[products.x]\njurisdiction = "uk"\nlate_fee = "12.00"\nlate_fee_total = "15.00"',
            "products.x.late_fee_source is required with late_fee_total",
        ),
        (
            '[products.x]\njurisdiction = "uk"\nlate_fee = "12.00"\nlate_fee_total = "15.00"\n'
            'late_fee_source = "\u200b"',
            "products.x.late_fee_source is required with late_fee_total",
        ),
        (
            '[products.x]\njurisdiction = "uk"\nlate_fee = "12.00"\nlate_fee_total = "15.005"\n'
            'late_fee_source = "CONC"',
            r"products.x.late_fee_total: '15.005' is not an amount",
        ),
        (
            '[products.x]\njurisdiction = "uk"\nlate_fee = "12.00"\nlate_fee_total = "0.00"\n'
            'late_fee_source = "CONC"',
            r"products.x.late_fee_total: a limit on late fees must be above 0.00",
        ),
        (
            '[products.x]\njurisdiction = "uk"\nlate_fee_total = "15.00"\nlate_fee_source = "CONC"',
            r"product 'x': late_fee_total limits late fees, but the product charges none",
        ),
    ],
)
def test_bad_settings_are_refused_naming_the_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        load_settings(write(tmp_path, body))
    assert str(raised.value).count(str(tmp_path)) == 1  # the file named once


def test_a_settings_file_saved_with_a_byte_order_mark_is_read_past_it(tmp_path: Path) -> None:
    # As a ladder's is (Windows Notepad writes one): it was "not valid TOML" (helper-115).
    path = tmp_path / "arrears.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'[products.x]\njurisdiction = "cn"\n')
    assert load_settings(path).products["x"].jurisdiction == "cn"


def test_a_product_may_set_its_own_stricter_cost_cap(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[products.us-mla]
jurisdiction = "us"
cap_rate = "0.36"
cap_source = "10 USC 987(b): 36 %"

[products.cn-strict]
cap_rate = "0.18"
cap_source = "lender policy"

[products.cn-private-strict]
cap = "private"
cap_rate = "0.12"
cap_source = "lender policy"

[products.uk-hcstc]
jurisdiction = "uk"
day_count = 365
cap_rate = "2.92"
cap_source = "FCA CONC 5A.3.2R, 5A.3.3R"
cap_total = "1"
late_fee = "15.00"
late_fee_total = "15.00"
late_fee_source = " FCA CONC 5A.3.18R "
""",
    )
    settings = load_settings(path)
    mla = settings.product("us-mla").own_cap
    assert mla is not None
    assert (mla.rate, mla.source) == (Fraction("0.36"), "10 USC 987(b): 36 %")
    assert settings.product("cn-strict").own_cap == OwnCap(Fraction("0.18"), "lender policy")
    assert settings.product("cn-private-strict").cap == "private"
    assert settings.product("cn-cash").own_cap is None
    hcstc = OwnCap(Fraction("2.92"), "FCA CONC 5A.3.2R, 5A.3.3R", Fraction(1))
    assert settings.product("uk-hcstc").own_cap == hcstc
    assert mla.total is None
    limit = LateFeeLimit(1_500, "FCA CONC 5A.3.18R")
    assert settings.product("uk-hcstc").late_fee_limit == limit
    assert settings.product("us-mla").late_fee_limit is None


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


def test_a_fixing_the_shipped_table_holds_and_days_as_toml_dates_are_taken(
    tmp_path: Path,
) -> None:
    # A file written before a release shipped a fixing still loads once it ships.
    path = write(
        tmp_path,
        """
[lpr]
known_through = 2026-12-20
[[lpr.fixing]]
published_on = "2025-05-20"
one_year = "0.0300"
[[lpr.fixing]]
published_on = 2026-06-22
one_year = "0.029"

[[calendar_cn.year]]
year = 2030
holidays = [2030-01-01, "2030-02-04"]
workdays = [2030-02-09]
""",
    )
    settings = load_settings(path)
    shipped = load_settings(None).lpr
    assert settings.lpr.fixing_on(date(2025, 6, 1)) == shipped.fixing_on(date(2025, 6, 1))
    assert settings.lpr.fixing_on(date(2026, 7, 1)).one_year == Fraction("0.029")
    assert settings.lpr.known_through == date(2026, 12, 20)
    (year,) = settings.calendar_overrides
    assert year.holidays == {date(2030, 1, 1), date(2030, 2, 4)}
    assert year.workdays == {date(2030, 2, 9)}


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


def test_the_feeds_phone_region_is_read_and_defaults_to_china(tmp_path: Path) -> None:
    assert load_settings(None).phone_region == "CN"
    assert load_settings(write(tmp_path, '[feeds]\nphone_region = "us"')).phone_region == "US"


def test_the_queue_weighs_other_currencies_at_the_rates_given(tmp_path: Path) -> None:
    assert load_settings(None).queue_scale == QueueScale("CNY", {})
    scale = load_settings(write(tmp_path, '[queue.rates]\nUSD = "7.10"\nGBP = "9.05"')).queue_scale
    assert scale == QueueScale("CNY", {"USD": Decimal("7.10"), "GBP": Decimal("9.05")})
    assert scale.minor(10_000, "USD") == 71_000  # 100.00 USD counts as 710.00 CNY
    assert scale.minor(10_000, "CNY") == 10_000
    assert (scale.known("USD"), scale.known("CNY"), scale.known("EUR")) == (True, True, False)


def test_the_shipped_packs_are_read_once_and_each_load_has_its_own_tables_of_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = load_settings(None)

    def unread(name: str) -> None:
        raise AssertionError(f"{name} read again")

    # Parsed once a process: a later load reads no shipped pack again.
    monkeypatch.setattr(settings_module, "read_pack", unread)
    monkeypatch.setattr(content_pack, "read_pack", unread)
    monkeypatch.setattr(message_pack, "read_pack", unread)
    second = load_settings(None)
    assert second.content_packs == first.content_packs
    assert second.messages == first.messages
    assert second.cap_policies == first.cap_policies
    assert second.products == first.products
    # Each load's tables are its own: one changed leaves the next load's as shipped.
    first.content_packs.clear()
    first.messages.clear()
    first.cap_policies["cn"].clear()
    third = load_settings(None)
    assert set(third.content_packs) == {"cn", "us", "uk"}
    assert third.messages == second.messages != {}
    assert set(third.cap_policies["cn"]) == {"licensed", "private"}
