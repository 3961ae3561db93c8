"""The tests of this folder run on PostgreSQL when ``DATABASE_URL_TEST`` names one: ``db_url``."""

from __future__ import annotations

import os

import peewee
import pytest

from db.engine.connection import make_database
from tests.pgdatabase import postgres_test_url, worker_database


@pytest.fixture(name="db_url")
def _db_url() -> str:
    """A PostgreSQL database emptied for this test (public schema recreated), one per worker."""
    url = postgres_test_url()
    worker_url = worker_database(url, os.environ.get("PYTEST_XDIST_WORKER", ""))
    database = make_database(worker_url)
    try:
        database.connect()
    except peewee.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    database.execute_sql("DROP SCHEMA public CASCADE")
    database.execute_sql("CREATE SCHEMA public")
    database.close()
    return worker_url
