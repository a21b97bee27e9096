"""An invalid request's problems in the reader's language (the pages; the API says them in
English as the framework words them)."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

# What each kind of invalid field (pydantic's error type) means, with the limits it names.
PROBLEMS: Mapping[str, str] = {
    "missing": "is required",
    "string_too_long": "may hold at most {max_length} characters",
    "string_too_short": "needs at least {min_length} characters",
    "string_pattern_mismatch": "is not in the form this field takes",
    "nul_character": "holds a NUL character (U+0000) at character {at}: text may hold none",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "decimal_parsing": "is not a number",
    "bool_parsing": "is not true or false",
    "date_parsing": "is not a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "is not a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "is not a date (YYYY-MM-DD)",
    "date_type": "is not a date (YYYY-MM-DD)",
    "string_type": "is not text",
    "int_type": "is not a whole number",
    "bool_type": "is not true or false",
    "list_type": "is not a list",
    "dict_type": "is not an object",
    "model_attributes_type": "is not an object",
    "datetime_parsing": "is not a date and time",
    "datetime_from_date_parsing": "is not a date and time",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "extra_forbidden": "is not a field this request takes",
    "json_invalid": "is not valid JSON",
}


def where(error: Mapping[str, Any]) -> str:
    """The field a problem is about, e.g. `body.user_id`."""
    return ".".join(str(part) for part in error.get("loc", ()))


def problems_text(errors: Sequence[Mapping[str, Any]], translate: Callable[..., str]) -> str:
    """Each problem as `field: what is wrong`, in the language of `translate` (a kind of
    problem it has no words for keeps the framework's English)."""
    return "; ".join(f"{where(e)}: {_problem(e, translate)}" for e in errors)


def _problem(error: Mapping[str, Any], translate: Callable[..., str]) -> str:
    """One problem in words."""
    template = PROBLEMS.get(str(error.get("type", "")))
    if template is None:
        return str(error.get("msg", ""))
    values = {name: str(value) for name, value in (error.get("ctx") or {}).items()}
    try:
        return translate(template).format(**values)
    except (KeyError, IndexError, ValueError):  # fewer limits given than the words name
        return str(error.get("msg", ""))
