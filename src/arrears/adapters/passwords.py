"""Password hashes: argon2id (RFC 9106)."""

from argon2 import Parameters as Argon2Cost
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

# RFC 9106 §4's second recommended option (64 MiB, 3 passes, 4 lanes): for machines without
# the 2 GiB the first option takes per sign-in; argon2-cffi's default parameters.
PRODUCTION_COST = RFC_9106_LOW_MEMORY


class Argon2Passwords:
    """Implements casework_ports.PasswordHasher with argon2id; `cost` rides in each hash, so a
    hash verifies at the cost it was made with."""

    def __init__(self, cost: Argon2Cost = PRODUCTION_COST) -> None:
        self._hasher = PasswordHasher.from_parameters(cost)

    def hash(self, password: str) -> str:
        """A salted argon2id hash with its parameters."""
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """Whether the password matches (a malformed stored hash never matches)."""
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
