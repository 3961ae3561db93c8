"""Frozen migrations on PostgreSQL: an upgraded database has the schema the models declare."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from db.engine.connection import make_database
from tests.db.test_migrations import check_upgraded_equals_declared

pytestmark = pytest.mark.postgres


def second_database(url: str) -> str:
    """An empty sibling database ``<name>_declared`` on the same server; its URL."""
    name = urlparse(url).path.lstrip("/")
    server = make_database(url)
    connection = server.connection()
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}_declared"')
        cursor.execute(f'CREATE DATABASE "{name}_declared"')
    server.close()
    return url.rsplit("/", 1)[0] + f"/{name}_declared"


def test_a_database_upgraded_from_m0001_has_the_schema_the_models_declare(db_url: str) -> None:
    check_upgraded_equals_declared(db_url, second_database(db_url))
