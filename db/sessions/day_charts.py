"""Diagram data from the per-day rollup (migration m0020), folded into local days in SQL.

``session_day_site`` has one row per UTC day and site (and per day for the system) with
running totals of sessions and Wh over the day's quarter hours. The range splits into
periods of one UTC offset of the viewer's zone (a DST change starts a new one), each
period into whole days and partial first/last days, and each of those at the quarter
where local midnight falls: the database takes each part as one column minus another
and groups by local day (``day + shift``), so a year returns ~365 rows whatever the zone
(:30 and :45 offsets included). Hours of day come from the columns at local hour
boundaries. Closed sessions only: running ones are few and read live. Serves the system
and site nodes (the hourly aggregates serve floors, stations, outlets);
``hourly_charts.ENABLED = False`` turns this path off too.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from db.engine.connection import database_proxy
from db.schema.models import ChargingSession
from db.sessions import hourly_charts
from db.system.timezones import fold_slots, local_key, zone
from db.topology.scope import Node, Viewer

__all__ = ["folded", "periods", "usable"]

S = ChargingSession
TABLE = "session_day_site"
ALL_SITES = -1  # the system's rows (m0020)
QUARTER = 900
PER_DAY = 96
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()


def _quarter(moment: dt.datetime) -> int | None:
    """The UTC quarter index of ``moment`` if it is on a quarter boundary."""
    seconds = (moment - _EPOCH).total_seconds()
    if seconds % QUARTER:
        return None
    return int(seconds) // QUARTER


def usable(
    viewer: Viewer, node: Node, start: dt.datetime, end: dt.datetime, zone_name: str | None
) -> bool:
    """Whether the rollup answers this chart exactly."""
    if not hourly_charts.ENABLED or node.kind not in ("system", "site"):
        return False
    if viewer.role not in ("admin", "support", "site-admin"):
        return False
    if viewer.role == "site-admin" and viewer.site_id is None:
        return False
    first, last = _quarter(start), _quarter(end)
    if first is None or last is None or last <= first:
        return False
    return periods(zone_name, first, last) is not None


def _offset_quarters(tz: Any, quarter: int) -> int | None:
    """The zone's UTC offset at the start of ``quarter``, in quarters (None: not whole)."""
    moment = dt.datetime.fromtimestamp(quarter * QUARTER, dt.UTC).astimezone(tz)
    offset = moment.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return None if seconds % QUARTER else seconds // QUARTER


@lru_cache(maxsize=256)
def periods(
    zone_name: str | None, first: int, last: int
) -> tuple[tuple[int, int, int], ...] | None:
    """``((from quarter, to quarter, offset in quarters), …)`` covering ``[first, last)``
    with one UTC offset each; None when an offset or a change is not on a quarter hour."""
    tz = zone(zone_name)
    out: list[tuple[int, int, int]] = []
    begin = first
    offset = _offset_quarters(tz, first)
    if offset is None:
        return None
    probe = first
    while probe < last - 1:
        following = min(probe + PER_DAY, last - 1)  # clocks change at most once a day
        then = _offset_quarters(tz, following)
        if then is None:
            return None
        if then != offset:
            low, high = probe, following  # offset(low) == offset, offset(high) != offset
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_quarters(tz, middle) == offset:
                    low = middle
                else:
                    high = middle
            # the change falls on the quarter boundary itself, not inside the quarter
            before = dt.datetime.fromtimestamp(high * QUARTER - 1, dt.UTC).astimezone(tz)
            if before.utcoffset() != dt.timedelta(seconds=offset * QUARTER):
                return None
            out.append((begin, high, offset))
            begin, offset = high, _offset_quarters(tz, high)
            if offset is None:
                return None
            probe = high
            continue
        probe = following
    out.append((begin, last, offset))
    return tuple(out)


def _pieces(first: int, last: int) -> list[tuple[int, int, int, int]]:
    """``[(from day, to day, from column, to column)]`` covering quarters ``[first, last)``."""
    d0, c0 = divmod(first, PER_DAY)
    d1, c1 = divmod(last, PER_DAY)
    if d0 == d1:
        return [(d0, d0 + 1, c0, c1)]
    out = []
    if c0:
        out.append((d0, d0 + 1, c0, PER_DAY))
        d0 += 1
    if d1 > d0:
        out.append((d0, d1, 0, PER_DAY))
    if c1:
        out.append((d1, d1 + 1, 0, c1))
    return out


