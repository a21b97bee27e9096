"""The dependency rule: the domain is pure (stdlib only), and imports point down the layers."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "arrears"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    offenders = {}
    for path in sorted((SRC / "domain").rglob("*.py")):
        foreign = {
            name
            for name in imported_modules(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and not name.startswith("arrears.domain")
        }
        if foreign:
            offenders[path.name] = sorted(foreign)
    assert offenders == {}


def test_the_domain_reads_no_clock() -> None:
    # Time is an argument: the clock is read once, in the entrypoints.
    readers = ("now(", "today(", "utcnow(", "time.time(", "monotonic(")
    for path in sorted((SRC / "domain").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not any(r in text for r in readers), path.name


def test_import_linter_contracts_hold() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
