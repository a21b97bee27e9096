"""Run the command line in-process, expecting success: its JSON document, if it printed one."""

import json

from typer.testing import CliRunner

from arrears.entrypoints.cli import app

runner = CliRunner()


def cli_ok(*args: str, db: str) -> dict[str, object]:
    """`arrears ARGS --db DB`, which must exit 0; the document printed with --json, else {}."""
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == 0, result.stderr
    document: dict[str, object] = json.loads(result.stdout) if "--json" in args else {}
    return document
