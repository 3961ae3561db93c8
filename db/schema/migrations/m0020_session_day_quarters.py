"""Per-day session rollup (issue 19): per UTC day and site, sessions and Wh by quarter hour.

``session_day_site`` holds one row per site and UTC day (``day`` = unix time // 86400),
and one per UTC day for every site together (``site_id`` -1: the system). Its columns
are running totals over the day: ``n<j>`` / ``wh<j>`` (j = 1..96) are the closed,
counted sessions that started in the day's first ``j`` quarter hours (before 00:15 UTC
is 1, the whole day 96) and their energy. A year-long chart reads ~365 rows and folds
them into the viewer's local days in SQL: local midnight falls on a quarter hour in
every zone (:30 and :45 offsets included), so each day splits into the part before it
and the part after, each one column minus another. Triggers on ``charging_session``
keep the rows in the session's own transaction (as m0011's hourly ones); this migration
fills them from the stored sessions. Literal SQL, both dialects; a missing site id is 0.
"""

from __future__ import annotations

import peewee

TABLE = "session_day_site"
QUARTERS = 96
#: the system's rows: every site together
ALL_SITES = -1
_N = [f'"n{j}"' for j in range(1, QUARTERS + 1)]
_WH = [f'"wh{j}"' for j in range(1, QUARTERS + 1)]
_COLUMNS = ", ".join(_N + _WH)
_TRIGGER_COLUMNS = '"start_time", "end_time", "energy_wh", "authentication", "site_id"'
_SQLITE_TRIGGERS = ("session_day_insert", "session_day_update", "session_day_delete")


def is_sqlite(database: peewee.Database) -> bool:
    return isinstance(database, peewee.SqliteDatabase)


def _epoch(column: str, sqlite: bool) -> str:
    if sqlite:
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"FLOOR(EXTRACT(EPOCH FROM {column}))::bigint"


def _create_table(database: peewee.Database) -> None:
    values = ", ".join(f"{c} BIGINT NOT NULL DEFAULT 0" for c in _N + _WH)
    database.execute_sql(
        f'CREATE TABLE IF NOT EXISTS "{TABLE}" ("day" BIGINT NOT NULL, '
        f'"site_id" INTEGER NOT NULL, {values}, PRIMARY KEY ("site_id", "day"))'
    )


def _upsert(row: str, sign: str, sqlite: bool) -> str:
    """Add (sign 1) or take away (-1) the session ``row`` (NEW/OLD, or ``r`` in PL/SQL) to
    its site's day and to the system's."""
    energy = f"COALESCE({row}.energy_wh, 0)"
    picks = [f"CASE WHEN b.q < {j} THEN {sign} ELSE 0 END" for j in range(1, QUARTERS + 1)]
    picks += [
        f"CASE WHEN b.q < {j} THEN {sign} * {energy} ELSE 0 END" for j in range(1, QUARTERS + 1)
    ]
    own = "" if sqlite else f'"{TABLE}".'
    updates = ", ".join(f"{c} = {own}{c} + excluded.{c}" for c in _N + _WH)
    return (
        f'INSERT INTO "{TABLE}" ("site_id", "day", {_COLUMNS}) '
        f"SELECT k.site, b.e / 86400, {', '.join(picks)} "
        f"FROM (SELECT COALESCE({row}.site_id, 0) AS site UNION ALL SELECT {ALL_SITES}) AS k, "
        "(SELECT e, e / 900 - (e / 86400) * 96 AS q FROM "
        f"(SELECT {_epoch(f'{row}.start_time', sqlite)} AS e) AS a) AS b "
        f"WHERE {row}.end_time IS NOT NULL AND {row}.authentication != 2 "
        f'ON CONFLICT ("site_id", "day") DO UPDATE SET {updates}'
    )


def _sqlite_triggers(database: peewee.Database) -> None:
    insert, update, delete = _SQLITE_TRIGGERS
    statements = {
        insert: ('AFTER INSERT ON "charging_session"', _upsert("NEW", "1", True) + ";"),
        update: (
            f'AFTER UPDATE OF {_TRIGGER_COLUMNS} ON "charging_session"',
            _upsert("OLD", "-1", True) + "; " + _upsert("NEW", "1", True) + ";",
        ),
        delete: ('AFTER DELETE ON "charging_session"', _upsert("OLD", "-1", True) + ";"),
    }
    for name, (when, body) in statements.items():
        database.execute_sql(f'DROP TRIGGER IF EXISTS "{name}"')
        database.execute_sql(f'CREATE TRIGGER "{name}" {when} FOR EACH ROW BEGIN {body} END')


