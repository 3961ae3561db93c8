"""CSV text of export rows, built column by column from the driver's raw tuples.

``csv_lines(raws, columns, zone)`` gives the CSV lines (``\\r\\n`` after each) of a chunk of
raw rows (``session_export_rows.raw_chunks``), byte for byte what the ``csv`` module
writes from the typed export tuples (``row_converter``) with the formula guard. Instead
of a Python call per row or per cell, each column of the chunk is converted as a whole
(mostly by C-level ``map``), and a column whose values could need care (a formula
start, a comma, a quote, a line break, a value of an unexpected type, a time not as the
database stores it) is converted value by value the careful way. UTC times are cut from
the stored text; other zones add the offset looked up once per UTC hour to the text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import itemgetter, truediv
from typing import Any

from db.sessions.session_export_rows import (
    _AUTH,
    _AUTH_TEXT,
    _CBID,
    _CONNECTOR,
    _DURATION,
    _EMAIL,
    _END,
    _ENERGY,
    _ID,
    _METER,
    _SERVER,
    _SITE,
    _START,
    _STATION,
    _TAG,
    local_time_converter,
)
from db.sessions.session_filters import format_duration
from db.system.timezones import UTC_NAME

__all__ = ["FORMULA_START", "csv_lines", "csv_text", "energy_text"]

#: a text cell starting with one of these is a formula to a spreadsheet (CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: in a column's values joined by NUL (and one in front): anything that needs care
_SPECIAL = re.compile('[,"\r\n]|\x00[=+\\-@\t\r]')
_QUOTED = re.compile('[,"\r\n]')

Column = Sequence[Any]


def csv_text(value: Any, guard: bool = True) -> str:
    """One cell as the ``csv`` writer writes it: None empty, a formula-like text quoted
    with ``'`` (``guard``), quotes around a value with a comma, quote or line break."""
    if value is None:
        return ""
    if value.__class__ is str:
        text: str = value
        if guard and text.startswith(FORMULA_START):
            text = "'" + text
    else:
        text = str(value)
    if _QUOTED.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _text_column(values: Column, guard: bool = True) -> Column:
    """A column of text cells: as they are when none needs care, else value by value."""
    try:
        if not _SPECIAL.search("\x00" + "\x00".join(values)):
            return values
    except TypeError:  # None or another type among the values
        pass
    return [csv_text(v, guard) for v in values]


def _plain_column(values: Column) -> Column:
    """Integers (identities, outlet numbers): their digits."""
    if set(map(type, values)) == {int}:
        return list(map(str, values))
    return [csv_text(v, guard=False) for v in values]


def energy_text(wh: Any) -> str:
    """Wh (None: 0) as the kWh the export tuples hold, printed: ``12.3``, ``0.005``, ``0.0``."""
    return str(int(wh or 0) / 1000.0)


def _energy_column(values: Column) -> Column:
    if set(map(type, values)) == {int}:
        return list(map(repr, map(truediv, values, repeat(1000.0))))
    return list(map(energy_text, values))


def _duration_column(values: Column) -> Column:
    return [
        f"{(s := int(d)) // 3600}hrs {s % 3600 // 60}min {s % 60}sec"
        if d.__class__ is float and d >= 0
        else format_duration(None if d is None else float(d))
        for d in values
    ]


class _LocalHours(dict[str, str | None]):
    """``'YYYY-MM-DD HH'`` (UTC) -> the same hour's text on the zone's wall clock, when the
    zone's offset is a whole number of hours all through that hour; else None."""

    def __init__(self, to_local: Callable[[Any], dt.datetime | None]) -> None:
        super().__init__()
        self.to_local = to_local

    def __missing__(self, key: str) -> str | None:
        if len(self) > 100_000:
            self.clear()  # memory stays flat, whatever the span
        found = None
        try:
            start = dt.datetime.fromisoformat(key + ":00:00")
            end = start + dt.timedelta(minutes=59, seconds=59, microseconds=999999)
            first, last = self.to_local(start), self.to_local(end)
            if first is not None and last is not None:
                offset = first - start
                if offset == last - end and offset % dt.timedelta(hours=1) == dt.timedelta(0):
                    found = first.isoformat(" ")[:13]
        except (ValueError, OverflowError):
            pass
        self[key] = found
        return found


