"""Text of the hand-edited TOML files (settings, ladders): no control characters in a value.

A NUL is lawful in TOML ("\\u0000") but no store keeps it: PostgreSQL refused one in a
ladder's stage name or a cap's source with a traceback after the night's work, where SQLite
stored it (helper-115). Tabs and line breaks stay: a message or a source may hold them.
"""

from collections.abc import Iterator
from typing import Any

from arrears.adapters.feeds.text_cells import CONTROL_CHAR


def control_character(data: Any, at: str = "") -> str | None:
    """What is wrong with the first text value (or key) of parsed TOML `data` that holds a
    control character, naming its dotted key; None when there is none."""
    for key, text in _texts(data, at):
        found = CONTROL_CHAR.search(text)  # the feeds' controls: all but tab and line breaks
        if found is not None:
            return (
                f"{key or '(top)'} holds a control character (U+{ord(found.group()):04X}): text "
                f"may hold none but tabs and line breaks"
            )
    return None


def _texts(data: Any, at: str) -> Iterator[tuple[str, str]]:
    """Every text in `data` (keys too) with the dotted key it is at."""
    if isinstance(data, str):
        yield at, data
    elif isinstance(data, dict):
        for key, value in data.items():
            here = f"{at}.{key}" if at else str(key)
            yield here, str(key)
            yield from _texts(value, here)
    elif isinstance(data, list):
        for n, value in enumerate(data):
            yield from _texts(value, f"{at} #{n + 1}")  # counted from 1, as the files are read
