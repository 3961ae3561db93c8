"""The sessions table's columns and its filter/sort/cursor, parsed from and written to URL params.

A ``SessionFilter`` is plain data: the Statistics page, the JSON API and the exports
all build one from query parameters (``SessionFilter.from_params``) so that a shared
URL selects the same rows everywhere.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from db.timezones import local_to_utc, parse_iso

__all__ = [
    "COLUMNS",
    "DEFAULT_COLUMNS",
    "Column",
    "FilterError",
    "SessionFilter",
    "format_duration",
    "parse_duration",
]


class FilterError(ValueError):
    """A filter, sort or cursor parameter cannot be understood (HTTP 400)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True)
class Column:
    """One column of the sessions table (SPEC §6).

    ``kind`` decides the filter: ``text`` → contains; ``time`` → ``_from``/``_to``;
    ``number``/``duration`` → ``_min``/``_max``; ``int`` → exact and ``_min``/``_max``;
    ``choice`` → one of ``choices``.
    """

    key: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("start", "Start session", "time"),
        Column("duration", "Duration", "duration"),
        Column("end", "End session", "time"),
        Column("node", "Node identity", "text"),
        Column("site", "Site", "text"),
        Column("energy", "Energy (kWh)", "number"),
        Column("station", "Station", "text"),
        Column("outlet", "Outlet", "int"),
        Column("auth", "Authentication", "choice", ("anonymous", "rfid", "refused")),
        Column("id", "Session", "int"),
        Column("server_date", "Server date", "time"),
        Column("email", "E-mail", "text"),
        Column("meter", "Meter value (kWh)", "number"),
        Column("id_tag", "RFID / id tag", "text"),
        Column("state", "State", "choice", ("running", "finished")),
    )
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


def format_duration(seconds: float | None) -> str:
    """``Xhrs Ymin Zsec`` as in SPEC §6 (``1hrs 33min 1sec``)."""
    if seconds is None:
        return ""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}hrs {minutes}min {secs}sec"


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


@dataclass(frozen=True)
class SessionFilter:
    """What rows to show, in which order, from where on.

    ``text`` maps a text column to a substring; ``ranges`` maps a column to
    ``(low, high)`` (inclusive low, exclusive high for times, inclusive for numbers;
    ``None`` = open); ``exact`` maps ``outlet``/``id``/``auth``/``state`` to a value.
    """

    text: Mapping[str, str] = field(default_factory=dict)
    ranges: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    exact: Mapping[str, Any] = field(default_factory=dict)
    sort: str = "start"
    descending: bool = True
    after: tuple[Any, int] | None = None  # keyset cursor: (sort value, session id)
    limit: int = 50

    # --- URL form ------------------------------------------------------------------

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, zone: str | None = None) -> SessionFilter:
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
        result = cls(text=text, ranges={k: (v[0], v[1]) for k, v in ranges.items()}, exact=exact)
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

    def to_params(self, *, with_cursor: bool = False) -> dict[str, str]:
        """The query parameters that select this filter (for links and exports)."""
        out: dict[str, str] = {}
        for key, value in self.text.items():
            out[key] = value
        for key, value in self.exact.items():
            out[key] = str(value)
        for key, (low, high) in self.ranges.items():
            time_like = COLUMNS[key].kind == "time"
            names = ("_from", "_to") if time_like else ("_min", "_max")
            for name, value in zip(names, (low, high), strict=True):
                if value is not None:
                    out[key + name] = _format_value(value)
        out["sort"] = ("-" if self.descending else "") + self.sort
        if self.limit != 50:
            out["limit"] = str(self.limit)
        if with_cursor and self.after is not None:
            out["after"] = encode_cursor(self.after)
        return out

    def without_cursor(self) -> SessionFilter:
        return replace(self, after=None)


#: The largest whole number SQLite stores: beyond it a filter matches nothing anyway,
#: and the driver raises OverflowError instead of saying so.
_MAX_INT = 2**63 - 1


def _parse_int(param: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FilterError(param, "a whole number") from None
    if abs(number) > _MAX_INT:
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


def encode_cursor(after: tuple[Any, int]) -> str:
    value, session_id = after
    if isinstance(value, dt.datetime):
        payload: list[Any] = ["t", value.isoformat(), session_id]
    else:
        payload = ["v", value, session_id]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, sort_key: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        kind, value, session_id = json.loads(raw)
        if kind == "t":
            value = dt.datetime.fromisoformat(value)
        elif not isinstance(value, (int, float, str)):
            raise ValueError(value)
        if COLUMNS[sort_key].kind == "time" and kind != "t":
            raise ValueError("cursor of another sort")
        if isinstance(value, int) and abs(value) > _MAX_INT:
            raise ValueError("out of range")
        return value, _parse_int("after", str(session_id))
    except (ValueError, TypeError, json.JSONDecodeError):
        raise FilterError("after", "not a cursor of this listing") from None