def _day_parts(
    first: int, last: int, zone_name: str | None
) -> list[tuple[int, int, int, int, int, int]]:
    """``[(from day, to day, from column, split column, to column, local day - UTC day)]``:
    the quarters ``[from, split)`` of each UTC day fall on local day ``day + shift``,
    ``[split, to)`` on the next (split = to when local midnight is not inside)."""
    found = periods(zone_name, first, last)
    assert found is not None
    out = []
    for p0, p1, offset in found:
        midnight = (-offset) % PER_DAY  # the column where local midnight falls
        for d0, d1, c0, c1 in _pieces(p0, p1):
            split = midnight if c0 < midnight < c1 else c1
            out.append((d0, d1, c0, split, c1, (c0 + offset) // PER_DAY))
    return out


def _scope(viewer: Viewer, node: Node) -> str:
    """The WHERE terms choosing the rows of this node as this viewer sees it."""
    terms = []
    if node.kind == "site":
        terms.append(f'"site_id" = {int(node.id or 0)}')
    if viewer.role == "site-admin":
        terms.append(f'"site_id" = {int(viewer.site_id or 0)}')
    if not terms:
        terms.append(f'"site_id" = {ALL_SITES}')
    return " AND ".join(terms)


def _column(prefix: str, edge: int) -> str:
    """The running total before quarter ``edge`` (0 before the first)."""
    return f'"{prefix}{edge}"' if edge else "0"


def _local_days(
    viewer: Viewer, node: Node, first: int, last: int, zone_name: str | None
) -> dict[int, list[int]]:
    """``{local day since 1970-01-01: [sessions, Wh]}`` of the closed sessions: each UTC
    day read once, as its part before local midnight and its part after."""
    scope = _scope(viewer, node)
    branches = []
    for d0, d1, c0, split, c1, shift in _day_parts(first, last, zone_name):
        n0, n1, n2 = (_column("n", e) for e in (c0, split, c1))
        w0, w1, w2 = (_column("wh", e) for e in (c0, split, c1))
        branches.append(
            f'SELECT "day" + {shift}, {n1} - {n0}, {w1} - {w0}, {n2} - {n1}, {w2} - {w1} '
            f'FROM "{TABLE}" WHERE {scope} AND "day" >= {d0} AND "day" < {d1}'
        )
    out: dict[int, list[int]] = {}
    for day, *values in database_proxy.obj.execute_sql(" UNION ALL ".join(branches)):
        for local, n, wh in ((day, values[0], values[1]), (day + 1, values[2], values[3])):
            if n:
                entry = out.get(local)
                if entry is None:
                    out[local] = [int(n), int(wh)]
                else:
                    entry[0] += int(n)
                    entry[1] += int(wh)
    return out


def _day_key(unit: str) -> Any:
    """Bucket key of a local day number (days since 1970-01-01), as ``local_key``."""
    if unit == "weekday":
        return lambda day: (day + 3) % 7 + 1  # 1970-01-01 was a Thursday
    if unit == "day":
        return lambda day: dt.date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
    key_of = local_key(unit)
    return lambda day: key_of(dt.datetime.fromordinal(_EPOCH_ORDINAL + day))


def _hours(
    viewer: Viewer, node: Node, first: int, last: int, zone_name: str | None
) -> dict[int, list[int]]:
    """``{local hour: [sessions, Wh]}`` of the closed sessions: per part of the range, the
    sums of the running totals at its local hour boundaries, differenced."""
    scope = _scope(viewer, node)
    found = periods(zone_name, first, last)
    assert found is not None
    parts = []
    for p0, p1, offset in found:
        for d0, d1, c0, c1 in _pieces(p0, p1):
            inner = [b for b in range(c0 + 1, c1) if (b + offset) % 4 == 0]
            parts.append((d0, d1, [c0, *inner, c1], offset))
    width = max(len(edges) for _, _, edges, _ in parts)

    def total(prefix: str, edge: int) -> str:
        return f'SUM("{prefix}{edge}")' if edge else "0"

    branches = []
    for index, (d0, d1, edges, _) in enumerate(parts):
        sums = [f"{total('n', e)}, {total('wh', e)}" for e in edges]
        sums += ["0, 0"] * (width - len(edges))
        branches.append(
            f'SELECT {index}, {", ".join(sums)} FROM "{TABLE}" '
            f'WHERE {scope} AND "day" >= {d0} AND "day" < {d1}'
        )
    out: dict[int, list[int]] = {}
    for index, *values in database_proxy.obj.execute_sql(" UNION ALL ".join(branches)):
        _, _, edges, offset = parts[int(index)]
        for position in range(len(edges) - 1):
            n = int(values[2 * position + 2] or 0) - int(values[2 * position] or 0)
            if n:
                wh = int(values[2 * position + 3] or 0) - int(values[2 * position + 1] or 0)
                entry = out.setdefault(((edges[position] + offset) % PER_DAY) // 4, [0, 0])
                entry[0] += n
                entry[1] += wh
    return out


def _running(
    unit: str,
    zone_name: str | None,
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[Any, list[Any]]:
    """The running sessions (not in the rollup) folded into local buckets: their energy so far."""
    rows = hourly_charts.running_by_slot(viewer, node, start, end, QUARTER)
    return fold_slots(rows, zone_name, unit, QUARTER, combine=("sum", "sum"))


def folded(
    unit: str,
    zone_name: str | None,
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[Any, tuple[int, int]]:
    """``{local bucket: (sessions, Wh)}`` by session start, as ``hourly_charts.folded``."""
    first, last = _quarter(start), _quarter(end)
    assert first is not None
    assert last is not None
    totals: dict[Any, list[int]]
    if unit == "hour":
        totals = _hours(viewer, node, first, last, zone_name)
    else:
        key_of = _day_key(unit)
        totals = {}
        for day, (n, wh) in _local_days(viewer, node, first, last, zone_name).items():
            entry = totals.get(key := key_of(day))
            if entry is None:
                totals[key] = [n, wh]
            else:
                entry[0] += n
                entry[1] += wh
    for key, (n, wh) in _running(unit, zone_name, viewer, node, start, end).items():
        entry = totals.setdefault(key, [0, 0])
        entry[0] += int(n)
        entry[1] += int(wh or 0)
    return {key: (n, wh) for key, (n, wh) in totals.items() if n}
