"""Password hashes: argon2id (RFC 9106) with argon2-cffi's default parameters."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Passwords:
    """Implements casework_ports.PasswordHasher with argon2id."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    def hash(self, password: str) -> str:
        """A salted argon2id hash with its parameters."""
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """Whether the password matches (a malformed stored hash never matches)."""
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
