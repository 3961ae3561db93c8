"""The sessions table (SPEC §6): filtered, sorted, keyset-paginated, scoped by node and role.

Every function is synchronous and meant for ``store.read(fn, ...)``: it runs in
one worker thread with that thread's connection.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import peewee
from peewee import Case, fn

from db.engine.connection import database_proxy
from db.engine.dialect import SORT_KEYS, Dialect, sort_key_sql
from db.ocpp.stale_sessions import STALE_STOP_REASON
from db.schema.models import (
    AUTH_ANONYMOUS,
    AUTH_REFUSED,
    AUTH_RFID,
    ChargingSession,
    MeterSample,
    OcppMessage,
    utcnow,
)
from db.sessions.session_filters import COLUMNS, SessionFilter, encode_cursor, format_duration
from db.topology.scope import COUNTED, SYSTEM, Node, Viewer, session_scope

Expr = peewee.ColumnBase

__all__ = [
    "SessionPage",
    "count_sessions",
    "iter_sessions",
    "page_sessions",
    "session_detail",
    "session_messages",
    "session_meter_series",
]

S = ChargingSession

_AUTH_VALUES = {"anonymous": AUTH_ANONYMOUS, "rfid": AUTH_RFID, "refused": AUTH_REFUSED}
#: How Statistics names ``authentication`` (SPEC §6: RFID is a badge the system approved).
_AUTH_TEXT = {AUTH_ANONYMOUS: "Anonymous", AUTH_RFID: "RFID", AUTH_REFUSED: "Refused"}

#: Sorts running sessions (no end yet) after every finished one.
FAR_FUTURE = dt.datetime(9999, 12, 31)


@dataclass
class SessionPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None  # ``after=`` for the next page, None on the last page
    next_after: tuple[Any, int] | None = None  # the same, decoded (``SessionFilter.after``)


class _Expressions:
    """The computed columns, built for one database and one 'now'."""

    def __init__(self, now: dt.datetime) -> None:
        d = Dialect(database_proxy.obj)
        self.dialect = d
        self.running = S.end_time.is_null()
        #: live energy for running sessions (meter_last - meter_start), else the stored one
        self.energy_wh = Case(
            None,
            [(S.end_time.is_null(), fn.COALESCE(S.meter_last, S.meter_start) - S.meter_start)],
            S.energy_wh,
        )
        self.meter_wh = fn.COALESCE(S.meter_stop, S.meter_last, S.meter_start)
        self.duration_s = d.seconds_between(
            S.start_time, fn.COALESCE(S.end_time, d.timestamp(peewee.Value(now)))
        )
        self.end_sort = fn.COALESCE(S.end_time, d.timestamp(peewee.Value(FAR_FUTURE)))
        self.state = Case(None, [(S.end_time.is_null(), 1)], 0)

    def sort_key(self, key: str) -> Expr:
        if key in SORT_KEYS:  # computed: the indexed expression, running sessions last
            return peewee.SQL(f"({sort_key_sql(key, database_proxy.obj)})")
        return {
            "start": S.start_time,
            "end": self.end_sort,
            "node": S.charge_box_id,
            "site": S.site_name,
            "station": S.station_name,
            "outlet": S.connector_id,
            "auth": S.authentication,
            "id": S.id,
            "server_date": S.server_date,
            "email": S.user_email,
            "id_tag": S.id_tag,
            "state": self.state,
        }[key]

    def condition(self, flt: SessionFilter) -> list[Expr]:
        """WHERE terms for the filter (without scope and cursor)."""
        terms: list[Expr] = []
        text_columns = {
            "node": S.charge_box_id,
            "site": S.site_name,
            "email": S.user_email,
            "id_tag": S.id_tag,
        }
        for key, needle in flt.text.items():
            if key == "station":
                # the station is known by its name and by its identity (``?station=CBID``)
                terms.append(S.station_name.contains(needle) | S.charge_box_id.contains(needle))
            else:
                terms.append(text_columns[key].contains(needle))
        if "auth" not in flt.exact and "id" not in flt.exact:
            terms.append(COUNTED)  # refused starts only when asked for (or by their id)
        for key, value in flt.exact.items():
            if key == "auth":
                terms.append(S.authentication == _AUTH_VALUES[value])
            elif key == "state":
                terms.append(self.running if value == "running" else S.end_time.is_null(False))
            elif key == "outlet":
                terms.append(S.connector_id == value)
            elif key == "id":
                terms.append(S.id == value)
        for key, (low, high) in flt.ranges.items():
            expr, scale = self._range_expr(key)
            time_like = COLUMNS[key].kind == "time"
            if low is not None:
                terms.append(expr >= low * scale if scale != 1 else expr >= low)
            if high is not None:
                if time_like:
                    terms.append(expr < high)
                else:
                    terms.append(expr <= (high * scale if scale != 1 else high))
        return terms

    def _range_expr(self, key: str) -> tuple[Expr, float]:
        if key == "start":
            return S.start_time, 1
        if key == "end":
            return S.end_time, 1
        if key == "server_date":
            return S.server_date, 1
        if key == "duration":
            return self.duration_s, 1
        if key == "energy":
            return self.energy_wh, 1000.0
        if key == "meter":
            return self.meter_wh, 1000.0
        if key == "outlet":
            return S.connector_id, 1
        if key == "id":
            return S.id, 1
        raise KeyError(key)


def _base_query(
    flt: SessionFilter, viewer: Viewer, node: Node, ex: _Expressions
) -> peewee.ModelSelect:
    query = S.select(
        S.id,
        S.start_time,
        S.end_time,
        ex.duration_s.alias("duration_s"),
        S.charge_box_id,
        S.station_name,
        S.site_name,
        S.site,
        S.station,
        S.outlet,
        S.connector_id,
        ex.energy_wh.alias("live_energy_wh"),
        S.authentication,
        S.user_email,
        S.id_tag,
        S.server_date,
        ex.meter_wh.alias("meter_wh"),
        S.stop_reason,
        ex.sort_key(flt.sort).alias("sort_key"),
    ).where(session_scope(viewer, node))
    for term in ex.condition(flt):
        query = query.where(term)
    return query


def _ordered(query: peewee.ModelSelect, flt: SessionFilter, ex: _Expressions) -> peewee.ModelSelect:
    key = ex.sort_key(flt.sort)
    if flt.after is not None:
        value, last_id = flt.after
        if flt.sort == "id":
            query = query.where(S.id < last_id if flt.descending else S.id > last_id)
        elif flt.descending:
            # the first term is a plain range the index can seek to
            query = query.where((key <= value) & ((key < value) | (S.id < last_id)))
        else:
            query = query.where((key >= value) & ((key > value) | (S.id > last_id)))
    if flt.descending:
        return query.order_by(key.desc(), S.id.desc())
    return query.order_by(key.asc(), S.id.asc())


def _as_time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _row(raw: dict[str, Any]) -> dict[str, Any]:
    """A row keyed by column key, values in display units (kWh, seconds)."""
    running = raw["end_time"] is None
    duration = float(raw["duration_s"]) if raw["duration_s"] is not None else None
    return {
        "id": raw["id"],
        "start": _as_time(raw["start_time"]),
        "duration": duration,
        "duration_text": format_duration(duration),
        "end": _as_time(raw["end_time"]),
        "node": raw["charge_box_id"],
        "site": raw["site_name"],
        "site_id": raw["site"],
        "station_id": raw["station"],
        "outlet_id": raw["outlet"],
        "energy": int(raw["live_energy_wh"] or 0) / 1000.0,
        "station": raw["station_name"] or raw["charge_box_id"],
        "outlet": raw["connector_id"],
        "auth": _AUTH_TEXT.get(raw["authentication"], "Anonymous"),
        "server_date": _as_time(raw["server_date"]),
        "email": raw["user_email"],
        "meter": int(raw["meter_wh"] or 0) / 1000.0,
        "id_tag": raw["id_tag"],
        "state": "running" if running else "finished",
        "running": running,
        "stop_reason": raw["stop_reason"],
        # closed by the central system: its StopTransaction never came (flagged in the table)
        "stale": raw["stop_reason"] == STALE_STOP_REASON,
    }


def _cursor_value(flt: SessionFilter, raw: dict[str, Any]) -> Any:
    value = raw["sort_key"]
    if COLUMNS[flt.sort].kind == "time":
        value = _as_time(value)
    elif isinstance(value, decimal.Decimal):
        value = float(value)  # PostgreSQL numeric
    return value


def page_sessions(
    flt: SessionFilter, viewer: Viewer, node: Node = SYSTEM, *, now: dt.datetime | None = None
) -> SessionPage:
    """One page of ``flt.limit`` rows after ``flt.after``, and the cursor of the next."""
    ex = _Expressions(now or utcnow())
    query = _ordered(_base_query(flt, viewer, node, ex), flt, ex).limit(flt.limit + 1)
    raws: list[dict[str, Any]] = list(query.dicts())  # type: ignore[arg-type]
    more = len(raws) > flt.limit
    raws = raws[: flt.limit]
    after = None
    if more and raws:
        after = (_cursor_value(flt, raws[-1]), raws[-1]["id"])
    return SessionPage(
        rows=[_row(r) for r in raws],
        next_cursor=None if after is None else encode_cursor(after),
        next_after=after,
    )


def iter_sessions(
    flt: SessionFilter,
    viewer: Viewer,
    node: Node = SYSTEM,
    *,
    chunk: int = 5000,
    now: dt.datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Every row the filter selects, in its order, fetched ``chunk`` rows at a time.

    Keyset chunks keep memory flat and never hold a cursor open between chunks.
    """
    now = now or utcnow()
    ex = _Expressions(now)
    current = replace(flt, after=flt.after, limit=chunk)
    while True:
        query = _ordered(_base_query(current, viewer, node, ex), current, ex).limit(chunk)
        raws: list[dict[str, Any]] = list(query.dicts())  # type: ignore[arg-type]
        for raw in raws:
            yield _row(raw)
        if len(raws) < chunk:
            return
        last = raws[-1]
        current = replace(current, after=(_cursor_value(current, last), last["id"]))


