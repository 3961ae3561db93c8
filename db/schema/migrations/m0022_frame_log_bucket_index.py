"""The station message log finds a station's frames by bucket of ids, then station.

``ocpp_frame``'s index on ("station_id", "id") took every frame of a batch from
thousands of stations onto another index page (13-16 us per frame in the writer, half of
it that index). The index on ("id" >> 16, "station_id") is written only in its newest
bucket of 65,536 ids: a batch dirties a few pages. A station's frames are read bucket by
bucket (db/ocpp/frame_log.py). Literal SQL, both dialects.
"""

from __future__ import annotations

import peewee


def up(database: peewee.Database) -> None:
    database.execute_sql('DROP INDEX IF EXISTS "ocpp_frame_station_id_id"')
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "ocpp_frame_bucket_station_id"'
        ' ON "ocpp_frame" (("id" >> 16), "station_id")'
    )


def down(database: peewee.Database) -> None:
    database.execute_sql('DROP INDEX IF EXISTS "ocpp_frame_bucket_station_id"')
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "ocpp_frame_station_id_id" ON "ocpp_frame" ("station_id", "id")'
    )
