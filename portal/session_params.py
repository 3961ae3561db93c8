"""The sessions table as people and URLs see it: column labels, the default columns, and
a ``SessionFilter`` read from and written to query parameters.

The Statistics page, the JSON API and the exports all build their filter here
(``parse_filter``) so that a shared URL selects the same rows everywhere; the filter
itself and its columns' kinds are the database's (``db.sessions.session_filters``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from db.sessions.session_filters import (
    COLUMNS as COLUMN_KINDS,
)
from db.sessions.session_filters import (
    MAX_INT,
    FilterError,
    SessionFilter,
    decode_cursor,
    encode_cursor,
)
from db.system.timezones import local_to_utc, parse_iso

__all__ = [
    "COLUMNS",
    "DEFAULT_COLUMNS",
    "Column",
    "filter_params",
    "parse_duration",
    "parse_filter",
]

#: What each column is called on the page, in exports and in the API's column list.
LABELS: dict[str, str] = {
    "start": "Start session",
    "duration": "Duration",
    "end": "End session",
    "node": "Node identity",
    "site": "Site",
    "energy": "Energy (kWh)",
    "station": "Station",
    "outlet": "Outlet",
    "auth": "Authentication",
    "id": "Session",
    "server_date": "Server date",
    "email": "E-mail",
    "meter": "Meter value (kWh)",
    "id_tag": "RFID / id tag",
    "state": "State",
}


@dataclass(frozen=True)
class Column:
    """One column of the sessions table as shown (SPEC §6): its key, label and kind."""

    key: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()


COLUMNS: dict[str, Column] = {
    key: Column(key, LABELS[key], kind.kind, kind.choices) for key, kind in COLUMN_KINDS.items()
}

#: What the table shows before the user chooses columns (the SPEC §6 example order).
DEFAULT_COLUMNS: tuple[str, ...] = (
    "start",
    "duration",
    "end",
    "energy",
    "station",
    "node",
    "outlet",
    "site",
    "auth",
    "email",
    "id",
)

#: Short URL aliases, e.g. ``?station=CBID&from=…&to=…`` (issue 6).
_ALIASES = {"from": "start_from", "to": "start_to"}

_DURATION_RE = re.compile(
    r"^\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h(?:rs?|ours?)?)?\s*(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:in)?)?"
    r"\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s(?:ec)?)?\s*$"
)

MAX_LIMIT = 1000

#: ``auth=0|1|2`` as stored (``ChargingSession.authentication``) -> the choice's name.
AUTH_CHOICES = {"0": "anonymous", "1": "rfid", "2": "refused"}


def parse_duration(text: str) -> float:
    """Seconds from ``5400``, ``90m``, ``1h30m``, ``1hrs 30min 5sec``."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION_RE.match(text)
    if not text or match is None or not any(match.groupdict().values()):
        raise ValueError(f"not a duration: {text!r} (e.g. 5400, 90m, 1h30m)")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return parts["h"] * 3600 + parts["m"] * 60 + parts["s"]


def _parse_time(text: str, zone: str | None = None) -> dt.datetime:
    """Naive UTC from ``text``: a ``Z`` or offset says its zone, else it is a wall-clock
    time in ``zone`` (None: UTC, as the JSON API reads it)."""
    return local_to_utc(parse_iso(text), zone)


def parse_filter(params: Mapping[str, str], *, zone: str | None = None) -> SessionFilter:
    """Parse query parameters; raises ``FilterError`` naming the bad parameter. Times
    without ``Z`` or an offset are wall-clock times of ``zone`` (None: UTC)."""
    text: dict[str, str] = {}
    ranges: dict[str, list[Any]] = {}
    exact: dict[str, Any] = {}
    for raw_key, raw_value in params.items():
        key = _ALIASES.get(raw_key, raw_key)
        value = raw_value.strip() if isinstance(raw_value, str) else raw_value
        if value in ("", None) or key in ("sort", "after", "limit", "columns", "node_kind"):
            continue
        base, _, bound = key.rpartition("_")
        if bound in ("from", "to", "min", "max") and base in COLUMNS:
            column = COLUMNS[base]
            ranges.setdefault(base, [None, None])[0 if bound in ("from", "min") else 1] = (
                _parse_bound(key, column, bound, value, zone)
            )
        elif key in COLUMNS:
            column = COLUMNS[key]
            if column.kind == "text":
                text[key] = value
            elif column.kind == "choice":
                choice = AUTH_CHOICES.get(value, value).lower()
                if choice not in column.choices:
                    raise FilterError(key, f"one of {', '.join(column.choices)}")
                exact[key] = choice
            elif column.kind == "int":
                exact[key] = _parse_int(key, value)
            else:
                raise FilterError(key, f"use {key}_min / {key}_max or _from / _to")
    result = SessionFilter(
        text=text, ranges={k: (v[0], v[1]) for k, v in ranges.items()}, exact=exact
    )
    sort = params.get("sort") or "-start"
    descending = sort.startswith("-")
    sort_key = sort.lstrip("-+ ")
    if sort_key not in COLUMNS:
        raise FilterError("sort", f"unknown column {sort_key!r}")
    limit = _parse_int("limit", params.get("limit") or "50")
    if not 1 <= limit <= MAX_LIMIT:
        raise FilterError("limit", f"between 1 and {MAX_LIMIT}")
    result = replace(result, sort=sort_key, descending=descending, limit=limit)
    if params.get("after"):
        result = replace(result, after=decode_cursor(params["after"], sort_key))
    return result


def filter_params(flt: SessionFilter, *, with_cursor: bool = False) -> dict[str, str]:
    """The query parameters that select this filter (for links and exports)."""
    out: dict[str, str] = {}
    for key, value in flt.text.items():
        out[key] = value
    for key, value in flt.exact.items():
        out[key] = str(value)
    for key, (low, high) in flt.ranges.items():
        time_like = COLUMNS[key].kind == "time"
        names = ("_from", "_to") if time_like else ("_min", "_max")
        for name, value in zip(names, (low, high), strict=True):
            if value is not None:
                out[key + name] = _format_value(value)
    out["sort"] = ("-" if flt.descending else "") + flt.sort
    if flt.limit != 50:
        out["limit"] = str(flt.limit)
    if with_cursor and flt.after is not None:
        out["after"] = encode_cursor(flt.after)
    return out


def _parse_int(param: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FilterError(param, "a whole number") from None
    if abs(number) > MAX_INT:
        raise FilterError(param, "a whole number of at most 19 digits")
    return number


def _parse_bound(param: str, column: Column, bound: str, value: str, zone: str | None) -> Any:
    if column.kind == "time":
        if bound not in ("from", "to"):
            raise FilterError(param, f"use {column.key}_from / {column.key}_to")
        try:
            return _parse_time(value, zone)
        except ValueError:
            raise FilterError(param, "a time like 2026-03-20 15:38:36") from None
    if bound not in ("min", "max"):
        raise FilterError(param, f"use {column.key}_min / {column.key}_max")
    if column.kind == "duration":
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise FilterError(param, str(exc)) from None
    if column.kind in ("number", "int"):
        try:
            return float(value) if column.kind == "number" else _parse_int(param, value)
        except ValueError:
            raise FilterError(param, "a number") from None
    raise FilterError(param, "this column has no range filter")


def _format_value(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") + "Z"  # UTC, whatever zone reads it back
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
