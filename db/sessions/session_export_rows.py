"""Rows for exports: the sessions query as raw tuples in keyset chunks, typed, prefetched.

``export_chunks(flt, viewer, node, columns, zone=...)`` yields lists of tuples, one
value per requested column: times as naive wall-clock datetimes of ``zone``, the
duration in seconds (float), energy and meter in kWh, the rest as the table shows it.
It runs the same query as the Statistics table (``session_queries``), but reads the
database cursor's tuples directly (no model or dict per row), and with
``prefetch=True`` the next chunk is read in a second thread, on its own connection,
while the caller writes the previous one.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from db.engine.connection import database_proxy
from db.schema.models import ChargingSession as S
from db.schema.models import utcnow
from db.sessions.session_filters import SessionFilter
from db.sessions.session_queries import (
    _AUTH_TEXT,
    _base_query,
    _cursor_value,
    _Expressions,
    _ordered,
)
from db.system.timezones import UTC_NAME
from db.system.timezones import zone as zone_info
from db.topology.scope import SYSTEM, Node, Viewer

__all__ = [
    "export_chunks",
    "local_time_converter",
    "raw_chunks",
    "raw_page",
    "row_converter",
    "split_cursor",
]

#: positions in the export's select list (``_export_fields``)
_ID, _START, _END, _DURATION, _CBID, _STATION, _SITE = 0, 1, 2, 3, 4, 5, 6
_CONNECTOR, _ENERGY, _AUTH, _EMAIL, _TAG, _SERVER, _METER = 7, 8, 9, 10, 11, 12, 13
#: where the keyset's sort value is: a selected column, or the sort key added last
_SORTED_COLUMN = {"start": _START, "id": _ID}
_SORT = 14


def _export_fields(flt: SessionFilter, ex: _Expressions) -> list[Any]:
    """Only what an export writes (and the sort key when it is not one of those): each
    value the driver returns costs, so the table's other columns are left out."""
    fields = [
        S.id,
        S.start_time,
        S.end_time,
        ex.duration_s.alias("duration_s"),
        S.charge_box_id,
        S.station_name,
        S.site_name,
        S.connector_id,
        ex.energy_wh.alias("live_energy_wh"),
        S.authentication,
        S.user_email,
        S.id_tag,
        S.server_date,
        ex.meter_wh.alias("meter_wh"),
    ]
    if flt.sort not in _SORTED_COLUMN:
        fields.append(ex.sort_key(flt.sort).alias("sort_key"))
    return fields


