"""Drop two meter-sample indexes that longer indexes already cover.

``meter_sample_session_id`` is the prefix of ``(session_id, timestamp)`` and
``meter_sample_station_id`` the prefix of the unique re-send index, which start with
the same column: lookups and ON DELETE CASCADE use the longer ones just as well. Every
MeterValues wrote four index entries on four random pages; now two. Measured on a copy
of the 1,000-station benchmark database (500 messages per commit): 190 -> 139 us per
message in the writer thread.
"""

from __future__ import annotations

import peewee

REDUNDANT = {
    "meter_sample_session_id": "session_id",
    "meter_sample_station_id": "station_id",
}


def up(database: peewee.Database) -> None:
    for name in REDUNDANT:
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


def down(database: peewee.Database) -> None:
    for name, column in REDUNDANT.items():
        database.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "meter_sample" ("{column}")')
