"""Password hashing (argon2id) for people and stations, and the SPEC §2 policy."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# People: argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB).
_people = PasswordHasher()
# Stations: machine-generated secrets checked at every (re)connection; a lighter
# argon2id keeps a reconnect storm of thousands of stations affordable on 2 cores.
_stations = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


class WeakPasswordError(ValueError):
    """A password that breaks the SPEC §2 policy."""


def check_policy(password: str) -> None:
    """At least 8 characters mixing letters and digits (SPEC §2)."""
    if len(password) < 8:
        raise WeakPasswordError("a password needs at least 8 characters")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise WeakPasswordError("a password must mix letters and digits")


#: The one station password rule (OCPP 1.6 security: AuthorizationKey), everywhere:
#: command line, JSON API and portal answer with this sentence.
STATION_PASSWORD_RULE = "An OCPP password is 16 to 40 printable ASCII characters."


def station_password_ok(password: str) -> bool:
    """16 to 40 printable ASCII characters (OCPP 1.6 security profiles 1 and 2)."""
    return 16 <= len(password) <= 40 and password.isascii() and password.isprintable()


def hash_password(password: str) -> str:
    return _people.hash(password)


def hash_station_password(password: str) -> str:
    return _stations.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash`` (either kind)."""
    if not password_hash:
        return False
    try:
        return _people.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