def _time_function(zone: str | None) -> Callable[[Column], Column]:
    """A column of database times (UTC) -> ``yyyy-mm-dd hh:mm:ss.s`` on ``zone``'s wall clock."""
    to_local = local_time_converter(zone)

    def careful(value: Any) -> Any:
        local = to_local(value)
        if local is None:
            return ""
        return local.isoformat(" ", "milliseconds")[:-2]

    if not zone or zone == UTC_NAME:

        def utc(values: Column) -> Column:
            return [
                x[:21]
                if x.__class__ is str and len(x) == 26 and x[10] == " " and x[19] == "."
                else x + ".0"
                if x.__class__ is str and len(x) == 19 and x[10] == " "
                else careful(x)
                for x in values
            ]

        return utc
    hours = _LocalHours(to_local)

    def local(values: Column) -> Column:
        return [
            h + x[13:21]
            if x.__class__ is str
            and len(x) == 26
            and x[10] == " "
            and x[19] == "."
            and (h := hours[x[:13]])
            else h + x[13:] + ".0"
            if x.__class__ is str and len(x) == 19 and x[10] == " " and (h := hours[x[:13]])
            else careful(x)
            for x in values
        ]

    return local


def _converter(
    columns: Sequence[str], zone: str | None
) -> Callable[[Sequence[tuple[Any, ...]]], list[Column]]:
    """A chunk of raw rows -> one list of cells per column."""
    time = _time_function(zone)
    auth = _AuthText(_AUTH_TEXT)

    def station(c: dict[int, Column]) -> Column:
        return [s or b for s, b in zip(c[_STATION], c[_CBID], strict=True)]

    by_key: dict[str, Callable[[dict[int, Column]], Column]] = {
        "start": lambda c: time(c[_START]),
        "duration": lambda c: _duration_column(c[_DURATION]),
        "end": lambda c: time(c[_END]),
        "node": lambda c: _text_column(c[_CBID]),
        "site": lambda c: _text_column(c[_SITE]),
        "energy": lambda c: _energy_column(c[_ENERGY]),
        "station": lambda c: _text_column(station(c)),
        "outlet": lambda c: _plain_column(c[_CONNECTOR]),
        "auth": lambda c: list(map(auth.__getitem__, c[_AUTH])),
        "id": lambda c: _plain_column(c[_ID]),
        "server_date": lambda c: time(c[_SERVER]),
        "email": lambda c: _text_column(c[_EMAIL]),
        "meter": lambda c: _energy_column(c[_METER]),
        "id_tag": lambda c: _text_column(c[_TAG]),
        "state": lambda c: ["running" if e is None else "finished" for e in c[_END]],
    }
    needed = {
        "start": [_START],
        "duration": [_DURATION],
        "end": [_END],
        "node": [_CBID],
        "site": [_SITE],
        "energy": [_ENERGY],
        "station": [_STATION, _CBID],
        "outlet": [_CONNECTOR],
        "auth": [_AUTH],
        "id": [_ID],
        "server_date": [_SERVER],
        "email": [_EMAIL],
        "meter": [_METER],
        "id_tag": [_TAG],
        "state": [_END],
    }
    getters = {i: itemgetter(i) for key in columns for i in needed[key]}
    parts = [by_key[key] for key in columns]

    def convert(raws: Sequence[tuple[Any, ...]]) -> list[Column]:
        # the raw positions these columns read, each as a list (C-level, no call per row)
        picked: dict[int, Column] = {i: list(map(get, raws)) for i, get in getters.items()}
        return [part(picked) for part in parts]

    return convert


class _AuthText(dict[Any, str]):
    def __missing__(self, key: Any) -> str:
        return "Anonymous"


def csv_lines(
    chunks: Iterable[Sequence[tuple[Any, ...]]], columns: Sequence[str], zone: str | None
) -> Iterable[str]:
    """The CSV text of each chunk of raw rows (each line ends with ``\\r\\n``)."""
    if len(columns) < 2:
        raise ValueError("csv_lines needs two columns or more")  # the csv writer's corner cases
    convert = _converter(columns, zone)
    for raws in chunks:
        if not raws:
            continue
        cells = convert(raws)
        yield "\r\n".join(map(",".join, zip(*cells, strict=True))) + "\r\n"
