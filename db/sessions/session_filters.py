"""The sessions table's columns (their kinds) and its filter, sort and keyset cursor.

A ``SessionFilter`` is plain data; the portal reads one from query parameters and
writes it back (``portal.session_params``), with the columns' labels.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "COLUMNS",
    "MAX_INT",
    "Column",
    "FilterError",
    "SessionFilter",
    "decode_cursor",
    "encode_cursor",
    "format_duration",
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
    kind: str
    choices: tuple[str, ...] = ()


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("start", "time"),
        Column("duration", "duration"),
        Column("end", "time"),
        Column("node", "text"),
        Column("site", "text"),
        Column("energy", "number"),
        Column("station", "text"),
        Column("outlet", "int"),
        Column("auth", "choice", ("anonymous", "rfid", "refused")),
        Column("id", "int"),
        Column("server_date", "time"),
        Column("email", "text"),
        Column("meter", "number"),
        Column("id_tag", "text"),
        Column("state", "choice", ("running", "finished")),
    )
}


def format_duration(seconds: float | None) -> str:
    """``Xhrs Ymin Zsec`` as in SPEC §6 (``1hrs 33min 1sec``)."""
    if seconds is None:
        return ""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}hrs {minutes}min {secs}sec"


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

    def without_cursor(self) -> SessionFilter:
        return replace(self, after=None)


#: The largest whole number SQLite stores: beyond it a filter matches nothing anyway,
#: and the driver raises OverflowError instead of saying so.
MAX_INT = 2**63 - 1


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
        if isinstance(value, int) and abs(value) > MAX_INT:
            raise ValueError("out of range")
        session = int(str(session_id))
        if abs(session) > MAX_INT:
            raise ValueError("out of range")
        return value, session
    except (ValueError, TypeError, json.JSONDecodeError):
        raise FilterError("after", "not a cursor of this listing") from None
