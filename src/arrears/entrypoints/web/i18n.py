"""Languages of the workbench: zh-CN first, zh-TW and English, from Babel catalogues (.po).

Templates and routes write `_("English text")`; each locale's catalogue gives its text (the
English catalogue is the source itself). Numbers, amounts and dates go through Babel's
locale data.
"""

from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_symbol

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
    """The best of our locales for an Accept-Language header (else zh-CN)."""
    if not header:
        return DEFAULT
    wanted = [part.split(";")[0].strip().lower() for part in header.split(",")]
    for tag in wanted:
        if tag in ("zh-tw", "zh-hk", "zh-hant", "zh-hant-tw"):
            return "zh-TW"
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


def money(minor: int | None, locale: str) -> str:
    """Minor units as an amount with grouping in the locale (exact: no float on the way)."""
    if minor is None:
        return "—"
    value = Decimal(minor).scaleb(-2)
    return format_decimal(value, format="#,##0.00", locale=Locale.parse(locale, sep="-"))


def sign(currency: str, locale: str) -> str:
    """A currency's sign in the locale (¥ for CNY in zh-CN, US$ for USD, £ for GBP …)."""
    return get_currency_symbol(currency, Locale.parse(locale, sep="-"))


def amount(minor: int, currency: str, locale: str) -> str:
    """Minor units in a currency with its sign in the locale (¥, US$ …; exact, two places)."""
    value = Decimal(minor).scaleb(-2)  # every currency in minor units of a hundredth
    return format_currency(
        value, currency, "¤#,##0.00", Locale.parse(locale, sep="-"), currency_digits=False
    )
