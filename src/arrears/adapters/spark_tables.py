"""Many tables through one Spark stage: rows of every table in one frame of typed slots.

Spark's grouped-Arrow task takes one frame, but a run reads a dozen tables. Each table's
columns are laid into slots by type (strings into s0, s1…, integers into i0, i1…, dates,
booleans, instants), with `kind` naming the table: the union is as wide as the widest table
of each type (~30 columns), not the sum of all tables (~100), so ten million instalment rows
carry few empty cells. The task unpacks its bucket's rows by kind; the outputs come back the
same way and are written by Spark alone, without another Python stage.
"""

from collections.abc import Iterable, Mapping

import polars as pl
import pyarrow as pa

UTC = pl.Datetime("us", "UTC")
# Slot prefix → (Spark type, Polars type, Arrow type) of the values it holds.
_KINDS: dict[str, tuple[str, pl.DataType, pa.DataType]] = {
    "s": ("string", pl.String(), pa.string()),
    "i": ("bigint", pl.Int64(), pa.int64()),
    "d": ("date", pl.Date(), pa.date32()),
    "b": ("boolean", pl.Boolean(), pa.bool_()),
    "t": ("timestamp", UTC, pa.timestamp("us", tz="UTC")),
    # A sum of a book's amounts (run.CURRENCY_SUMS: Int128, which neither Spark nor Arrow
    # has): 38 digits hold any such sum exactly.
    "n": ("decimal(38,0)", pl.Decimal(38, 0), pa.decimal128(38, 0)),
}
_PREFIX: dict[type[pl.DataType], str] = {
    pl.String: "s", pl.Int64: "i", pl.Int32: "i", pl.Int8: "i", pl.Date: "d", pl.Boolean: "b",
    pl.Datetime: "t", pl.Int128: "n",
}  # fmt: skip


def slots_of(schema: pl.Schema) -> dict[str, str]:
    """Each column's slot: the n-th string column goes to s<n>, the n-th integer to i<n>, …"""
    used: dict[str, int] = {}
    placed = {}
    for name, dtype in schema.items():
        prefix = _PREFIX.get(dtype.base_type())
        if prefix is None:
            raise TypeError(f"column {name}: no slot for {dtype}")
        placed[name] = f"{prefix}{used.get(prefix, 0)}"
        used[prefix] = used.get(prefix, 0) + 1
    return placed


class SlotUnion:
    """The slot layout shared by a set of tables, and packing and unpacking of its rows."""

    def __init__(self, schemas: Mapping[str, pl.Schema]) -> None:
        self.schemas = dict(schemas)
        self.slots = {kind: slots_of(schema) for kind, schema in self.schemas.items()}
        width: dict[str, int] = {}
        for placed in self.slots.values():
            for slot in placed.values():
                width[slot[0]] = max(width.get(slot[0], 0), int(slot[1:]) + 1)
        self.columns = [f"{p}{n}" for p in _KINDS for n in range(width.get(p, 0))]
        fields = [pa.field(c, _KINDS[c[0]][2]) for c in self.columns]
        self.arrow = pa.schema([("bucket", pa.int32()), ("kind", pa.string()), *fields])

    @property
    def ddl(self) -> str:
        """The union's Spark schema: bucket, kind, then every slot."""
        slots = ", ".join(f"{c} {_KINDS[c[0]][0]}" for c in self.columns)
        return f"bucket int, kind string, {slots}"

    def slot_type(self, slot: str) -> str:
        """The Spark type a slot holds."""
        return _KINDS[slot[0]][0]

    def pack(self, bucket: int, frames: Mapping[str, pl.DataFrame]) -> pa.Table:
        """Named frames (each of its kind's schema) as the union's rows."""
        parts = [
            frame.select(
                pl.lit(bucket, pl.Int32).alias("bucket"), pl.lit(kind).alias("kind"),
                *(pl.col(name).cast(_KINDS[slot[0]][1]).alias(slot)
                  for name, slot in self.slots[kind].items()),
            )
            for kind, frame in frames.items()
        ]  # fmt: skip
        empty = pl.DataFrame(schema={"bucket": pl.Int32, "kind": pl.String})
        rows = pl.concat([empty, *parts], how="diagonal")
        filled = rows.select(
            "bucket", "kind",
            *(pl.col(c) if c in rows.columns else pl.lit(None, _KINDS[c[0]][1]).alias(c)
              for c in self.columns),
        )  # fmt: skip
        return filled.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(self.arrow)

    def unpack(self, rows: pa.Table, kinds: Iterable[str] | None = None) -> dict[str, pl.DataFrame]:
        """The union's rows back into frames by kind (kinds absent from the rows are left out)."""
        frame = pl.from_arrow(rows)
        assert isinstance(frame, pl.DataFrame)
        present = set(frame.get_column("kind").unique().to_list())
        found = {}
        for kind in kinds if kinds is not None else self.schemas:
            if kind in present:
                mine = frame.filter(pl.col("kind") == kind)
                found[kind] = mine.select(
                    pl.col(slot).cast(self.schemas[kind][name]).alias(name)
                    for name, slot in self.slots[kind].items()
                )
        return found