def _postgres_triggers(database: peewee.Database) -> None:
    database.execute_sql(
        'CREATE OR REPLACE FUNCTION "session_day_apply"(r "charging_session", sign integer) '
        f"RETURNS void LANGUAGE sql AS $$ {_upsert('r', 'sign', False)} $$"
    )
    database.execute_sql(
        'CREATE OR REPLACE FUNCTION "session_day_trigger"() RETURNS trigger '
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.end_time IS NOT NULL "
        'AND OLD.authentication <> 2 THEN PERFORM "session_day_apply"(OLD, -1); END IF; '
        "IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.end_time IS NOT NULL "
        'AND NEW.authentication <> 2 THEN PERFORM "session_day_apply"(NEW, 1); END IF; '
        "RETURN NULL; END $$"
    )
    database.execute_sql('DROP TRIGGER IF EXISTS "session_day" ON "charging_session"')
    database.execute_sql(
        'CREATE TRIGGER "session_day" AFTER INSERT OR DELETE OR UPDATE OF '
        f'{_TRIGGER_COLUMNS} ON "charging_session" FOR EACH ROW '
        'EXECUTE FUNCTION "session_day_trigger"()'
    )


def triggers(database: peewee.Database) -> None:
    """(Re)create the triggers (also after a bulk load that dropped them)."""
    if is_sqlite(database):
        _sqlite_triggers(database)
    else:
        _postgres_triggers(database)


def drop_triggers(database: peewee.Database) -> None:
    if is_sqlite(database):
        for name in _SQLITE_TRIGGERS:
            database.execute_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    else:
        database.execute_sql('DROP TRIGGER IF EXISTS "session_day" ON "charging_session"')


def fill(database: peewee.Database) -> None:
    """Recompute the rollup from the stored sessions (also ``chargeportal stats rebuild``):
    the sessions grouped per quarter hour first, those few rows spread into the running
    totals after; the system's rows added up from the sites'."""
    database.execute_sql(f'DELETE FROM "{TABLE}"')
    spread = [f"SUM(CASE WHEN q < {j} THEN n ELSE 0 END)" for j in range(1, QUARTERS + 1)]
    spread += [f"SUM(CASE WHEN q < {j} THEN wh ELSE 0 END)" for j in range(1, QUARTERS + 1)]
    database.execute_sql(
        f'INSERT INTO "{TABLE}" ("site_id", "day", {_COLUMNS}) '
        f"SELECT site, d, {', '.join(spread)} FROM ("
        "SELECT e / 86400 AS d, e / 900 - (e / 86400) * 96 AS q, site, COUNT(*) AS n, "
        "SUM(COALESCE(energy_wh, 0)) AS wh FROM ("
        f"SELECT {_epoch('start_time', is_sqlite(database))} AS e, "
        'COALESCE(site_id, 0) AS site, energy_wh FROM "charging_session" '
        "WHERE end_time IS NOT NULL AND authentication != 2) AS s "
        "GROUP BY e / 86400, e / 900 - (e / 86400) * 96, site) AS g "
        "GROUP BY site, d"
    )
    totals = ", ".join(f"SUM({c})" for c in _N + _WH)
    database.execute_sql(
        f'INSERT INTO "{TABLE}" ("site_id", "day", {_COLUMNS}) '
        f'SELECT {ALL_SITES}, "day", {totals} FROM "{TABLE}" GROUP BY "day"'
    )


def up(database: peewee.Database) -> None:
    _create_table(database)
    triggers(database)
    fill(database)


def down(database: peewee.Database) -> None:
    drop_triggers(database)
    if not is_sqlite(database):
        database.execute_sql('DROP FUNCTION IF EXISTS "session_day_trigger"()')
        database.execute_sql(
            'DROP FUNCTION IF EXISTS "session_day_apply"("charging_session", integer)'
        )
    database.execute_sql(f'DROP TABLE IF EXISTS "{TABLE}"')
