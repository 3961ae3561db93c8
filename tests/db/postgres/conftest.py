"""Run the statistics tests against PostgreSQL when ``DATABASE_URL_TEST`` names one."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import peewee
import pytest

from db.engine.connection import make_database


def worker_database_url(url: str, worker: str) -> str:
    """This xdist worker's own database beside ``url`` (``url`` itself when not parallel)."""
    if not worker or worker == "master":
        return url
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path=f"/{name}_{worker}"))


def _ensure_database(url: str, worker_url: str) -> None:
    """Create the worker's database on the server of ``url`` when it does not exist yet."""
    if worker_url == url:
        return
    name = urlsplit(worker_url).path.lstrip("/")
    admin = make_database(url)
    admin.connect()
    try:
        exists = admin.execute_sql(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            admin.execute_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()


@pytest.fixture(name="db_url")
def _db_url() -> str:
    """A PostgreSQL database emptied for this test (public schema recreated), one per worker."""
    url = os.environ.get("DATABASE_URL_TEST", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL_TEST does not name a PostgreSQL database")
    worker_url = worker_database_url(url, os.environ.get("PYTEST_XDIST_WORKER", ""))
    try:
        _ensure_database(url, worker_url)
        database = make_database(worker_url)
        database.connect()
    except peewee.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    database.execute_sql("DROP SCHEMA public CASCADE")
    database.execute_sql("CREATE SCHEMA public")
    database.close()
    return worker_url
