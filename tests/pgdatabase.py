"""PostgreSQL databases for tests on ``DATABASE_URL_TEST``'s server: each xdist worker's own
database (emptied per test by ``tests/db/postgres``'s ``db_url``) and throw-away databases
made and dropped by one test (scale-out, migrations)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

__all__ = ["own_postgres_database", "postgres_test_url", "worker_database"]


def postgres_test_url() -> str:
    """``DATABASE_URL_TEST`` when it names a PostgreSQL server this machine can reach with
    psycopg2; the test is skipped otherwise."""
    url = os.environ.get("DATABASE_URL_TEST", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL_TEST does not name a PostgreSQL database")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.skip("psycopg2 is not installed (the postgres extra)")
    return url


def _sibling(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextmanager
def _server(url: str) -> Iterator[Any]:
    """An autocommit cursor on ``url``'s server (CREATE/DROP DATABASE need one)."""
    import psycopg2

    try:
        connection = psycopg2.connect(url)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def worker_database(url: str, worker: str) -> str:
    """This xdist worker's own database beside ``url`` (created when missing; ``url`` itself
    when the tests do not run in parallel)."""
    if not worker or worker == "master":
        return url
    name = f"{urlsplit(url).path.lstrip('/') or 'postgres'}_{worker}"
    with _server(url) as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    return _sibling(url, name)


@contextmanager
def own_postgres_database(prefix: str = "cp_test") -> Iterator[str]:
    """The URL of a new, empty database on ``DATABASE_URL_TEST``'s server, dropped after
    (skips without a server)."""
    url = postgres_test_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _server(url) as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _sibling(url, name)
    finally:
        with _server(url) as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
