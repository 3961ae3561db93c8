"""Hourly session aggregates (issue 19): per UTC hour and outlet, and per UTC hour and site.

``session_hour_outlet`` / ``session_hour_site`` hold, for every UTC hour (``slot`` =
unix time // 3600), the closed, counted sessions that started in it (``sessions``,
``energy_wh``) and the seconds outlets were occupied in it (``occupied_s``, a session
spread over the hours it spans). Triggers on ``charging_session`` keep them in the same
transaction as the session's own insert, close, correction or deletion, whatever path
writes it; this migration fills them from the sessions already stored. Missing ids are
0 (a unique key over NULLs would not match). Literal SQL, both dialects.
"""

from __future__ import annotations

import peewee

#: hours one session may spread over (a year and a day); longer ones are cut there
HOURS = 8784

_TABLES = {
    "session_hour_outlet": ("site_id", "station_id", "outlet_id"),
    "session_hour_site": ("site_id",),
}

_TRIGGER_COLUMNS = (
    '"start_time", "end_time", "energy_wh", "authentication", "site_id", "station_id", "outlet_id"'
)


def is_sqlite(database: peewee.Database) -> bool:
    return isinstance(database, peewee.SqliteDatabase)


def _create_tables(database: peewee.Database) -> None:
    real = "REAL" if is_sqlite(database) else "DOUBLE PRECISION"
    for table, keys in _TABLES.items():
        key_columns = "".join(f'"{k}" INTEGER NOT NULL, ' for k in keys)
        database.execute_sql(
            f'CREATE TABLE IF NOT EXISTS "{table}" ("slot" BIGINT NOT NULL, {key_columns}'
            '"sessions" BIGINT NOT NULL, "energy_wh" BIGINT NOT NULL, '
            f'"occupied_s" {real} NOT NULL, '
            f'PRIMARY KEY ("slot", {", ".join(f"{chr(34)}{k}{chr(34)}" for k in keys)}))'
        )
        if table == "session_hour_outlet":
            for key in ("station_id", "outlet_id"):
                database.execute_sql(
                    f'CREATE INDEX IF NOT EXISTS "{table}_{key}_slot" '
                    f'ON "{table}" ("{key}", "slot")'
                )


def _sqlite_apply(table: str, keys: tuple[str, ...], row: str, sign: int) -> str:
    """One statement adding (sign 1) or taking away (-1) the session ``row`` (NEW/OLD)."""
    key_values = ", ".join(f"COALESCE({row}.{k}, 0)" for k in keys)
    key_names = ", ".join(f'"{k}"' for k in keys)
    return (
        f'INSERT INTO "{table}" ("slot", {key_names}, "sessions", "energy_wh", "occupied_s") '
        f"SELECT h.slot, {key_values}, {sign} * (h.n = 0), "
        f"{sign} * (CASE WHEN h.n = 0 THEN {row}.energy_wh ELSE 0 END), "
        f"{sign} * MAX(0.0, MIN(h.e1, (h.slot + 1) * 3600.0) - MAX(h.e0, h.slot * 3600.0)) "
        "FROM (SELECT o.n AS n, b.s0 + o.n AS slot, b.e0 AS e0, b.e1 AS e1 "
        'FROM "hour_offset" AS o, '
        f"(SELECT CAST(strftime('%s', {row}.start_time) AS INTEGER) / 3600 AS s0, "
        f"(julianday({row}.start_time) - 2440587.5) * 86400.0 AS e0, "
        f"(julianday({row}.end_time) - 2440587.5) * 86400.0 AS e1) AS b "
        # the hours the session spans: n < end / 3600 - s0 (at least the first), an index range
        "WHERE o.n < MAX(1.0, b.e1 / 3600.0 - b.s0)) AS h "
        f"WHERE {row}.end_time IS NOT NULL AND {row}.authentication != 2 "
        f"ON CONFLICT ({'slot'}, {key_names}) DO UPDATE SET "
        '"sessions" = "sessions" + excluded."sessions", '
        '"energy_wh" = "energy_wh" + excluded."energy_wh", '
        '"occupied_s" = "occupied_s" + excluded."occupied_s"'
    )


def _sqlite_triggers(database: peewee.Database) -> None:
    database.execute_sql(
        'CREATE TABLE IF NOT EXISTS "hour_offset" ("n" INTEGER NOT NULL PRIMARY KEY)'
    )
    database.execute_sql(
        'INSERT OR IGNORE INTO "hour_offset" ("n") '
        f"WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < {HOURS - 1}) "
        "SELECT n FROM c"
    )

    def body(*steps: tuple[str, int]) -> str:
        return " ".join(
            _sqlite_apply(table, keys, row, sign) + ";"
            for row, sign in steps
            for table, keys in _TABLES.items()
        )

    statements = {
        "session_hour_insert": ('AFTER INSERT ON "charging_session"', body(("NEW", 1))),
        "session_hour_update": (
            f'AFTER UPDATE OF {_TRIGGER_COLUMNS} ON "charging_session"',
            body(("OLD", -1), ("NEW", 1)),
        ),
        "session_hour_delete": ('AFTER DELETE ON "charging_session"', body(("OLD", -1))),
    }
    for name, (when, steps) in statements.items():
        database.execute_sql(f'DROP TRIGGER IF EXISTS "{name}"')
        database.execute_sql(f'CREATE TRIGGER "{name}" {when} FOR EACH ROW BEGIN {steps} END')


