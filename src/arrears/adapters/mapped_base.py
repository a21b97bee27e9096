"""A loan table's base as one uncompressed Arrow IPC file, read through a memory map, with a
check written beside it.

A night reads every loan's few columns and the worked loans' other columns of the base. From
Parquet it decodes them into fresh memory; from a map of an IPC file the page cache hands
them over as they are stored (bench/state_format.py: the two reads 160 -> 75 ms a bench night,
the night 0.91 x by turns; the file takes 6.5 times LZ4 Parquet's disk). Unlike a compressed
Parquet page, stored numbers decode to something whatever their bytes, so a base changed after
it was written (by a disk, a copy or a hand: state_damage) would be read as figures; the check
written with it (its length, and the sum and exclusive-or of its bytes as 64-bit words) is
compared before a run that read it commits anything.
"""

import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

BASE = "part-0.arrow"
CHECK = f"{BASE}.check"  # beside it: not a part (book_folder.part_files lists by suffix)


def write_base(target: Path, frame: pl.DataFrame) -> None:
    """Write `frame` as the base in the table folder `target`, and its check."""
    path = target / BASE
    frame.write_ipc(path, compression="uncompressed")
    (target / CHECK).write_text(json.dumps(file_check(path)), encoding="utf-8")


def mapped(path: Path) -> pa.Table:
    """The base's table over a memory map of its file (no copy). Only its lengths and its
    buffers' sizes are checked here: `check_base` compares its bytes with its check."""
    table = ipc.open_file(pa.memory_map(str(path))).read_all()
    table.validate()
    return table


def file_check(path: Path) -> list[int]:
    """The file's length in bytes, and the sum (modulo 2**64) and exclusive-or of its bytes
    read as little-endian 64-bit words, the last padded with zeros: any change of a run of its
    bytes, zeroed or overwritten, changes them but for odds of one in 2**64 (a swap of two
    words alone does not). 50-75 ms for a million loans' base, on one core."""
    size = path.stat().st_size
    if size == 0:
        return [0, 0, 0]
    data = np.memmap(path, dtype=np.uint8, mode="r")
    whole = size - size % 8
    words = data[:whole].view("<u8")
    last = int.from_bytes(bytes(data[whole:]), "little")
    total = (int(np.add.reduce(words, dtype=np.uint64)) + last) % 2**64
    mixed = int(np.bitwise_xor.reduce(words, dtype=np.uint64)) ^ last
    return [size, total, mixed]


def check_base(parts: list[Path]) -> None:
    """ValueError unless each IPC part of a loan table matches the check written with it
    (Parquet parts are left to their reader: a damaged page fails to decode)."""
    for part in parts:
        if part.suffix != ".arrow":
            continue
        check = part.with_name(f"{part.name}.check")
        if not check.is_file():
            raise ValueError(f"its check {check.name} is missing")
        if json.loads(check.read_text(encoding="utf-8")) != file_check(part):
            raise ValueError(f"it does not match its check {check.name}: changed since written")
