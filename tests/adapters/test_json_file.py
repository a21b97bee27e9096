"""A JSON file is replaced whole, or left as it was with nothing beside it."""

from pathlib import Path

import pytest

from arrears.adapters.json_file import write_json_atomically


def test_a_document_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    write_json_atomically(path, {"runs": ["一"]})
    write_json_atomically(path, {"runs": ["二"]})
    assert path.read_text(encoding="utf-8") == '{\n "runs": [\n  "二"\n ]\n}'
    assert [p.name for p in tmp_path.iterdir()] == ["runs.json"]


def test_a_write_that_fails_leaves_the_file_and_no_copy(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    write_json_atomically(path, {"runs": []})
    with pytest.raises(TypeError):
        write_json_atomically(path, {"runs": [{1, 2}]})  # a set is not JSON: fails mid-write
    assert path.read_text(encoding="utf-8") == '{\n "runs": []\n}'
    assert [p.name for p in tmp_path.iterdir()] == ["runs.json"]
