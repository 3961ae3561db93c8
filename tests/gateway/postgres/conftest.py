"""Run the gateway's hostile-input tests on PostgreSQL when ``DATABASE_URL_TEST`` names one."""

from __future__ import annotations

from tests.db.postgres.conftest import _db_url
from tests.gateway.conftest import _config, _db_write, _gateway, _port

__all__ = ["_config", "_db_url", "_db_write", "_gateway", "_port"]
