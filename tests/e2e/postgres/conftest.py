"""Run the gateway's end-to-end tests on PostgreSQL when ``DATABASE_URL_TEST`` names one."""

from __future__ import annotations

from tests.db.postgres.conftest import _db_url

__all__ = ["_db_url"]
