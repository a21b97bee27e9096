"""Characters nobody sees: what the content lint reads past and a blank text is made of."""

import unicodedata

# Besides Unicode's format characters (category Cf: zero-width spaces and joiners, the soft
# hyphen, bidirectional marks and isolates, invisible operators, tag characters, the byte
# order mark), marks and letters that show nothing: the combining grapheme joiner, the Hangul
# fillers and the variation selectors (helper-89 hid 坐牢 and "idiot" behind U+200E and
# U+034F, which the lint's short list of zero-width characters let through).
_SHOW_NOTHING = frozenset("\u034f\u115f\u1160\u3164\uffa0")
_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))


def is_invisible(char: str) -> bool:
    """Whether the character shows nothing where it stands."""
    if char in _SHOW_NOTHING or unicodedata.category(char) == "Cf":
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in _SELECTORS)


def visible(text: str) -> str:
    """The text without the characters nobody sees."""
    return "".join(char for char in text if not is_invisible(char))


def is_blank(text: str) -> bool:
    """Whether nothing of the text shows: only spaces and characters nobody sees."""
    return not visible(text).strip()
