"""Run the statistics tests against PostgreSQL when ``DATABASE_URL_TEST`` names one."""

from __future__ import annotations

import os

import peewee
import pytest

from db.engine.connection import make_database


@pytest.fixture(name="db_url")
def _db_url() -> str:
    """A PostgreSQL database emptied for this test (its public schema recreated)."""
    url = os.environ.get("DATABASE_URL_TEST", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL_TEST does not name a PostgreSQL database")
    database = make_database(url)
    try:
        database.connect()
    except peewee.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    database.execute_sql("DROP SCHEMA public CASCADE")
    database.execute_sql("CREATE SCHEMA public")
    database.close()
    return url
