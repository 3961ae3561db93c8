"""Scale-out tests run on a PostgreSQL database of their own (skipped without one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgdatabase import own_postgres_database


@pytest.fixture(name="db_url")
def _db_url() -> Iterator[str]:
    with own_postgres_database() as url:
        yield url
