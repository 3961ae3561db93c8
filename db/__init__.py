"""The database: peewee models, connection by URL, migrations, group-commit store."""

from db.connection import DatabaseURLError, default_database_url, make_database, open_database
from db.migrate import migrate
from db.models import ALARM_KINDS, ALL_MODELS, ROLES, utcnow
from db.passwords import (
    WeakPasswordError,
    check_policy,
    hash_password,
    hash_station_password,
    verify_password,
)
from db.store import Store, open_store
from db.writer import GroupCommitWriter, WriterClosedError

__all__ = [
    "ALARM_KINDS",
    "ALL_MODELS",
    "ROLES",
    "DatabaseURLError",
    "GroupCommitWriter",
    "Store",
    "WeakPasswordError",
    "WriterClosedError",
    "check_policy",
    "default_database_url",
    "hash_password",
    "hash_station_password",
    "make_database",
    "migrate",
    "open_database",
    "open_store",
    "utcnow",
    "verify_password",
]
