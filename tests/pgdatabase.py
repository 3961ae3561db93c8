"""A PostgreSQL database of its own for one test (created and dropped), for the scale-out
tests that need several connections and processes on one database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse

import pytest

__all__ = ["own_postgres_database"]


def _admin(url: str):  # type: ignore[no-untyped-def]
    import psycopg2
    import psycopg2.extensions

    conn = psycopg2.connect(url)
    conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    return conn


@contextmanager
def own_postgres_database(prefix: str = "cp_i17") -> Iterator[str]:
    """The URL of a new, empty database on ``DATABASE_URL_TEST``'s server (skips without)."""
    url = os.environ.get("DATABASE_URL_TEST", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL_TEST does not name a PostgreSQL database")
    try:
        import psycopg2
    except ImportError:
        pytest.skip("psycopg2 is not installed (the postgres extra)")
    try:
        admin = _admin(url)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(url)._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
