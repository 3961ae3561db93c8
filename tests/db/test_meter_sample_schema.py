"""Meter samples after migration m0005: time-first re-send key, no station foreign key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import peewee

from db import migrate, open_database
from db.ocpp.ocpp_transactions import MeterIn, SampleIn, record_meter_batch
from db.schema.migrations import m0005_meter_sample_lean_indexes as m0005
from db.schema.models import ChargingSession, MeterSample, Site, Station
from db.topology.nodes import remove_station

#: meter_sample as m0001 created it before m0005 (a foreign key on station_id)
OLD_TABLE = (
    'CREATE TABLE IF NOT EXISTS "meter_sample" ("id" INTEGER NOT NULL PRIMARY KEY,'
    ' "session_id" INTEGER, "station_id" INTEGER, "connector_id" INTEGER NOT NULL,'
    ' "timestamp" DATETIME NOT NULL, "measurand" VARCHAR(64) NOT NULL,'
    ' "value" VARCHAR(64) NOT NULL, "unit" VARCHAR(16) NOT NULL,'
    ' "context" VARCHAR(32) NOT NULL, "phase" VARCHAR(8) NOT NULL,'
    ' "location" VARCHAR(16) NOT NULL, "format" VARCHAR(16) NOT NULL,'
    ' FOREIGN KEY ("session_id") REFERENCES "charging_session" ("id") ON DELETE CASCADE,'
    ' FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE)'
)
OLD_INDEXES = (
    'CREATE INDEX "meter_sample_session_id" ON "meter_sample" ("session_id")',
    'CREATE INDEX "meter_sample_station_id" ON "meter_sample" ("station_id")',
    f'CREATE UNIQUE INDEX "{m0005.OLD_KEY}" ON "meter_sample" ("station_id", "connector_id",'
    ' "timestamp", "measurand", "phase", "location", "context")',
    'CREATE INDEX "meter_sample_session_id_timestamp" ON "meter_sample"'
    ' ("session_id", "timestamp")',
)
T0 = dt.datetime(2026, 11, 30, 8, 0)


def _schema(database: peewee.Database) -> tuple[str, set[str]]:
    (table,) = database.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'meter_sample'"
    ).fetchone()
    indexes = {
        row[0]
        for row in database.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'meter_sample'"
        )
    }
    return table, indexes


def _station_with_session(database: peewee.Database) -> tuple[Station, ChargingSession]:
    site = Site.create(name="Solna")
    # the station table as it was at that migration: only its columns (later ones add more)
    values: dict[str, object] = {"charge_box_id": "CP1", "site_id": site.id}
    for column in database.get_columns("station"):
        if column.name not in values and column.name != "id" and not column.null:
            values[column.name] = T0 if "DATE" in column.data_type.upper() else ""
    names = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" for _ in values)
    database.execute_sql(f'INSERT INTO "station" ({names}) VALUES ({marks})', list(values.values()))
    station = Station.select(Station.id).where(Station.charge_box_id == "CP1").get()
    session = ChargingSession.create(
        station=station,
        charge_box_id="CP1",
        station_name="CP1",
        site_name="Solna",
        connector_id=1,
        id_tag="TAG",
        authentication=1,
        start_time=T0,
        meter_start=0,
        energy_wh=0,
        stop_reason="",
        stop_id_tag="",
        user_email="",
        server_date=T0,
    )
    return station, session


def test_an_old_database_loses_the_station_foreign_key_and_keeps_every_sample(
    tmp_path: Path,
) -> None:
    database = open_database(f"sqlite:///{tmp_path}/old.sqlite3")
    migrate(database, 4)
    database.execute_sql('DROP TABLE "meter_sample"')
    database.execute_sql(OLD_TABLE)
    for sql in OLD_INDEXES:
        database.execute_sql(sql)
    station, session = _station_with_session(database)
    for minute in range(3):
        database.execute_sql(
            'INSERT INTO "meter_sample" ("session_id", "station_id", "connector_id", "timestamp",'
            ' "measurand", "value", "unit", "context", "phase", "location", "format")'
            " VALUES (?, ?, 1, ?, 'Energy.Active.Import.Register', ?, 'Wh', 'Sample.Periodic',"
            " '', '', 'Raw')",
            (session.id, station.id, T0 + dt.timedelta(minutes=minute), str(minute * 100)),
        )

    assert migrate(database, 5) == [5]  # later migrations are not this test's

    table, indexes = _schema(database)
    assert 'REFERENCES "station"' not in table
    assert 'REFERENCES "charging_session"' in table
    assert indexes == {m0005.NEW_KEY, "meter_sample_session_id_timestamp"}
    assert MeterSample.select().where(MeterSample.session == session).count() == 3
    database.close()


def test_a_new_database_has_the_same_meter_sample_schema_as_a_migrated_one(
    tmp_path: Path,
) -> None:
    database = open_database(f"sqlite:///{tmp_path}/new.sqlite3")
    migrate(database)
    table, indexes = _schema(database)
    assert 'REFERENCES "station"' not in table
    assert indexes == {m0005.NEW_KEY, "meter_sample_session_id_timestamp"}
    assert migrate(database, 4)[-1] == 5  # later migrations go down first
    assert m0005.OLD_KEY in _schema(database)[1]
    assert migrate(database)[0] == 5
    database.close()


def test_a_resent_meter_value_is_stored_once(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path}/r.sqlite3")
    migrate(database)
    station, session = _station_with_session(database)
    message = MeterIn(
        station.id,
        "CP1",
        1,
        session.id,
        [SampleIn(T0, "100"), SampleIn(T0, "7000", "Power.Active.Import", "W")],
        100,
        True,
    )
    with database.atomic():
        record_meter_batch([message])
    with database.atomic():
        record_meter_batch([message, message])
    assert MeterSample.select().count() == 2
    database.close()


def test_removing_a_station_keeps_its_samples_without_the_station_link(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path}/d.sqlite3")
    migrate(database)
    station, session = _station_with_session(database)
    in_session = MeterIn(station.id, "CP1", 1, session.id, [SampleIn(T0, "100")], 100, True)
    outside = MeterIn(station.id, "CP1", 2, None, [SampleIn(T0, "5")], 5, False)
    with database.atomic():
        record_meter_batch([in_session, outside])
    with database.atomic():
        remove_station(station.id)
    rows = list(MeterSample.select(MeterSample.station_id, MeterSample.connector_id).tuples())
    assert sorted(rows) == [(None, 1), (None, 2)]
    database.close()
