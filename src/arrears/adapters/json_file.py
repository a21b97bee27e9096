"""A JSON document written whole or not at all."""

import json
import os
import secrets
from pathlib import Path
from typing import Any


def write_json_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write a JSON file by renaming a fully written and flushed copy over it; a write that
    fails leaves the file as it was and no copy behind."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
