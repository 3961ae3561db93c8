"""The database, grouped by subject.

``engine/`` the connection by URL, dialects, raw SQL and the group-commit store;
``schema/`` the models and numbered migrations; ``ocpp/`` what the gateway records of
OCPP traffic; ``topology/`` sites, floors, stations and outlets; ``sessions/`` charging
sessions read back; ``accounts/`` users, id tags, API tokens and passwords; ``system/``
settings, time zones, alarms, news and schedules; ``demo/`` the seed and demo data.
Beside them: ``errors`` (the domain's refusals) and ``provisioning`` (the operator's
station, user and badge provisioning on top of the one API). This package re-exports
what most callers need.
"""

from db.accounts.passwords import (
    WeakPasswordError,
    check_policy,
    hash_password,
    hash_station_password,
    verify_password,
)
from db.engine.connection import (
    DatabaseURLError,
    default_database_url,
    make_database,
    open_database,
)
from db.engine.store import Store, open_store
from db.engine.writer import GroupCommitWriter, WriterClosedError
from db.schema.migrate import migrate
from db.schema.models import ALARM_KINDS, ALL_MODELS, ROLES, utcnow

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
