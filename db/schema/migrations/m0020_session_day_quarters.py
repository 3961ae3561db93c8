"""Per-day session rollup (issue 19): per UTC day and site, sessions and Wh per quarter hour.

``session_day_site`` holds one row per UTC day (``day`` = unix time // 86400) and site
with 96 pairs of columns: ``n<q>`` / ``wh<q>`` are the closed, counted sessions that
started in the day's quarter ``q`` (00:00-00:15 UTC is 0) and their energy. A year-long
chart reads ~365 rows per site and folds them into the viewer's local days in SQL: local
midnight falls on a quarter boundary in every zone (offsets of :30 and :45 included), so
each day splits into the part before and after it. Triggers on ``charging_session`` keep
the rows in the session's own transaction (as m0011's hourly ones); this migration fills
them from the stored sessions. Literal SQL, both dialects; missing site ids are 0.
"""

from __future__ import annotations

import peewee

TABLE = "session_day_site"
QUARTERS = 96
_N = [f'"n{q}"' for q in range(QUARTERS)]
_WH = [f'"wh{q}"' for q in range(QUARTERS)]
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
        f'"site_id" INTEGER NOT NULL, {values}, PRIMARY KEY ("day", "site_id"))'
    )


def _upsert(row: str, sign: str, sqlite: bool) -> str:
    """Add (sign 1) or take away (-1) the session ``row`` (NEW/OLD, or ``r`` in PL/SQL)."""
    energy = f"COALESCE({row}.energy_wh, 0)"
    picks = [f"CASE WHEN b.q = {q} THEN {sign} ELSE 0 END" for q in range(QUARTERS)]
    picks += [f"CASE WHEN b.q = {q} THEN {sign} * {energy} ELSE 0 END" for q in range(QUARTERS)]
    own = "" if sqlite else f'"{TABLE}".'
    updates = ", ".join(f"{c} = {own}{c} + excluded.{c}" for c in _N + _WH)
    return (
        f'INSERT INTO "{TABLE}" ("day", "site_id", {_COLUMNS}) '
        f"SELECT b.e / 86400, COALESCE({row}.site_id, 0), {', '.join(picks)} "
        f"FROM (SELECT e, e / 900 - (e / 86400) * 96 AS q FROM "
        f"(SELECT {_epoch(f'{row}.start_time', sqlite)} AS e) AS a) AS b "
        f"WHERE {row}.end_time IS NOT NULL AND {row}.authentication != 2 "
        f'ON CONFLICT ("day", "site_id") DO UPDATE SET {updates}'
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
    the sessions grouped per quarter first, those few rows spread into columns after."""
    database.execute_sql(f'DELETE FROM "{TABLE}"')
    spread = [f"SUM(CASE WHEN q = {q} THEN n ELSE 0 END)" for q in range(QUARTERS)]
    spread += [f"SUM(CASE WHEN q = {q} THEN wh ELSE 0 END)" for q in range(QUARTERS)]
    database.execute_sql(
        f'INSERT INTO "{TABLE}" ("day", "site_id", {_COLUMNS}) '
        f"SELECT d, site, {', '.join(spread)} FROM ("
        "SELECT e / 86400 AS d, e / 900 - (e / 86400) * 96 AS q, site, COUNT(*) AS n, "
        "SUM(COALESCE(energy_wh, 0)) AS wh FROM ("
        f"SELECT {_epoch('start_time', is_sqlite(database))} AS e, "
        'COALESCE(site_id, 0) AS site, energy_wh FROM "charging_session" '
        "WHERE end_time IS NOT NULL AND authentication != 2) AS s "
        "GROUP BY e / 86400, e / 900 - (e / 86400) * 96, site) AS g "
        "GROUP BY d, site"
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
