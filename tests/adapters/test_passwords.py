"""Password hashes: argon2id at RFC 9106's cost in production, verified at the cost they carry."""

import re

from arrears.adapters.passwords import PRODUCTION_COST, Argon2Passwords
from tests.password_cost import TEST_COST


def test_a_hash_is_argon2id_at_rfc_9106s_second_recommended_cost() -> None:
    made = Argon2Passwords().hash("correct horse")
    # RFC 9106 §4: 64 MiB, 3 passes, 4 lanes; a 16-byte salt and a 32-byte tag.
    found = re.fullmatch(r"\$argon2id\$v=19\$m=65536,t=3,p=4\$([^$]+)\$([^$]+)", made)
    assert found is not None, made
    salt, tag = found.groups()
    assert (len(salt), len(tag)) == (22, 43)  # base64 of 16 and 32 bytes
    assert made.startswith(Argon2Passwords(PRODUCTION_COST).hash("x")[:30])


def test_a_hash_verifies_at_the_cost_it_carries_and_nothing_else_matches() -> None:
    cheap, dear = Argon2Passwords(TEST_COST), Argon2Passwords()
    made = cheap.hash("correct horse")
    assert dear.verify(made, "correct horse")  # its own cost, read from the hash
    assert not dear.verify(made, "correct horse ")
    assert not dear.verify("$argon2id$v=19$not-a-hash", "correct horse")
    assert not dear.verify("", "correct horse")
