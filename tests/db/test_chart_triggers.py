"""The chart aggregates' triggers, limited to counted sessions (m0021), still follow every
change the aggregates depend on, on a new and on an upgraded database."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import peewee

from db import Store, migrate
from db.demo.demo_data import generate_sessions
from db.engine import rawsql
from db.ocpp.ocpp_transactions import _UPDATE_LIVE_ENERGY, _UPDATE_LIVE_ENERGY_FROM
from db.schema.models import ChargingSession as S
from db.sessions.hourly_charts import aggregates_rebuilt_after, rebuild

NOW = dt.datetime(2026, 4, 10, 12, 0, 0)
#: each aggregate and how many key columns lead its rows
_TABLES = {"session_hour_outlet": 4, "session_hour_site": 2, "session_day_site": 2}


def _aggregates(database: peewee.Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every aggregate row that holds something (rows added and taken away again are all
    zero; a rebuild has none), occupied seconds to the millisecond."""
    out = {}
    for table, keys in _TABLES.items():
        rows = database.execute_sql(f'SELECT * FROM "{table}" ORDER BY 1, 2, 3').fetchall()
        out[table] = [
            tuple(round(float(v), 3) for v in row)
            for row in rows
            if any(abs(float(v)) > 0.0005 for v in row[keys:])
        ]
    return out


def _churn(database: peewee.Database, rng: random.Random) -> None:
    """What the gateway and the portal do to sessions: live energy of running ones, closes,
    corrections, site moves, refusals and their reversal, deletions."""
    running = [s.id for s in S.select(S.id).where(S.end_time.is_null())]
    closed = [s.id for s in S.select(S.id).where(S.end_time.is_null(False))]
    sites = sorted({s.site_id for s in S.select(S.site_id) if s.site_id is not None})
    rawsql.update_from_values(  # MeterValues: the live energy of running sessions
        ("id", "r"),
        [(i, 10**6 + rng.randint(1, 9999)) for i in running],
        _UPDATE_LIVE_ENERGY_FROM,
        _UPDATE_LIVE_ENERGY,
    )
    for session_id in rng.sample(running, 3):  # a site move while running, then closed
        S.update(site_id=rng.choice(sites)).where(S.id == session_id).execute()
        S.update(end_time=NOW, energy_wh=S.meter_last - S.meter_start).where(
            S.id == session_id
        ).execute()
    for session_id in rng.sample(closed, 10):  # closed sessions moved and corrected
        S.update(site_id=rng.choice(sites), energy_wh=S.energy_wh + 77).where(
            S.id == session_id
        ).execute()
    S.update(authentication=2).where(S.id.in_(rng.sample(closed, 8))).execute()
    S.update(authentication=0).where(S.id.in_(rng.sample(closed, 8))).execute()
    S.update(end_time=None).where(S.id.in_(rng.sample(closed, 3))).execute()  # reopened
    S.delete().where(S.id.in_(rng.sample(closed, 10))).execute()


def _kept_equals_rebuilt(database: peewee.Database) -> tuple[Any, Any]:
    kept = _aggregates(database)
    rebuild(database)
    return kept, _aggregates(database)


async def test_the_limited_triggers_follow_every_change_on_a_new_and_an_upgraded_database(
    store: Store,
) -> None:
    database = store.database

    def upgraded() -> None:
        migrate(database, target=20)  # the triggers as m0011 and m0020 made them
        generate_sessions(database, 400, days=20, now=NOW, seed=11)
        _churn(database, random.Random(1))
        migrate(database)
        _churn(database, random.Random(2))

    await store.write(upgraded)
    kept, rebuilt = await store.write(_kept_equals_rebuilt, database)
    assert kept == rebuilt
    assert len(kept["session_day_site"]) > 20

    def more() -> None:
        generate_sessions(database, 200, days=5, now=NOW, seed=12)
        _churn(database, random.Random(3))

    await store.write(more)
    kept, rebuilt = await store.write(_kept_equals_rebuilt, database)
    assert kept == rebuilt


def _limited_triggers(database: peewee.Database) -> int:
    """How many chart triggers carry a WHEN."""
    if isinstance(database, peewee.SqliteDatabase):
        rows = database.execute_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'session_%'"
        ).fetchall()
        return sum(" FOR EACH ROW WHEN " in row[0] for row in rows)
    return int(
        database.execute_sql(
            "SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = 'charging_session'::regclass"
            " AND NOT tgisinternal AND tgqual IS NOT NULL"
        ).fetchone()[0]
    )


async def test_the_triggers_stay_limited_after_a_bulk_load_and_a_downgrade_undoes_it(
    store: Store,
) -> None:
    database = store.database
    assert await store.read(_limited_triggers, database) == 6

    def bulk() -> int:
        with aggregates_rebuilt_after(database):
            pass
        return _limited_triggers(database)

    assert await store.write(bulk) == 6

    def down_and_up() -> tuple[int, int]:
        migrate(database, target=20)
        low = _limited_triggers(database)
        migrate(database)
        return low, _limited_triggers(database)

    assert await store.write(down_and_up) == (0, 6)