def count_sessions(
    flt: SessionFilter, viewer: Viewer, node: Node = SYSTEM, *, now: dt.datetime | None = None
) -> int:
    ex = _Expressions(now or utcnow())
    query = S.select(fn.COUNT(S.id)).where(session_scope(viewer, node))
    for term in ex.condition(flt):
        query = query.where(term)
    return int(query.scalar() or 0)


def session_detail(session_id: int, viewer: Viewer) -> dict[str, Any] | None:
    """All fields of one session, or None when it does not exist for this viewer."""
    ex = _Expressions(utcnow())
    flt = SessionFilter(exact={"id": session_id})
    raws: list[dict[str, Any]] = list(_base_query(flt, viewer, SYSTEM, ex).dicts())  # type: ignore[arg-type]
    if not raws:
        return None
    row = _row(raws[0])
    session = S.get_by_id(session_id)
    row.update(
        meter_start=session.meter_start / 1000.0,
        meter_stop=None if session.meter_stop is None else session.meter_stop / 1000.0,
        stop_id_tag=session.stop_id_tag,
        reservation_id=session.reservation_id,
        stopped_server_date=session.stopped_server_date,
    )
    return row


def session_meter_series(session_id: int, viewer: Viewer) -> list[dict[str, Any]] | None:
    """The session's sampled values over time (None when the session is not visible)."""
    if session_detail(session_id, viewer) is None:
        return None
    query = (
        MeterSample.select(
            MeterSample.timestamp,
            MeterSample.measurand,
            MeterSample.value,
            MeterSample.unit,
            MeterSample.phase,
            MeterSample.context,
        )
        .where(MeterSample.session == session_id)
        .order_by(MeterSample.timestamp, MeterSample.id)
        .dicts()
    )
    return list(query)


def session_messages(session_id: int, viewer: Viewer) -> list[dict[str, Any]] | None:
    """The session's OCPP messages in arrival order (None when not visible)."""
    if session_detail(session_id, viewer) is None:
        return None
    query = (
        OcppMessage.select(
            OcppMessage.received_at,
            OcppMessage.direction,
            OcppMessage.action,
            OcppMessage.unique_id,
            OcppMessage.payload,
        )
        .where(OcppMessage.session == session_id)
        .order_by(OcppMessage.received_at, OcppMessage.id)
        .dicts()
    )
    return list(query)