def local_time_converter(name: str | None) -> Callable[[Any], dt.datetime | None]:
    """Database time (text or datetime, UTC) -> naive wall clock of zone ``name``.

    The zone's offset is looked up once per UTC hour (and exactly when the offset
    changes within that hour), not once per value."""
    parse = dt.datetime.fromisoformat
    utc = dt.UTC

    def as_utc(value: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = parse(value)
        if value.tzinfo is not None:
            value = value.astimezone(utc).replace(tzinfo=None)
        result: dt.datetime = value
        return result

    if not name or name == UTC_NAME:
        return as_utc
    tz = zone_info(name)
    offsets: dict[tuple[int, int, int, int], dt.timedelta | None] = {}

    def offset_at(moment: dt.datetime) -> dt.timedelta:
        found = moment.replace(tzinfo=utc).astimezone(tz).utcoffset()
        assert found is not None
        return found

    def to_local(value: Any) -> dt.datetime | None:
        moment = as_utc(value)
        if moment is None:
            return None
        key = (moment.year, moment.month, moment.day, moment.hour)
        try:
            offset = offsets[key]
        except KeyError:
            hour = moment.replace(minute=0, second=0, microsecond=0)
            first = offset_at(hour)
            last = offset_at(hour + dt.timedelta(minutes=59, seconds=59, microseconds=999999))
            offset = offsets[key] = first if first == last else None
        if offset is None:  # the offset changes inside this hour
            offset = offset_at(moment)
        return moment + offset

    return to_local


#: each export column as an expression over the raw row ``r`` (positions above)
_EXPRESSIONS = {
    "start": "T(r[_START])",
    "duration": "(None if r[_DURATION] is None else float(r[_DURATION]))",
    "end": "T(r[_END])",
    "node": "r[_CBID]",
    "site": "r[_SITE]",
    "energy": "int(r[_ENERGY] or 0) / 1000.0",
    "station": "(r[_STATION] or r[_CBID])",
    "outlet": "r[_CONNECTOR]",
    "auth": "AUTH.get(r[_AUTH], 'Anonymous')",
    "id": "r[_ID]",
    "server_date": "T(r[_SERVER])",
    "email": "r[_EMAIL]",
    "meter": "int(r[_METER] or 0) / 1000.0",
    "id_tag": "r[_TAG]",
    "state": "('running' if r[_END] is None else 'finished')",
}


def row_converter(
    columns: Sequence[str], zone: str | None
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """``raw row -> export tuple`` for ``columns``: one expression, not a call per cell."""
    body = ", ".join(_EXPRESSIONS[key] for key in columns)
    scope: dict[str, Any] = {
        "T": local_time_converter(zone),
        "AUTH": _AUTH_TEXT,
        **{name: value for name, value in globals().items() if name.startswith("_")},
    }
    source = f"lambda r: ({body}{',' if columns else ''})"
    convert: Callable[[tuple[Any, ...]], tuple[Any, ...]] = eval(source, scope)
    return convert


def _until(flt: SessionFilter, ex: _Expressions, until: tuple[Any, int]) -> Any:
    """Rows up to and including the cursor ``until`` in the filter's order (the mirror
    of ``flt.after``)."""
    value, last_id = until
    if flt.sort == "id":
        return S.id >= last_id if flt.descending else S.id <= last_id
    key = ex.sort_key(flt.sort)
    if flt.descending:
        return (key >= value) & ((key > value) | (S.id >= last_id))
    return (key <= value) & ((key < value) | (S.id <= last_id))


def _raw_page(
    flt: SessionFilter,
    viewer: Viewer,
    node: Node,
    ex: _Expressions,
    until: tuple[Any, int] | None = None,
) -> tuple[list[tuple[Any, ...]], tuple[Any, int] | None]:
    """Up to ``flt.limit`` rows after ``flt.after`` (and up to ``until``) as the driver
    returns them, and the keyset cursor after the last one (None: no more rows)."""
    query = _ordered(_base_query(flt, viewer, node, ex), flt, ex)
    if until is not None:
        query = query.where(_until(flt, ex, until))
    query = query.select(*_export_fields(flt, ex)).limit(flt.limit)
    sql, params = query.sql()
    raws: list[tuple[Any, ...]] = database_proxy.obj.execute_sql(sql, params).fetchall()
    if len(raws) < flt.limit:
        return raws, None
    last = raws[-1]
    sort_value = last[_SORTED_COLUMN.get(flt.sort, _SORT)]
    return raws, (_cursor_value(flt, {"sort_key": sort_value}), last[_ID])


def _raw_chunks(
    flt: SessionFilter,
    viewer: Viewer,
    node: Node,
    chunk: int,
    now: dt.datetime,
    until: tuple[Any, int] | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """The query's rows as the driver returns them, ``chunk`` at a time (keyset)."""
    ex = _Expressions(now)
    current = replace(flt, limit=chunk)
    while True:
        raws, after = _raw_page(current, viewer, node, ex, until)
        if raws:
            yield raws
        if after is None:
            return
        current = replace(current, after=after)


def split_cursor(
    flt: SessionFilter, viewer: Viewer, node: Node, rows: int, *, now: dt.datetime | None = None
) -> tuple[Any, int] | None:
    """The keyset cursor of the filter's ``rows``-th row (None: it has fewer rows): the
    rows up to it (``until``) and after it (``after``) are the whole export, split."""
    if rows < 1:
        return None
    ex = _Expressions(now or utcnow())
    query = _ordered(_base_query(flt, viewer, node, ex), flt, ex)
    query = query.select(ex.sort_key(flt.sort).alias("sort_key"), S.id).limit(1).offset(rows - 1)
    sql, params = query.sql()
    found = database_proxy.obj.execute_sql(sql, params).fetchone()
    if found is None:
        return None
    return _cursor_value(flt, {"sort_key": found[0]}), found[1]


def raw_page(
    flt: SessionFilter, viewer: Viewer, node: Node, *, now: dt.datetime | None = None
) -> tuple[list[tuple[Any, ...]], tuple[Any, int] | None]:
    """One keyset page as the driver's tuples (``session_export_csv`` reads them), and
    the ``after`` of the next page (None on the last)."""
    return _raw_page(flt, viewer, node, _Expressions(now or utcnow()))


def raw_chunks(
    flt: SessionFilter,
    viewer: Viewer,
    node: Node = SYSTEM,
    *,
    chunk: int = 20000,
    now: dt.datetime | None = None,
    prefetch: bool = False,
    until: tuple[Any, int] | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """Every row the filter selects, in its order, as the driver's tuples (the select
    list of ``_export_fields``), ``chunk`` at a time; ``prefetch`` as in
    ``export_chunks``. With ``until`` (a keyset cursor, ``split_cursor``) the rows end
    with that one."""
    raw = _raw_chunks(flt, viewer, node, chunk, now or utcnow(), until)
    return _prefetched(raw) if prefetch else raw


def export_chunks(
    flt: SessionFilter,
    viewer: Viewer,
    node: Node = SYSTEM,
    columns: Sequence[str] = (),
    *,
    zone: str | None = None,
    chunk: int = 20000,
    now: dt.datetime | None = None,
    prefetch: bool = False,
) -> Iterator[list[tuple[Any, ...]]]:
    """Every row the filter selects, in its order, as typed tuples of ``columns``.

    Call it where ``store.read`` runs a function (a worker thread with a connection).
    With ``prefetch`` the database is read one chunk ahead in a second thread."""
    convert = row_converter(columns, zone)
    raw = _raw_chunks(flt, viewer, node, chunk, now or utcnow())
    if prefetch:
        raw = _prefetched(raw)
    for raws in raw:
        yield list(map(convert, raws))


_DONE = object()


def _prefetched(source: Iterator[Any], depth: int = 1) -> Iterator[Any]:
    """``source`` consumed in a thread of its own (its own database connection), at most
    ``depth`` items ahead of the caller. Stopping early stops the thread."""
    items: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    database = database_proxy.obj

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        opened = database.connect(reuse_if_open=True)
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the caller, raised there
            put(exc)
        finally:
            if opened:
                database.close()

    worker = threading.Thread(target=produce, name="export-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()
