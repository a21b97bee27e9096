"""Languages of the workbench: zh-CN first, zh-TW and English, from Babel catalogues (.po).

Templates and routes write `_("English text")`; each locale's catalogue gives its text (the
English catalogue is the source itself). Numbers, amounts and dates go through Babel's
locale data.
"""

from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.lists import format_list
from babel.messages.pofile import read_po
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_name,
    get_currency_symbol,
)

LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT = "zh-CN"
NAMES = {"zh-CN": "简体中文", "zh-TW": "繁體中文", "en": "English"}


@cache
def catalogue(locale: str) -> dict[str, str]:
    """msgid → translated text for a locale (empty for English: the ids are English)."""
    path = LOCALE_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        read = read_po(handle, locale=locale.replace("-", "_"))
    return {str(m.id): str(m.string) for m in read if m.id and m.string and not m.fuzzy}


def translator(locale: str) -> Callable[..., str]:
    """`_` for a locale: the translated text, with {name} placeholders filled."""
    table = catalogue(locale)

    def gettext(text: str, **values: object) -> str:
        found = table.get(text, text)
        return found.format(**values) if values else found

    return gettext


def negotiate(header: str | None) -> str:
    """The best of our locales for an Accept-Language header (RFC 9110 §12.5.4: the tags
    by their q-values, the first of equal ones first), else zh-CN."""
    if not header:
        return DEFAULT
    ranked = []
    for n, part in enumerate(header.split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            if param.lower().startswith("q="):
                try:
                    weight = float(param[2:])
                except ValueError:
                    weight = 0.0
        if tag and 0 < weight <= 1:  # q=0 is "not this one"; a nonsense q counts as 0
            ranked.append((-weight, n, tag.lower()))
    for _, _, tag in sorted(ranked):
        found = _ours(tag)
        if found is not None:
            return found
    return DEFAULT


def _ours(tag: str) -> str | None:
    """Our locale for one language tag: Chinese in traditional characters (Hant, or Taiwan,
    Hong Kong, Macao without Hans) is zh-TW, other Chinese zh-CN."""
    language, *subtags = tag.split("-")
    if language == "zh":
        traditional = any(t in ("hant", "tw", "hk", "mo") for t in subtags)
        return "zh-TW" if traditional and "hans" not in subtags else "zh-CN"
    if language == "en":
        return "en"
    return None


def money(minor: int | None, locale: str) -> str:
    """Minor units as an amount with grouping in the locale (exact: no float on the way)."""
    if minor is None:
        return "—"
    value = Decimal(minor).scaleb(-2)
    return format_decimal(value, format="#,##0.00", locale=Locale.parse(locale, sep="-"))


def sign(currency: str, locale: str) -> str:
    """A currency's sign in the locale (¥ for CNY in zh-CN, US$ for USD, £ for GBP …)."""
    return get_currency_symbol(currency, Locale.parse(locale, sep="-"))


def currency_name(currency: str, locale: str) -> str:
    """A currency's name in the locale (人民币, 美元; Chinese Yuan, US Dollar)."""
    return get_currency_name(currency, locale=Locale.parse(locale, sep="-"))


def amount(minor: int, currency: str, locale: str) -> str:
    """Minor units in a currency with its sign in the locale (¥, US$ …; exact, two places)."""
    value = Decimal(minor).scaleb(-2)  # every currency in minor units of a hundredth
    return format_currency(
        value, currency, "¤#,##0.00", Locale.parse(locale, sep="-"), currency_digits=False
    )


def listed(items: list[str], joined: Literal["or", "and"], locale: str) -> str:
    """Items listed as the locale lists them: 律师函、立案或结案, "a, b, or c" (`joined`:
    "or" or "and"); none is "—"."""
    if not items:
        return "—"
    style: Literal["or", "standard"] = "or" if joined == "or" else "standard"
    return format_list(items, style=style, locale=Locale.parse(locale, sep="-"))


def one_after_another(clauses: list[str], separator: str, locale: str) -> str:
    """Clauses said one after another: "a; b" or "a, b" in English (`separator`), 甲；乙 or
    甲，乙 in Chinese."""
    if locale.startswith("zh"):
        separator = {"; ": "；", ", ": "，"}.get(separator, separator)
    return separator.join(clauses)