def _postgres_triggers(database: peewee.Database) -> None:
    def apply(table: str, keys: tuple[str, ...]) -> str:
        key_values = ", ".join(f"COALESCE(r.{k}, 0)" for k in keys)
        key_names = ", ".join(f'"{k}"' for k in keys)
        return (
            f'INSERT INTO "{table}" ("slot", {key_names}, "sessions", "energy_wh", "occupied_s") '
            f"SELECT s0 + n, {key_values}, sign * (n = 0)::int, "
            "sign * (CASE WHEN n = 0 THEN r.energy_wh ELSE 0 END), "
            "sign * GREATEST(0.0, LEAST(e1, (s0 + n + 1) * 3600.0) "
            "- GREATEST(e0, (s0 + n) * 3600.0)) "
            "FROM (SELECT FLOOR(EXTRACT(EPOCH FROM r.start_time) / 3600)::bigint AS s0, "
            "EXTRACT(EPOCH FROM r.start_time)::double precision AS e0, "
            "EXTRACT(EPOCH FROM r.end_time)::double precision AS e1) AS b, "
            f"generate_series(0, LEAST({HOURS - 1}, "
            "GREATEST(0, CEIL(e1 / 3600.0)::bigint - s0 - 1))) AS n "
            f"ON CONFLICT (slot, {key_names}) DO UPDATE SET "
            f'"sessions" = "{table}"."sessions" + excluded."sessions", '
            f'"energy_wh" = "{table}"."energy_wh" + excluded."energy_wh", '
            f'"occupied_s" = "{table}"."occupied_s" + excluded."occupied_s";'
        )

    statements = " ".join(apply(t, k) for t, k in _TABLES.items())
    database.execute_sql(
        'CREATE OR REPLACE FUNCTION "session_hour_apply"(r "charging_session", sign integer) '
        f"RETURNS void LANGUAGE sql AS $$ {statements} $$"
    )
    database.execute_sql(
        'CREATE OR REPLACE FUNCTION "session_hour_trigger"() RETURNS trigger '
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.end_time IS NOT NULL "
        'AND OLD.authentication <> 2 THEN PERFORM "session_hour_apply"(OLD, -1); END IF; '
        "IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.end_time IS NOT NULL "
        'AND NEW.authentication <> 2 THEN PERFORM "session_hour_apply"(NEW, 1); END IF; '
        "RETURN NULL; END $$"
    )
    database.execute_sql('DROP TRIGGER IF EXISTS "session_hour" ON "charging_session"')
    database.execute_sql(
        'CREATE TRIGGER "session_hour" AFTER INSERT OR DELETE OR UPDATE OF '
        f'{_TRIGGER_COLUMNS} ON "charging_session" FOR EACH ROW '
        'EXECUTE FUNCTION "session_hour_trigger"()'
    )


def _sqlite_fill(table: str, keys: tuple[str, ...]) -> str:
    key_names = ", ".join(f'"{k}"' for k in keys)
    key_values = ", ".join(f'COALESCE("{k}", 0) AS "{k}"' for k in keys)
    # MATERIALIZED: the times are converted once per session, not once per hour it spans
    return (
        "WITH b AS MATERIALIZED ("
        "SELECT CAST(strftime('%s', start_time) AS INTEGER) / 3600 AS s0, "
        "(julianday(start_time) - 2440587.5) * 86400.0 AS e0, "
        "(julianday(end_time) - 2440587.5) * 86400.0 AS e1, "
        f'"energy_wh", {key_values} FROM "charging_session" '
        "WHERE end_time IS NOT NULL AND authentication != 2) "
        f'INSERT INTO "{table}" ("slot", {key_names}, "sessions", "energy_wh", "occupied_s") '
        f"SELECT b.s0 + o.n, {key_names}, SUM(o.n = 0), "
        "SUM(CASE WHEN o.n = 0 THEN b.energy_wh ELSE 0 END), "
        "SUM(MAX(0.0, MIN(b.e1, (b.s0 + o.n + 1) * 3600.0) - MAX(b.e0, (b.s0 + o.n) * 3600.0))) "
        'FROM b JOIN "hour_offset" AS o ON o.n < MAX(1.0, b.e1 / 3600.0 - b.s0) '
        f"GROUP BY b.s0 + o.n, {key_names}"
    )


def fill(database: peewee.Database) -> None:
    """Recompute both tables from the stored sessions (also ``chargeportal stats rebuild``)."""
    for table in _TABLES:
        database.execute_sql(f'DELETE FROM "{table}"')
    if is_sqlite(database):
        for table, keys in _TABLES.items():
            database.execute_sql(_sqlite_fill(table, keys))
        return
    database.execute_sql(
        'SELECT "session_hour_apply"(s, 1) FROM "charging_session" AS s '
        "WHERE s.end_time IS NOT NULL AND s.authentication <> 2"
    )


def up(database: peewee.Database) -> None:
    _create_tables(database)
    if is_sqlite(database):
        _sqlite_triggers(database)
    else:
        _postgres_triggers(database)
    fill(database)


def down(database: peewee.Database) -> None:
    if is_sqlite(database):
        for name in ("session_hour_insert", "session_hour_update", "session_hour_delete"):
            database.execute_sql(f'DROP TRIGGER IF EXISTS "{name}"')
        database.execute_sql('DROP TABLE IF EXISTS "hour_offset"')
    else:
        database.execute_sql('DROP TRIGGER IF EXISTS "session_hour" ON "charging_session"')
        database.execute_sql('DROP FUNCTION IF EXISTS "session_hour_trigger"()')
        database.execute_sql(
            'DROP FUNCTION IF EXISTS "session_hour_apply"("charging_session", integer)'
        )
    for table in _TABLES:
        database.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
