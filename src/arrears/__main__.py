"""`python -m arrears`: the `arrears` command."""

from arrears.entrypoints.cli import app

app(prog_name="arrears")
