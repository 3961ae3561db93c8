"""Local time on every page: one display zone per request, formatting, parsing of time inputs.

The rule (also in portal/README.md): times are stored in UTC; a page shows them in the
*display zone* = the user's own zone (User settings) if set, else the system zone
(Configuration → System → General, default the server's zone, else UTC). One zone per
request, whatever Navigator node is selected. Schedules are the exception: their weekly
periods are wall-clock times of the site the station belongs to (the site's zone, else
the system zone), because that is the clock the chargers follow. JSON keeps UTC (``Z``).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from markupsafe import Markup, escape
from quart import Quart, current_app, g

from db.system.settings import get_setting
from db.system.timezones import (
    UTC_NAME,
    check_zone,
    known_zones,
    local_to_utc,
    parse_iso,
    utc_to_local,
)

__all__ = [
    "display_zone",
    "forget_system_zone",
    "format_time",
    "init_app",
    "input_value",
    "parse_local",
    "system_zone",
    "to_local",
]

#: seconds a read of the system zone setting is reused (``forget_system_zone`` on change)
SYSTEM_ZONE_TTL = 10.0
_CACHE_KEY = "chargeportal_system_zone"

#: ``precision`` -> strftime; "tenth" is SPEC §6's ``yyyy-mm-dd hh:mm:ss.s``
_FORMATS = {
    "seconds": "%Y-%m-%d %H:%M:%S",
    "minutes": "%Y-%m-%d %H:%M",
    "date": "%Y-%m-%d",
    "time": "%H:%M",
}


def display_zone() -> str:
    """The zone this request shows times in (UTC outside a request or before loading)."""
    return str(g.get("display_zone") or UTC_NAME) if g else UTC_NAME


def system_zone() -> str:
    return str(g.get("system_zone") or UTC_NAME) if g else UTC_NAME


def to_local(value: Any, zone: str | None = None) -> Any:
    """Naive UTC datetime -> naive wall-clock time in ``zone`` (default: display zone);
    anything else is returned as it is."""
    if not isinstance(value, dt.datetime):
        return value
    return utc_to_local(value, zone or display_zone())


def format_time(value: Any, precision: str = "tenth", zone: str | None = None) -> str:
    """``yyyy-mm-dd hh:mm:ss.s`` (SPEC §6) in the display zone; "" for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return str(value)
    local = to_local(value, zone)
    if precision == "tenth":
        return local.strftime("%Y-%m-%d %H:%M:%S.") + str(local.microsecond // 100_000)
    return str(local.strftime(_FORMATS[precision]))


def input_value(value: Any, zone: str | None = None) -> str:
    """A naive UTC time (or ISO text with ``Z``) as a ``datetime-local`` input's value in
    the display zone."""
    if isinstance(value, str) and value:
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return ""
    if not isinstance(value, dt.datetime):
        return ""
    return str(to_local(value, zone).replace(microsecond=0).isoformat(timespec="seconds"))


def parse_local(text: str, zone: str | None = None) -> dt.datetime:
    """``2026-03-29 02:30[:00]`` or ``…T…`` in ``zone`` (default: display zone) -> naive UTC.
    A trailing ``Z`` or offset (``+02:00``) wins over the zone. Raises ``ValueError``."""
    return local_to_utc(parse_iso(text), zone or display_zone())


def _time_tag(value: Any, precision: str = "tenth") -> Markup:
    """``<time datetime="…Z">local text</time>``: machines get UTC, people the local time."""
    if not isinstance(value, dt.datetime):
        return Markup("")
    stamp = value.replace(microsecond=0).isoformat() + "Z"
    return Markup('<time datetime="{}">{}</time>').format(stamp, format_time(value, precision))


def _zone_note(prefix: str = "times in") -> Markup:
    return Markup('<span class="tz-note" data-testid="tz-note">{} {}</span>').format(
        prefix, display_zone()
    )


def _zone_datalist() -> Markup:
    options = "".join(f'<option value="{escape(name)}">' for name in known_zones())
    return Markup(f'<datalist id="tz-names">{options}</datalist>')


def forget_system_zone(app: Quart | None = None) -> None:
    """Read the system zone setting again on the next request (after it was changed)."""
    (app or current_app).extensions.pop(_CACHE_KEY, None)


def _usable(name: str | None, fallback: str = UTC_NAME) -> str:
    """``name`` if this server knows it (a zone stored earlier may be gone from tzdata),
    else ``fallback``: a bad setting must not take every page down."""
    try:
        return check_zone(name) if name else fallback
    except ValueError:
        return fallback


async def load_zone() -> None:
    """Before each request: ``g.system_zone`` and ``g.display_zone`` (user's zone or system's)."""
    from portal.access import current_principal
    from portal.context import get_store

    cached = current_app.extensions.get(_CACHE_KEY)
    now = time.monotonic()
    if cached is None or now - cached[0] > SYSTEM_ZONE_TTL:
        name = await get_store().read(get_setting, "system.time_zone")
        cached = (now, _usable(name))
        current_app.extensions[_CACHE_KEY] = cached
    g.system_zone = cached[1]
    principal = current_principal()
    g.display_zone = _usable(getattr(principal, "time_zone", ""), g.system_zone)


def init_app(app: Quart) -> None:
    """Register the request hook, the Jinja filters and globals."""
    app.before_request(load_zone)
    app.jinja_env.filters["localtime"] = format_time
    app.jinja_env.filters["localinput"] = input_value
    app.jinja_env.filters["timetag"] = _time_tag
    app.jinja_env.globals["display_zone"] = display_zone
    app.jinja_env.globals["system_zone"] = system_zone
    app.jinja_env.globals["zone_note"] = _zone_note
    app.jinja_env.globals["zone_datalist"] = _zone_datalist
