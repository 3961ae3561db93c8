"""A fast generator of a realistic year of charging sessions for demos and benchmarks.

``generate_sessions(database, sessions=1_000_000, seed=1)`` spreads the sessions
over the existing sites, stations, outlets and EV users (adding demo ones when
there are too few to hold that many sessions without overlap), with daily,
weekly, seasonal and hourly patterns, RFID and anonymous charging, and the
newest sessions still running. Rows go in with bulk inserts in big transactions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from db.demo.demo_topology import ensure_demo_topology
from db.engine.bulk import indexes_built_after
from db.engine.connection import is_sqlite
from db.schema.models import (
    ChargingSession,
    IdTag,
    MeterSample,
    Outlet,
    Site,
    Station,
    User,
    utcnow,
)
from db.sessions.hourly_charts import aggregates_rebuilt_after

__all__ = ["DemoStatistics", "ensure_demo_topology", "generate_sessions"]

#: Relative chance that a session starts in each hour of the day (commuters, evenings).
HOURLY_WEIGHTS = (
    0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 2.0, 4.5, 6.5, 5.0, 3.5, 3.2,
    3.6, 3.4, 3.0, 3.2, 4.0, 5.2, 5.6, 4.4, 3.2, 2.2, 1.5, 1.0,
)  # fmt: skip
#: Monday .. Sunday
WEEKDAY_WEIGHTS = (1.1, 1.1, 1.1, 1.1, 1.05, 0.8, 0.65)
POWERS_KW = (3.7, 7.4, 11.0, 11.0, 22.0, 22.0)
SESSIONS_PER_OUTLET_DAY = 3.0
INSERT_BATCH = 50_000
#: from this many sessions on, an empty table gets its indexes after the fill
BULK_REBUILD = 50_000
#: from this many sessions the chart aggregates are recomputed once after the fill
AGGREGATES_AFTER = 5_000

_SESSION_COLUMNS = (
    "station",
    "charge_box_id",
    "station_name",
    "site_name",
    "site",
    "outlet",
    "connector_id",
    "id_tag",
    "user",
    "user_email",
    "authentication",
    "start_time",
    "end_time",
    "meter_start",
    "meter_stop",
    "meter_last",
    "energy_wh",
    "stop_reason",
    "stop_id_tag",
    "server_date",
    "stopped_server_date",
)


@dataclass
class DemoStatistics:
    sessions: int = 0
    running: int = 0
    rfid: int = 0
    stations_added: int = 0
    users_added: int = 0
    samples: int = 0
    seconds: float = 0.0


@dataclass
class _Outlet:
    outlet_id: int
    station_id: int
    charge_box_id: str
    station_name: str
    site_id: int | None
    site_name: str
    connector_id: int
    power_kw: float
    rfid_share: float
    free_at: dt.datetime
    meter: int
    first_start: dt.datetime | None = None
    first_meter: int = 0
    charging: bool = False  # its newest session is still running


def _load_outlets(rng: random.Random, start: dt.datetime) -> list[_Outlet]:
    query = (
        Outlet.select(
            Outlet.id,
            Outlet.connector_id,
            Station.id,
            Station.charge_box_id,
            Station.name,
            Site.id,
            Site.name,
        )
        .join(Station)
        .join(Site, peewee.JOIN.LEFT_OUTER)
        .order_by(Outlet.id)
        .tuples()
    )
    site_rfid: dict[Any, float] = {}
    outlets = []
    for outlet_id, connector, station_id, cbid, name, site_id, site_name in query:
        rfid_share = site_rfid.setdefault(site_id, rng.uniform(0.55, 0.9))
        outlets.append(
            _Outlet(
                outlet_id=outlet_id,
                station_id=station_id,
                charge_box_id=cbid,
                station_name=name or cbid,
                site_id=site_id,
                site_name=site_name or "",
                connector_id=connector,
                power_kw=rng.choice(POWERS_KW),
                rfid_share=rfid_share,
                free_at=start,
                meter=rng.randrange(100_000, 5_000_000),
            )
        )
    return outlets


def _load_users(sites: Sequence[int | None]) -> dict[Any, list[tuple[int, str, str]]]:
    """EV users with a tag, grouped by a home site (spread round robin)."""
    rows = (
        User.select(User.id, User.email, IdTag.id_tag)
        .join(IdTag, on=IdTag.user == User.id)
        .where(User.role == "ev-user", IdTag.status == "Accepted")
        .order_by(User.id)
        .tuples()
    )
    by_site: dict[Any, list[tuple[int, str, str]]] = {site: [] for site in sites}
    for index, row in enumerate(rows):
        by_site[sites[index % len(sites)]].append(row)
    return by_site


def _duration_s(rng: random.Random, hour: int) -> float:
    kind = rng.random()
    if 6 <= hour <= 9 and kind < 0.55:  # parked at work
        return rng.uniform(3.5, 9.0) * 3600
    if hour >= 18 and kind < 0.35:  # overnight at home
        return rng.uniform(6.0, 12.0) * 3600
    if kind < 0.7:
        return rng.lognormvariate(math.log(5400), 0.55)
    return rng.uniform(15, 50) * 60  # quick top-up


def _day_weights(days: int, start: dt.datetime) -> list[float]:
    weights = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        season = 1.0 + 0.15 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)
        growth = 0.85 + 0.3 * offset / max(1, days - 1)
        weights.append(WEEKDAY_WEIGHTS[day.weekday()] * season * growth)
    return weights


def generate_sessions(
    database: peewee.Database,
    sessions: int = 1_000_000,
    *,
    seed: int = 1,
    days: int = 365,
    now: dt.datetime | None = None,
    samples_for_latest: int = 200,
) -> DemoStatistics:
    """Insert ``sessions`` charging sessions over the ``days`` before ``now``."""
    started = dt.datetime.now()
    rng = random.Random(seed)
    now = (now or utcnow()).replace(microsecond=0)
    window_start = (now - dt.timedelta(days=days)).replace(hour=0, minute=0, second=0)
    stats = DemoStatistics()
    database.connect(reuse_if_open=True)
    outlets_needed = max(4, math.ceil(sessions / (days * SESSIONS_PER_OUTLET_DAY)))
    users_needed = max(10, math.ceil(sessions * 0.75 / (days * 0.7)))
    stats.stations_added, stats.users_added = ensure_demo_topology(
        database, outlets=outlets_needed, users=users_needed, seed=seed
    )
    outlets = _load_outlets(rng, window_start)
    users = _load_users(sorted({o.site_id for o in outlets}, key=lambda s: (s is None, s)))
    all_users = [u for group in users.values() for u in group]

    # how many sessions each outlet gets (popular and quiet outlets), summing to ``sessions``
    popularity = [rng.uniform(0.5, 1.5) for _ in outlets]
    total_pop = sum(popularity)
    counts = [int(sessions * p / total_pop) for p in popularity]
    for index in rng.sample(range(len(outlets)), sessions - sum(counts)):
        counts[index] += 1
    # per outlet, which days its sessions fall on
    day_weights = _day_weights(days + 1, window_start)
    per_day: list[list[tuple[int, int]]] = [[] for _ in range(days + 1)]
    day_cum = list(itertools.accumulate(day_weights))
    hour_cum = list(itertools.accumulate(HOURLY_WEIGHTS))
    for index, count in enumerate(counts):
        chosen_days = rng.choices(range(days + 1), cum_weights=day_cum, k=count)
        hours = rng.choices(range(24), cum_weights=hour_cum, k=count)
        for day, hour in zip(chosen_days, hours, strict=True):
            per_day[day].append((index, hour))

    columns = [ChargingSession._meta.fields[name] for name in _SESSION_COLUMNS]
    # a big fill into an empty table: build its indexes once at the end (2x faster)
    bulk = sessions >= BULK_REBUILD and not ChargingSession.select().exists()
    with contextlib.ExitStack() as fill_stack:
        if bulk:
            fill_stack.enter_context(indexes_built_after(database, ChargingSession))
        if sessions >= AGGREGATES_AFTER:
            fill_stack.enter_context(aggregates_rebuilt_after(database))
        _fill(database, rng, outlets, per_day, window_start, now, users, all_users, columns, stats)
    # a running session and an outlet that says Available disagree: the outlet charges
    charging = [o.outlet_id for o in outlets if o.charging]
    for chunk in range(0, len(charging), 500):
        Outlet.update(status="Charging", error_code="NoError", status_at=now).where(
            Outlet.id.in_(charging[chunk : chunk + 500])
        ).execute()
    stats.samples = _add_samples(database, samples_for_latest, now)
    stats.seconds = (dt.datetime.now() - started).total_seconds()
    return stats


def _fill(
    database: peewee.Database,
    rng: random.Random,
    outlets: list[_Outlet],
    per_day: list[list[tuple[int, int]]],
    window_start: dt.datetime,
    now: dt.datetime,
    users: dict[Any, list[tuple[int, str, str]]],
    all_users: list[tuple[int, str, str]],
    columns: list[peewee.Field],
    stats: DemoStatistics,
) -> None:
    batch: list[tuple[Any, ...]] = []
    deficit: list[int] = []
    for day, todays in enumerate(per_day):
        day_start = window_start + dt.timedelta(days=day)
        todays.sort(key=lambda item: (item[1], item[0]))
        for index, hour in todays:
            outlet = outlets[index]
            start = day_start + dt.timedelta(hours=hour, seconds=rng.randrange(3600))
            start = max(start, outlet.free_at + dt.timedelta(seconds=rng.randrange(120, 1800)))
            if start >= now:
                deficit.append(index)
                continue
            row = _make_row(rng, outlet, start, hour, users, all_users, now, stats)
            batch.append(row)
            if len(batch) >= INSERT_BATCH:
                _insert(database, columns, batch)
                batch = []
    # sessions pushed past 'now' go before the outlet's first one instead
    for index in deficit:
        outlet = outlets[index]
        batch.append(_make_earlier_row(rng, outlet, users, all_users, stats))
    _insert(database, columns, batch)


def _pick_user(
    rng: random.Random,
    outlet: _Outlet,
    users: dict[Any, list[tuple[int, str, str]]],
    all_users: list[tuple[int, str, str]],
) -> tuple[int, str, str] | None:
    if not all_users or rng.random() >= outlet.rfid_share:
        return None
    local = users.get(outlet.site_id) or all_users
    return rng.choice(local if rng.random() < 0.9 else all_users)


def _energy_wh(rng: random.Random, outlet: _Outlet, seconds: float) -> int:
    need_kwh = rng.uniform(4.0, 65.0)
    delivered = outlet.power_kw * rng.uniform(0.6, 0.97) * seconds / 3600
    return max(1, int(min(need_kwh, delivered) * 1000))


def _make_row(
    rng: random.Random,
    outlet: _Outlet,
    start: dt.datetime,
    hour: int,
    users: dict[Any, list[tuple[int, str, str]]],
    all_users: list[tuple[int, str, str]],
    now: dt.datetime,
    stats: DemoStatistics,
) -> tuple[Any, ...]:
    seconds = _duration_s(rng, hour)
    end = start + dt.timedelta(seconds=int(seconds))
    energy = _energy_wh(rng, outlet, seconds)
    user = _pick_user(rng, outlet, users, all_users)
    meter_start = outlet.meter
    if outlet.first_start is None:
        outlet.first_start, outlet.first_meter = start, meter_start
    outlet.free_at = end
    outlet.meter = meter_start + energy
    stats.sessions += 1
    stats.rfid += user is not None
    if end > now:  # still charging
        stats.running += 1
        outlet.charging = True
        part = int(energy * (now - start).total_seconds() / seconds)
        return _tuple(outlet, user, start, None, meter_start, None, meter_start + part, 0, rng)
    return _tuple(outlet, user, start, end, meter_start, meter_start + energy, None, energy, rng)


def _make_earlier_row(
    rng: random.Random,
    outlet: _Outlet,
    users: dict[Any, list[tuple[int, str, str]]],
    all_users: list[tuple[int, str, str]],
    stats: DemoStatistics,
) -> tuple[Any, ...]:
    hour = rng.randrange(8, 18)
    seconds = _duration_s(rng, hour)
    first = outlet.first_start or outlet.free_at
    end = first - dt.timedelta(seconds=rng.randrange(600, 7200))
    start = end - dt.timedelta(seconds=int(seconds))
    energy = _energy_wh(rng, outlet, seconds)
    meter_stop = outlet.first_meter if outlet.first_start else outlet.meter
    meter_start = max(0, meter_stop - energy)
    outlet.first_start, outlet.first_meter = start, meter_start
    user = _pick_user(rng, outlet, users, all_users)
    stats.sessions += 1
    stats.rfid += user is not None
    return _tuple(
        outlet, user, start, end, meter_start, meter_stop, None, meter_stop - meter_start, rng
    )


def _tuple(
    outlet: _Outlet,
    user: tuple[int, str, str] | None,
    start: dt.datetime,
    end: dt.datetime | None,
    meter_start: int,
    meter_stop: int | None,
    meter_last: int | None,
    energy: int,
    rng: random.Random,
) -> tuple[Any, ...]:
    user_id, email, tag = user if user else (None, "", "")
    if end is None:
        stop_reason = ""
    elif user and rng.random() < 0.6:
        stop_reason = "Local"
    else:
        stop_reason = "EVDisconnected"
    return (
        outlet.station_id,
        outlet.charge_box_id,
        outlet.station_name,
        outlet.site_name,
        outlet.site_id,
        outlet.outlet_id,
        outlet.connector_id,
        tag,
        user_id,
        email,
        1 if user else 0,
        start,
        end,
        meter_start,
        meter_stop,
        meter_last,
        energy,
        stop_reason,
        tag if stop_reason == "Local" else "",
        start + dt.timedelta(milliseconds=rng.randrange(80, 2500)),
        None if end is None else end + dt.timedelta(milliseconds=rng.randrange(80, 2500)),
    )


def _insert(
    database: peewee.Database, columns: list[peewee.Field], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    table = ChargingSession._meta.table_name
    names = ", ".join(f'"{c.column_name}"' for c in columns)
    with database.atomic():
        cursor = database.cursor()
        if is_sqlite(database):
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        else:
            from psycopg2.extras import execute_values  # type: ignore[import-untyped]

            execute_values(
                cursor, f'INSERT INTO "{table}" ({names}) VALUES %s', rows, page_size=5000
            )


def _add_samples(database: peewee.Database, latest: int, now: dt.datetime) -> int:
    """Meter samples every 15 minutes for the newest ``latest`` sessions (the Show chart)."""
    if latest <= 0:
        return 0
    s = ChargingSession
    recent = list(
        s.select(s.id, s.station, s.connector_id, s.start_time, s.end_time, s.meter_start,
                 s.meter_stop, s.meter_last)
        .order_by(s.start_time.desc())
        .limit(latest)
        .tuples()
    )  # fmt: skip
    rows = []
    for session_id, station, connector, start, end, m_start, m_stop, m_last in recent:
        finish = end or now
        total = (finish - start).total_seconds()
        stop_value = m_stop if m_stop is not None else (m_last or m_start)
        moment = start
        previous = m_start
        while moment <= finish:
            fraction = (moment - start).total_seconds() / total if total else 1.0
            value = int(m_start + (stop_value - m_start) * fraction)
            power = (value - previous) * 4  # Wh per 15 min → W
            previous = value
            for measurand, reading, unit in (
                ("Energy.Active.Import.Register", value, "Wh"),
                ("Power.Active.Import", power, "W"),
            ):
                rows.append(
                    {
                        "session": session_id,
                        "station_id": station,
                        "connector_id": connector,
                        "timestamp": moment,
                        "measurand": measurand,
                        "value": str(reading),
                        "unit": unit,
                    }
                )
            moment += dt.timedelta(minutes=15)
    with database.atomic():
        for start_index in range(0, len(rows), 500):
            MeterSample.insert_many(
                rows[start_index : start_index + 500]
            ).on_conflict_ignore().execute()
    return len(rows)
