"""Time zones: IANA names checked with ``zoneinfo``, UTC <-> local, and folding UTC slots into
local buckets (DST-correct diagrams while the database still does the aggregating).

Times are stored as naive UTC. A chart bucketed by *local* day cannot be grouped in SQL by a
fixed offset (a day in March has 23 hours in Stockholm), so the database groups by UTC slot
(``Dialect.epoch_slot``: an hour, or 15 minutes for zones with half-hour offsets) and
``fold_slots`` adds those few thousand rows up into local days, weeks, months, hours, weekdays.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = [
    "UTC_NAME",
    "check_zone",
    "fold_slots",
    "iso_utc",
    "known_zones",
    "local_day_start",
    "local_key",
    "local_to_utc",
    "parse_iso",
    "server_zone_name",
    "slot_seconds",
    "utc_to_local",
    "zone",
]

UTC_NAME = "UTC"
_UTC_ALIASES = {
    "UTC",
    "Etc/UTC",
    "Etc/UCT",
    "Etc/Universal",
    "Etc/Zulu",
    "UCT",
    "Universal",
    "Zulu",
}


@lru_cache(maxsize=64)
def zone(name: str | None) -> ZoneInfo:
    """The ``ZoneInfo`` of an IANA name (None or empty: UTC)."""
    return ZoneInfo(name or UTC_NAME)


def check_zone(name: str) -> str:
    """``name`` stripped if it is an IANA time zone, else ``ValueError`` with a readable message."""
    name = (name or "").strip()
    if not name:
        raise ValueError("Choose a time zone, e.g. Europe/Stockholm.")
    if name in _UTC_ALIASES:
        return UTC_NAME
    if name.startswith(("/", ".")) or ".." in name or name not in _known_zones():
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Stockholm, UTC).")
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not an IANA time zone (e.g. Europe/Stockholm, UTC)."
        ) from None
    return name


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_zones() -> list[str]:
    """Every IANA zone name, sorted (for a datalist)."""
    return sorted(_known_zones())


def server_zone_name() -> str:
    """The default system zone: ``CHARGEPORTAL_TIME_ZONE`` if set, else the server's own
    zone if it has an IANA name (``TZ``, ``/etc/timezone``, ``/etc/localtime``'s link),
    else UTC."""
    candidates = [
        os.environ.get("CHARGEPORTAL_TIME_ZONE", ""),
        os.environ.get("TZ", "").lstrip(":"),
    ]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        try:
            return check_zone(name)
        except ValueError:
            continue
    return UTC_NAME


def utc_to_local(value: dt.datetime, name: str | None) -> dt.datetime:
    """Naive UTC -> naive wall-clock time in zone ``name``."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if not name or name == UTC_NAME:
        return value
    return value.replace(tzinfo=dt.UTC).astimezone(zone(name)).replace(tzinfo=None)


def local_to_utc(value: dt.datetime, name: str | None) -> dt.datetime:
    """A wall-clock time in zone ``name`` (or an aware time) -> naive UTC.

    A time that does not exist (the hour skipped when clocks go forward) is read with the
    offset before the change, so 02:30 on 2026-03-29 in Stockholm is 01:30 UTC; a time that
    occurs twice (the hour repeated in autumn) is its first occurrence.
    """
    if value.tzinfo is None:
        if not name or name == UTC_NAME:
            return value
        value = value.replace(tzinfo=zone(name), fold=0)
    return value.astimezone(dt.UTC).replace(tzinfo=None)


#: "…T03:00 02:00": a "+" offset whose "+" a query string turned into a space
_SPACED_OFFSET = re.compile(r"^(.+\d)\s(\d{2}:?\d{2})$")


def parse_iso(text: str) -> dt.datetime:
    """An ISO 8601 date-time: naive, with ``Z`` or with an offset (also ``+02:00`` whose
    ``+`` arrived as a space from an unencoded URL). Raises ``ValueError``."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    spaced = _SPACED_OFFSET.match(text)
    if spaced and ("T" in spaced.group(1) or spaced.group(1).count(" ") == 1):
        text = f"{spaced.group(1)}+{spaced.group(2)}"
    return dt.datetime.fromisoformat(text)


def iso_utc(value: Any) -> Any:
    """JSON form of a stored time: ISO 8601 UTC with ``Z`` (``2026-03-29T01:30:00Z``);
    dates as ``YYYY-MM-DD``; None and other values as they are."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def local_day_start(day: dt.date, name: str | None) -> dt.datetime:
    """Naive UTC of local midnight starting ``day``."""
    return local_to_utc(dt.datetime.combine(day, dt.time()), name)


def slot_seconds(name: str | None, start: dt.datetime, end: dt.datetime) -> int:
    """The UTC slot the database groups by so that local buckets fold exactly: an hour,
    or 15 minutes when the zone's offset in ``[start, end]`` is not whole hours."""
    if not name or name == UTC_NAME:
        return 3600
    tz = zone(name)
    probes = [start, end] + [
        dt.datetime(year, month, 1) for year in range(start.year, end.year + 1) for month in (1, 7)
    ]
    for moment in probes:
        offset = moment.replace(tzinfo=dt.UTC).astimezone(tz).utcoffset()
        if offset is not None and offset.total_seconds() % 3600:
            return 900
    return 3600


def local_key(unit: str) -> Callable[[dt.datetime], Any]:
    """Bucket key of a naive local time: ``day``/``week`` (its Monday)/``month`` as text
    (as ``db.engine.dialect`` spells them), ``hour`` 0..23, ``weekday`` 1 (Monday)..7."""
    if unit == "day":
        return lambda t: t.date().isoformat()
    if unit == "week":
        return lambda t: (t.date() - dt.timedelta(days=t.weekday())).isoformat()
    if unit == "month":
        return lambda t: f"{t.year:04d}-{t.month:02d}"
    if unit == "hour":
        return lambda t: t.hour
    if unit == "weekday":
        return lambda t: t.isoweekday()
    raise ValueError(f"unknown bucket unit {unit!r}")


def fold_slots(
    rows: Iterable[tuple[Any, ...]],
    name: str | None,
    unit: str,
    seconds: int,
    *,
    combine: tuple[str, ...] = ("sum",),
) -> dict[Any, list[Any]]:
    """Fold ``(slot, v1, v2, …)`` rows (slot = UTC epoch // ``seconds``) into local buckets:
    ``{key: [v1, v2, …]}`` where each value is combined by ``"sum"`` or ``"max"``."""
    key_of = local_key(unit)
    tz = zone(name)
    out: dict[Any, list[Any]] = {}
    for slot, *values in rows:
        moment = dt.datetime.fromtimestamp(int(slot) * seconds, tz).replace(tzinfo=None)
        key = key_of(moment)
        current = out.get(key)
        if current is None:
            out[key] = list(values)
            continue
        for index, (how, value) in enumerate(zip(combine, values, strict=True)):
            if value is None:
                continue
            if current[index] is None:
                current[index] = value
            elif how == "max":
                current[index] = max(current[index], value)
            else:
                current[index] += value
    return out
