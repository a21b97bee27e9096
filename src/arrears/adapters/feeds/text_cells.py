"""Raw cells to text: a cell that is not UTF-8, or holds a control character, is refused."""

import re

import polars as pl
import pyarrow as pa

# C0 controls but tab, line feed and carriage return (a quoted CSV value may span lines), DEL
# and the C1 controls: no name, id, address or amount holds one, and PostgreSQL's text cannot
# hold NUL at all (SQLite stored it; PostgreSQL refused the whole write with a DataError).
_CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]"
CONTROL_CHAR = re.compile(_CONTROL)


def text_cells(table: pa.Table) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """Each column as text (null where refused), and each refused cell's reason by column (null
    where the cell is good; only columns with a refused cell). Checked in bulk; only refused
    cells are looked at one by one."""
    columns: list[pl.Series] = []
    refused: dict[str, pl.Series] = {}
    for name in table.column_names:
        text, reasons = _column_text(name, table.column(name))
        if reasons is not None:
            refused[name] = reasons
            text = pl.select(pl.when(reasons.is_null()).then(text)).to_series().alias(name)
        columns.append(text)
    return pl.DataFrame(columns), refused


def text_problem(raw: bytes) -> str | None:
    """Why one cell's bytes are not acceptable text, or None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _not_utf8(raw)
    found = CONTROL_CHAR.search(text)
    return None if found is None else _control(found)


def _column_text(name: str, values: pa.ChunkedArray) -> tuple[pl.Series, pl.Series | None]:
    """A column as text, and its refused cells' reasons (None when there are none)."""
    raw = values.cast(pa.binary())
    try:
        text = pl.Series(name, raw.cast(pa.string()))  # Arrow checks the UTF-8 here, in bulk
    except pa.ArrowInvalid:
        cells = raw.to_pylist()
        why = [None if cell is None else text_problem(cell) for cell in cells]
        good = [cell.decode() if cell is not None and not bad else None
                for cell, bad in zip(cells, why, strict=True)]  # fmt: skip
        return pl.Series(name, good, pl.String), pl.Series(name, why, pl.String)
    flagged = text.str.contains(_CONTROL).fill_null(value=False)
    if not flagged.any():
        return text, None
    found = [_control(CONTROL_CHAR.search(cell)) for cell in text.filter(flagged)]
    reasons = pl.Series(name, [None] * text.len(), pl.String)
    return text, reasons.scatter(flagged.arg_true(), pl.Series(found, dtype=pl.String))


def _not_utf8(raw: bytes) -> str:
    """A cell that is not UTF-8: most likely the whole file was saved in a Chinese code page."""
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        return "not UTF-8 (the file must be UTF-8)"
    return "not UTF-8 (the file must be UTF-8; was it saved as GBK?)"


def _control(found: re.Match[str] | None) -> str:
    """Where a cell holds a control character, and which."""
    assert found is not None  # only cells the same pattern matched are asked
    code = ord(found.group())
    what = "a NUL byte" if code == 0 else "a control character"
    return f"holds {what} (U+{code:04X}) at character {found.start() + 1}: text may hold none"
