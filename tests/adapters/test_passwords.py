"""Password hashes: argon2id at RFC 9106's cost in production, verified at the cost they carry."""

import re

import pytest

from arrears import bootstrap
from arrears.adapters.passwords import Argon2Passwords
from arrears.adapters.settings import load_settings
from tests.password_cost import TEST_COST


def test_a_hash_is_argon2id_at_rfc_9106s_second_recommended_cost() -> None:
    made = Argon2Passwords().hash("correct horse")
    # RFC 9106 §4: 64 MiB, 3 passes, 4 lanes; a 16-byte salt and a 32-byte tag.
    found = re.fullmatch(r"\$argon2id\$v=19\$m=65536,t=3,p=4\$([^$]+)\$([^$]+)", made)
    assert found is not None, made
    salt, tag = found.groups()
    assert (len(salt), len(tag)) == (22, 43)  # base64 of 16 and 32 bytes


def test_a_hash_verifies_at_the_cost_it_carries_and_nothing_else_matches() -> None:
    cheap, dear = Argon2Passwords(TEST_COST), Argon2Passwords()
    made = cheap.hash("correct horse")
    assert dear.verify(made, "correct horse")  # its own cost, read from the hash
    assert not dear.verify(made, "correct horse ")
    assert not dear.verify("$argon2id$v=19$not-a-hash", "correct horse")
    assert not dear.verify("", "correct horse")


def test_an_app_hashes_at_the_production_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests' apps are given the cheap cost (tests/conftest.py); an app's own is this.
    monkeypatch.setattr(bootstrap, "Argon2Passwords", Argon2Passwords)
    app = bootstrap.App("sqlite://", load_settings(None))
    assert app.passwords.hash("x").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
