"""Frozen migrations on PostgreSQL: an upgraded database has the schema the models declare."""

from __future__ import annotations

import pytest

from tests.db.test_migrations import check_upgraded_equals_declared
from tests.pgdatabase import own_postgres_database

pytestmark = pytest.mark.postgres


def test_a_database_upgraded_from_m0001_has_the_schema_the_models_declare(db_url: str) -> None:
    with own_postgres_database("cp_declared") as declared:
        check_upgraded_equals_declared(db_url, declared)
