"""`arrears serve` (CONTRACT.md): a real server process on an initialised database answers
the sign-in page and the API schema; an uninitialised database is refused before serving."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from arrears.entrypoints.cli import app

ARREARS = [str(Path(sys.executable).with_name("arrears"))]  # the installed console script


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_the_sign_in_page_and_the_schema(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'arrears.db'}"
    assert CliRunner().invoke(app, ["init", "--db", db]).exit_code == 0
    port = free_port()
    server = subprocess.Popen(
        [*ARREARS, "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = ""
        for _ in range(100):
            if server.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as got:
                    assert got.status == 200
                    page = got.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        assert "登录" in page, "the server did not answer"
        with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2) as schema:
            assert b'"/api/v1/cases/{loan_id}"' in schema.read()
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=10)
    assert "Traceback" not in errors


def test_serve_refuses_a_database_never_initialised(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'new.db'}"])
    assert result.exit_code != 0
    assert "arrears init" in result.stderr
