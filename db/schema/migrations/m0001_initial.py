"""The first schema, frozen: every table of SPEC.md as the models were at migration 1.

Written out literally so that it never changes with the models: a database created
today and one created the day m0001 shipped start from the same tables, and later
migrations take both to the same place (``tests/db/test_migrations.py`` compares a
database upgraded from here with the schema the models declare, on SQLite and
PostgreSQL). The DDL is PostgreSQL's; ``{placeholders}`` are the column types that
differ between the two engines (``TYPES``).
"""

from __future__ import annotations

import peewee

TYPES = {
    "sqlite": {
        "id": "INTEGER NOT NULL PRIMARY KEY",
        "timestamp": "DATETIME",
        "boolean": "INTEGER",
        "smallint": "INTEGER",
        "bigint": "INTEGER",
        "blob": "BLOB",
    },
    "postgres": {
        "id": "SERIAL NOT NULL PRIMARY KEY",
        "timestamp": "TIMESTAMP",
        "boolean": "BOOLEAN",
        "smallint": "SMALLINT",
        "bigint": "BIGINT",
        "blob": "BYTEA",
    },
}

DDL = """
CREATE TABLE "site" (
    "id" {id},
    "name" VARCHAR(128) NOT NULL,
    "identification" VARCHAR(128) NOT NULL,
    "description" TEXT NOT NULL,
    "country" VARCHAR(64) NOT NULL,
    "city" VARCHAR(128) NOT NULL,
    "street" VARCHAR(128) NOT NULL,
    "street_number" VARCHAR(32) NOT NULL,
    "latitude" REAL,
    "longitude" REAL,
    "created_at" {timestamp} NOT NULL
);
CREATE UNIQUE INDEX "site_name" ON "site" ("name");
CREATE TABLE "floor" (
    "id" {id},
    "site_id" INTEGER NOT NULL,
    "name" VARCHAR(128) NOT NULL,
    "plan_name" VARCHAR(128) NOT NULL,
    "plan_image" {blob},
    "created_at" {timestamp} NOT NULL,
    FOREIGN KEY ("site_id") REFERENCES "site" ("id") ON DELETE RESTRICT
);
CREATE INDEX "floor_site_id" ON "floor" ("site_id");
CREATE UNIQUE INDEX "floor_site_id_name" ON "floor" ("site_id", "name");
CREATE TABLE "station" (
    "id" {id},
    "charge_box_id" VARCHAR(64) NOT NULL,
    "name" VARCHAR(128) NOT NULL,
    "description" TEXT NOT NULL,
    "node_type" VARCHAR(16) NOT NULL,
    "site_id" INTEGER,
    "floor_id" INTEGER,
    "pos_x" REAL,
    "pos_y" REAL,
    "country" VARCHAR(64) NOT NULL,
    "city" VARCHAR(128) NOT NULL,
    "street" VARCHAR(128) NOT NULL,
    "street_number" VARCHAR(32) NOT NULL,
    "latitude" REAL,
    "longitude" REAL,
    "password_hash" VARCHAR(255),
    "protocol" VARCHAR(8) NOT NULL,
    "soap_endpoint" VARCHAR(255) NOT NULL,
    "registration_status" VARCHAR(16) NOT NULL,
    "vendor" VARCHAR(64) NOT NULL,
    "model" VARCHAR(64) NOT NULL,
    "serial_number" VARCHAR(64) NOT NULL,
    "box_serial_number" VARCHAR(64) NOT NULL,
    "firmware_version" VARCHAR(64) NOT NULL,
    "iccid" VARCHAR(64) NOT NULL,
    "imsi" VARCHAR(64) NOT NULL,
    "meter_type" VARCHAR(64) NOT NULL,
    "meter_serial_number" VARCHAR(64) NOT NULL,
    "last_boot_at" {timestamp},
    "last_seen_at" {timestamp},
    "first_connected_at" {timestamp},
    "config_imported_at" {timestamp},
    "local_list_version" INTEGER NOT NULL,
    "firmware_status" VARCHAR(32) NOT NULL,
    "diagnostics_status" VARCHAR(32) NOT NULL,
    "created_at" {timestamp} NOT NULL,
    FOREIGN KEY ("site_id") REFERENCES "site" ("id") ON DELETE RESTRICT,
    FOREIGN KEY ("floor_id") REFERENCES "floor" ("id") ON DELETE RESTRICT
);
CREATE UNIQUE INDEX "station_charge_box_id" ON "station" ("charge_box_id");
CREATE INDEX "station_site_id" ON "station" ("site_id");
CREATE INDEX "station_floor_id" ON "station" ("floor_id");
CREATE TABLE "alarm" (
    "id" {id},
    "kind" VARCHAR(32) NOT NULL,
    "station_id" INTEGER,
    "charge_box_id" VARCHAR(64) NOT NULL,
    "site_id" INTEGER,
    "connector_id" {smallint} NOT NULL,
    "message" TEXT NOT NULL,
    "raised_at" {timestamp} NOT NULL,
    "cleared_at" {timestamp},
    "count" INTEGER NOT NULL,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("site_id") REFERENCES "site" ("id") ON DELETE SET NULL
);
CREATE INDEX "alarm_station_id" ON "alarm" ("station_id");
CREATE INDEX "alarm_site_id" ON "alarm" ("site_id");
CREATE INDEX "alarm_cleared_at" ON "alarm" ("cleared_at");
CREATE INDEX "alarm_charge_box_id_kind_connector_id_cleared_at"
    ON "alarm" ("charge_box_id", "kind", "connector_id", "cleared_at");
CREATE TABLE "user" (
    "id" {id},
    "email" VARCHAR(254) NOT NULL,
    "first_name" VARCHAR(64) NOT NULL,
    "last_name" VARCHAR(64) NOT NULL,
    "role" VARCHAR(16) NOT NULL,
    "site_id" INTEGER,
    "password_hash" VARCHAR(255),
    "email_at_alarm" {boolean} NOT NULL,
    "dashboard_panels" VARCHAR(255) NOT NULL,
    "auth_version" INTEGER NOT NULL,
    "created_at" {timestamp} NOT NULL,
    "last_login_at" {timestamp},
    FOREIGN KEY ("site_id") REFERENCES "site" ("id") ON DELETE RESTRICT
);
CREATE UNIQUE INDEX "user_email" ON "user" ("email");
CREATE INDEX "user_site_id" ON "user" ("site_id");
CREATE TABLE "api_token" (
    "id" {id},
    "name" VARCHAR(128) NOT NULL,
    "token_hash" VARCHAR(128) NOT NULL,
    "prefix" VARCHAR(12) NOT NULL,
    "role" VARCHAR(16) NOT NULL,
    "site_id" INTEGER,
    "created_by_id" INTEGER,
    "created_at" {timestamp} NOT NULL,
    "last_used_at" {timestamp},
    "revoked" {boolean} NOT NULL,
    FOREIGN KEY ("site_id") REFERENCES "site" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("created_by_id") REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE UNIQUE INDEX "api_token_token_hash" ON "api_token" ("token_hash");
CREATE INDEX "api_token_site_id" ON "api_token" ("site_id");
CREATE INDEX "api_token_created_by_id" ON "api_token" ("created_by_id");
CREATE TABLE "outlet" (
    "id" {id},
    "station_id" INTEGER NOT NULL,
    "connector_id" {smallint} NOT NULL,
    "connector_type" VARCHAR(32) NOT NULL,
    "uuid" VARCHAR(36) NOT NULL,
    "parking" VARCHAR(128) NOT NULL,
    "mode" VARCHAR(8) NOT NULL,
    "status" VARCHAR(24) NOT NULL,
    "error_code" VARCHAR(32) NOT NULL,
    "status_at" {timestamp},
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE
);
CREATE INDEX "outlet_station_id" ON "outlet" ("station_id");
CREATE UNIQUE INDEX "outlet_uuid" ON "outlet" ("uuid");
CREATE UNIQUE INDEX "outlet_station_id_connector_id"
    ON "outlet" ("station_id", "connector_id");
CREATE TABLE "charging_schedule" (
    "id" {id},
    "name" VARCHAR(128) NOT NULL,
    "site_id" INTEGER,
    "station_id" INTEGER,
    "outlet_id" INTEGER,
    "purpose" VARCHAR(32) NOT NULL,
    "stack_level" INTEGER NOT NULL,
    "rate_unit" VARCHAR(2) NOT NULL,
    "periods" TEXT NOT NULL,
    "created_at" {timestamp} NOT NULL,
    "pushed_at" {timestamp},
    FOREIGN KEY ("site_id") REFERENCES "site" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("outlet_id") REFERENCES "outlet" ("id") ON DELETE CASCADE
);
CREATE INDEX "charging_schedule_site_id" ON "charging_schedule" ("site_id");
CREATE INDEX "charging_schedule_station_id" ON "charging_schedule" ("station_id");
CREATE INDEX "charging_schedule_outlet_id" ON "charging_schedule" ("outlet_id");
CREATE TABLE "charging_profile" (
    "id" {id},
    "station_id" INTEGER NOT NULL,
    "connector_id" {smallint} NOT NULL,
    "profile_id" INTEGER NOT NULL,
    "purpose" VARCHAR(32) NOT NULL,
    "stack_level" INTEGER NOT NULL,
    "schedule_id" INTEGER,
    "profile" TEXT NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "created_at" {timestamp} NOT NULL,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("schedule_id") REFERENCES "charging_schedule" ("id") ON DELETE SET NULL
);
CREATE INDEX "charging_profile_station_id" ON "charging_profile" ("station_id");
CREATE INDEX "charging_profile_schedule_id" ON "charging_profile" ("schedule_id");
CREATE INDEX "charging_profile_station_id_profile_id"
    ON "charging_profile" ("station_id", "profile_id");
CREATE TABLE "charging_session" (
    "id" {id},
    "station_id" INTEGER,
    "charge_box_id" VARCHAR(64) NOT NULL,
    "station_name" VARCHAR(128) NOT NULL,
    "site_name" VARCHAR(128) NOT NULL,
    "site_id" INTEGER,
    "outlet_id" INTEGER,
    "connector_id" {smallint} NOT NULL,
    "id_tag" VARCHAR(20) NOT NULL,
    "user_id" INTEGER,
    "user_email" VARCHAR(254) NOT NULL,
    "authentication" {smallint} NOT NULL,
    "reservation_id" INTEGER,
    "start_time" {timestamp} NOT NULL,
    "end_time" {timestamp},
    "meter_start" {bigint} NOT NULL,
    "meter_stop" {bigint},
    "meter_last" {bigint},
    "energy_wh" {bigint} NOT NULL,
    "stop_reason" VARCHAR(32) NOT NULL,
    "stop_id_tag" VARCHAR(20) NOT NULL,
    "server_date" {timestamp} NOT NULL,
    "stopped_server_date" {timestamp},
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE SET NULL,
    FOREIGN KEY ("site_id") REFERENCES "site" ("id") ON DELETE SET NULL,
    FOREIGN KEY ("outlet_id") REFERENCES "outlet" ("id") ON DELETE SET NULL,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE INDEX "charging_session_station_id" ON "charging_session" ("station_id");
CREATE INDEX "charging_session_charge_box_id" ON "charging_session" ("charge_box_id");
CREATE INDEX "charging_session_site_id" ON "charging_session" ("site_id");
CREATE INDEX "charging_session_outlet_id" ON "charging_session" ("outlet_id");
CREATE INDEX "charging_session_user_id" ON "charging_session" ("user_id");
CREATE INDEX "charging_session_start_time" ON "charging_session" ("start_time");
CREATE INDEX "charging_session_end_time" ON "charging_session" ("end_time");
CREATE UNIQUE INDEX "charging_session_charge_box_id_connector_id_id_tag_start_61e34bd"
    ON "charging_session" ("charge_box_id", "connector_id", "id_tag", "start_time", "meter_start");
CREATE INDEX "charging_session_site_id_start_time"
    ON "charging_session" ("site_id", "start_time");
CREATE INDEX "charging_session_station_id_start_time"
    ON "charging_session" ("station_id", "start_time");
CREATE INDEX "charging_session_user_id_start_time"
    ON "charging_session" ("user_id", "start_time");
CREATE TABLE "configuration_key" (
    "id" {id},
    "station_id" INTEGER NOT NULL,
    "key" VARCHAR(64) NOT NULL,
    "value" TEXT,
    "readonly" {boolean} NOT NULL,
    "updated_at" {timestamp} NOT NULL,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE
);
CREATE INDEX "configuration_key_station_id" ON "configuration_key" ("station_id");
CREATE UNIQUE INDEX "configuration_key_station_id_key"
    ON "configuration_key" ("station_id", "key");
CREATE TABLE "diagnostics_file" (
    "id" {id},
    "station_id" INTEGER,
    "charge_box_id" VARCHAR(64) NOT NULL,
    "filename" VARCHAR(255) NOT NULL,
    "path" VARCHAR(512) NOT NULL,
    "size" {bigint} NOT NULL,
    "received_at" {timestamp} NOT NULL,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE SET NULL
);
CREATE INDEX "diagnostics_file_station_id" ON "diagnostics_file" ("station_id");
CREATE TABLE "event" (
    "id" {id},
    "time" {timestamp} NOT NULL,
    "kind" VARCHAR(48) NOT NULL,
    "station_id" INTEGER,
    "charge_box_id" VARCHAR(64) NOT NULL,
    "site_id" INTEGER,
    "severity" VARCHAR(8) NOT NULL,
    "message" TEXT NOT NULL,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE SET NULL,
    FOREIGN KEY ("site_id") REFERENCES "site" ("id") ON DELETE SET NULL
);
CREATE INDEX "event_time" ON "event" ("time");
CREATE INDEX "event_station_id" ON "event" ("station_id");
CREATE INDEX "event_charge_box_id" ON "event" ("charge_box_id");
CREATE INDEX "event_site_id" ON "event" ("site_id");
CREATE TABLE "firmware_image" (
    "id" {id},
    "filename" VARCHAR(255) NOT NULL,
    "version" VARCHAR(64) NOT NULL,
    "size" {bigint} NOT NULL,
    "sha256" VARCHAR(64) NOT NULL,
    "uploaded_by_id" INTEGER,
    "uploaded_at" {timestamp} NOT NULL,
    FOREIGN KEY ("uploaded_by_id") REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE UNIQUE INDEX "firmware_image_filename" ON "firmware_image" ("filename");
CREATE INDEX "firmware_image_uploaded_by_id" ON "firmware_image" ("uploaded_by_id");
CREATE TABLE "id_tag" (
    "id" {id},
    "id_tag" VARCHAR(20) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "expiry_date" {timestamp},
    "parent_id" INTEGER,
    "user_id" INTEGER,
    "note" VARCHAR(255) NOT NULL,
    "created_at" {timestamp} NOT NULL,
    FOREIGN KEY ("parent_id") REFERENCES "id_tag" ("id") ON DELETE SET NULL,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE UNIQUE INDEX "id_tag_id_tag" ON "id_tag" ("id_tag");
CREATE INDEX "id_tag_parent_id" ON "id_tag" ("parent_id");
CREATE INDEX "id_tag_user_id" ON "id_tag" ("user_id");
CREATE TABLE "local_list_entry" (
    "id" {id},
    "station_id" INTEGER NOT NULL,
    "id_tag" VARCHAR(20) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "expiry_date" {timestamp},
    "parent_id_tag" VARCHAR(20) NOT NULL,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE
);
CREATE INDEX "local_list_entry_station_id" ON "local_list_entry" ("station_id");
CREATE UNIQUE INDEX "local_list_entry_station_id_id_tag"
    ON "local_list_entry" ("station_id", "id_tag");
CREATE TABLE "meter_sample" (
    "id" {id},
    "session_id" INTEGER,
    "station_id" INTEGER,
    "connector_id" {smallint} NOT NULL,
    "timestamp" {timestamp} NOT NULL,
    "measurand" VARCHAR(64) NOT NULL,
    "value" VARCHAR(64) NOT NULL,
    "unit" VARCHAR(16) NOT NULL,
    "context" VARCHAR(32) NOT NULL,
    "phase" VARCHAR(8) NOT NULL,
    "location" VARCHAR(16) NOT NULL,
    "format" VARCHAR(16) NOT NULL,
    FOREIGN KEY ("session_id") REFERENCES "charging_session" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE
);
CREATE INDEX "meter_sample_session_id" ON "meter_sample" ("session_id");
CREATE INDEX "meter_sample_station_id" ON "meter_sample" ("station_id");
CREATE UNIQUE INDEX "meter_sample_station_id_connector_id_timestamp_measurand_261a39e"
    ON "meter_sample" (
        "station_id", "connector_id", "timestamp", "measurand", "phase", "location", "context"
    );
CREATE INDEX "meter_sample_session_id_timestamp"
    ON "meter_sample" ("session_id", "timestamp");
CREATE TABLE "news" (
    "id" {id},
    "title" VARCHAR(200) NOT NULL,
    "body" TEXT NOT NULL,
    "author_id" INTEGER,
    "published_at" {timestamp} NOT NULL,
    FOREIGN KEY ("author_id") REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE INDEX "news_author_id" ON "news" ("author_id");
CREATE INDEX "news_published_at" ON "news" ("published_at");
CREATE TABLE "ocpp_message" (
    "id" {id},
    "station_id" INTEGER,
    "charge_box_id" VARCHAR(64) NOT NULL,
    "session_id" INTEGER,
    "received_at" {timestamp} NOT NULL,
    "direction" VARCHAR(4) NOT NULL,
    "action" VARCHAR(48) NOT NULL,
    "unique_id" VARCHAR(64) NOT NULL,
    "payload" TEXT NOT NULL,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("session_id") REFERENCES "charging_session" ("id") ON DELETE CASCADE
);
CREATE INDEX "ocpp_message_station_id" ON "ocpp_message" ("station_id");
CREATE INDEX "ocpp_message_session_id" ON "ocpp_message" ("session_id");
CREATE INDEX "ocpp_message_session_id_received_at"
    ON "ocpp_message" ("session_id", "received_at");
CREATE TABLE "service" (
    "id" {id},
    "name" VARCHAR(64) NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "description" TEXT NOT NULL,
    "url" VARCHAR(255) NOT NULL,
    "enabled" {boolean} NOT NULL,
    "info" TEXT NOT NULL
);
CREATE UNIQUE INDEX "service_name" ON "service" ("name");
CREATE TABLE "outlet_external_id" (
    "id" {id},
    "outlet_id" INTEGER NOT NULL,
    "service_id" INTEGER NOT NULL,
    "external_id" VARCHAR(128) NOT NULL,
    FOREIGN KEY ("outlet_id") REFERENCES "outlet" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("service_id") REFERENCES "service" ("id") ON DELETE CASCADE
);
CREATE INDEX "outlet_external_id_outlet_id" ON "outlet_external_id" ("outlet_id");
CREATE INDEX "outlet_external_id_service_id" ON "outlet_external_id" ("service_id");
CREATE UNIQUE INDEX "outlet_external_id_outlet_id_service_id"
    ON "outlet_external_id" ("outlet_id", "service_id");
CREATE TABLE "reservation" (
    "id" {id},
    "station_id" INTEGER NOT NULL,
    "connector_id" {smallint} NOT NULL,
    "id_tag" VARCHAR(20) NOT NULL,
    "parent_id_tag" VARCHAR(20) NOT NULL,
    "expiry_date" {timestamp} NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "created_at" {timestamp} NOT NULL,
    "session_id" INTEGER,
    FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("session_id") REFERENCES "charging_session" ("id") ON DELETE SET NULL
);
CREATE INDEX "reservation_station_id" ON "reservation" ("station_id");
CREATE INDEX "reservation_session_id" ON "reservation" ("session_id");
CREATE TABLE "setting" (
    "key" VARCHAR(64) NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL
);
"""


def _engine(database: peewee.Database) -> str:
    return "sqlite" if isinstance(database, peewee.SqliteDatabase) else "postgres"


def statements(database: peewee.Database) -> list[str]:
    """The CREATE statements of the first schema, in this engine's types, in order."""
    text = DDL.format(**TYPES[_engine(database)])
    return [part.strip() for part in text.split(";") if part.strip()]


def tables() -> list[str]:
    """The tables this migration creates, in creation order."""
    return [line.split('"')[1] for line in DDL.splitlines() if line.startswith("CREATE TABLE ")]


def up(database: peewee.Database) -> None:
    for sql in statements(database):
        database.execute_sql(sql)


def down(database: peewee.Database) -> None:
    for table in reversed(tables()):
        database.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
