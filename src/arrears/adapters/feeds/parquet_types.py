"""Which Parquet column types each cell form accepts, and their conversion to text cells.

Cells become text so that CSV and Parquet go through one set of checks and give the same errors.
Floats are refused outright: 0.1 has no exact binary value, and money must be exact to the fen.
"""

import pyarrow as pa
import pyarrow.compute as pc

from arrears.adapters.feeds.specs import Form
from arrears.services.feed import FeedError

_HINTS: dict[Form, str] = {
    "text": "text",
    "money": "decimal (e.g. decimal128(18, 2)) or text such as 1234.56",
    "rate": "decimal or text such as 0.18",
    "date": "date32 or ISO text (YYYY-MM-DD)",
    "integer": "an integer type or text",
}


def _accepts(form: Form, kind: pa.DataType) -> bool:
    """Whether a column of this Arrow type can hold cells of this form exactly."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return True
    if pa.types.is_string_view(kind):
        return True
    if form in ("money", "rate"):
        return bool(pa.types.is_decimal(kind))
    if form == "date":
        return bool(pa.types.is_date(kind))
    # Integer ids (and sequence numbers) convert to text without any loss.
    return bool(pa.types.is_integer(kind))


def _value_type(kind: pa.DataType) -> pa.DataType:
    """The type of the values, looking through dictionary encoding."""
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def parquet_type_errors(field: pa.Field, form: Form) -> list[FeedError]:
    """A file-level error when a column's type cannot hold this column's values exactly."""
    kind = _value_type(field.type)
    if _accepts(form, kind):
        return []
    if pa.types.is_floating(kind):
        why = f"is a floating-point column ({kind}): floats are not exact"
    else:
        why = f"has type {kind}"
    return [FeedError(None, field.name, f"{why}; store it as {_HINTS[form]}")]


def text_column(values: pa.Array) -> pa.Array:
    """A column's cells as text, written as a CSV feed would write them."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        values = values.cast(kind.value_type)
        kind = values.type
    if pa.types.is_decimal(kind) and kind.scale > 2:
        # decimal(18, 4) writes 12.5000; its extra zeros are no extra precision. A zero of
        # scale 7 or more is written 0E-7 … 0E-18 (Spark's decimal(38, 18)): zero all the same
        # (it was refused as no amount, helper-122).
        text = pc.replace_substring_regex(values.cast(pa.string()), r"^0E-[0-9]+$", "0.00")
        return pc.replace_substring_regex(text, r"^(-?[0-9]+\.[0-9]{2})0+$", r"\1")
    return values.cast(pa.string())
