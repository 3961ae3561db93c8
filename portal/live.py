"""Live station state: colours from the gateway's snapshot, and the one server-sent event
stream of the frame (colours, firmware/diagnostics progress, alarms)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import trio

from gateway.api import GatewayAPI
from gateway.events import next_batch

__all__ = [
    "BLACK",
    "BLUE",
    "GREY",
    "PROGRESS_KINDS",
    "RED",
    "connector_colour",
    "sse_station_stream",
    "station_colour",
    "station_state",
]

BLACK, BLUE, RED, GREY = "black", "blue", "red", "grey"
CHARGING_STATUSES = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})
FAULT_STATUSES = frozenset({"Faulted"})
LIVE_KINDS = frozenset(
    {
        "station.online",
        "station.offline",
        "station.replaced",
        "station.booted",
        "connector.status",
        "session.started",
        "session.stopped",
    }
)
#: Progress of long station work, shown live on the station's Control tab.
PROGRESS_KINDS = frozenset({"firmware.status", "diagnostics.status", "locallist.progress"})
#: What a local list download's progress carries besides its status (messages, badges).
PROGRESS_COUNTS = ("sent", "total", "part", "parts", "version")


def connector_colour(online: bool, connector: dict[str, Any] | None) -> str:
    """SPEC §4: black available/idle, blue charging, red fault, grey offline."""
    if not online:
        return GREY
    if not connector:
        return BLACK
    status = connector.get("status") or ""
    error = connector.get("errorCode") or "NoError"
    if status in FAULT_STATUSES or error != "NoError":
        return RED
    if status in CHARGING_STATUSES or connector.get("transactionId") is not None:
        return BLUE
    if status == "Unavailable":
        return GREY
    return BLACK


def station_colour(online: bool, connectors: dict[Any, dict[str, Any]]) -> str:
    """A station is red if any connector (0 = the whole station) faults, blue if any
    charges, black when online and idle, grey offline."""
    if not online:
        return GREY
    colours = {connector_colour(True, c) for c in connectors.values()}
    for colour in (RED, BLUE):
        if colour in colours:
            return colour
    return BLACK


def station_state(gateway: GatewayAPI | None, charge_box_id: str) -> dict[str, Any]:
    """``{"station", "online", "colour", "outlets": {connectorId: colour}}`` now."""
    snapshot = None
    if gateway is not None:
        try:
            snapshot = gateway.snapshot(charge_box_id)
        except Exception:  # a broken snapshot must not break a page
            snapshot = None
    online = snapshot is not None and snapshot.online
    connectors: dict[int, dict[str, Any]] = (
        {cid: c.as_json() for cid, c in snapshot.connectors.items()} if snapshot else {}
    )
    return {
        "station": charge_box_id,
        "online": online,
        "colour": station_colour(online, connectors),
        "outlets": {
            str(cid): connector_colour(online, c) for cid, c in connectors.items() if cid > 0
        },
    }


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def sse_station_stream(
    gateway: GatewayAPI,
    site_id: int | None,
    *,
    keepalive: float = 15.0,
    max_seconds: float = 3600.0,
    all_sites: bool,
    still_allowed: Callable[[], Awaitable[bool]] | None = None,
    recheck: float = 60.0,
) -> AsyncIterator[bytes]:
    """Server-sent events: one ``station`` event per change a viewer may see, a
    ``progress`` event per firmware/diagnostics status, an ``alarm`` event per alarm.

    ``all_sites`` (administrators, support) sees every station; otherwise only
    events whose ``site_id`` equals ``site_id``. A comment line every ``keepalive``
    seconds keeps proxies from closing the stream; after ``max_seconds`` the stream
    ends and the browser's EventSource reconnects (its login is checked again).
    ``still_allowed`` is asked at least every ``recheck`` seconds, and before anything is
    sent once that time has passed: when it says no (the account was deleted, demoted,
    logged out), the stream ends at once and nothing more is delivered.
    """
    yield b"retry: 2000\n\n"
    now = trio.current_time()
    deadline = now + max_seconds
    next_check = now + recheck if still_allowed is not None else math.inf
    async with gateway.events.subscribe() as events:
        while True:
            now = trio.current_time()
            if now >= next_check:
                assert still_allowed is not None
                if not await still_allowed():
                    return
                now = trio.current_time()
                next_check = now + recheck
            left = deadline - now
            if left <= 0:
                return
            batch = None
            wait = min(keepalive if keepalive > 0 else math.inf, left, next_check - now)
            with trio.move_on_after(wait):
                try:
                    batch = await next_batch(events)  # all that queued: one chunk
                except (trio.EndOfChannel, trio.ClosedResourceError):
                    return
            if batch is None:
                now = trio.current_time()
                if now < next_check and deadline - now > 0:
                    yield b": keepalive\n\n"
                continue
            if trio.current_time() >= next_check:
                assert still_allowed is not None
                if not await still_allowed():
                    return
                next_check = trio.current_time() + recheck
            chunk = _render_batch(gateway, batch, site_id, all_sites=all_sites)
            if chunk:
                yield chunk


def _render_batch(
    gateway: GatewayAPI | None, batch: list[Any], site_id: int | None, *, all_sites: bool
) -> bytes:
    """The SSE text for a batch of events; one ``station`` event per station (its latest
    state is read once, so several changes of one station collapse into one)."""
    out: list[bytes] = []
    stations: dict[str, dict[str, Any]] = {}
    for event in batch:
        if event.kind.startswith("alarm."):
            if all_sites or event.site_id == site_id:
                out.append(_sse("alarm", {"station": event.charge_box_id, "kind": event.kind}))
            continue
        if not all_sites and event.site_id != site_id:
            continue
        if event.kind in PROGRESS_KINDS:
            progress = {
                "station": event.charge_box_id,
                "kind": event.kind.split(".")[0],
                "status": event.data.get("status"),
            }
            progress.update({k: event.data[k] for k in PROGRESS_COUNTS if k in event.data})
            out.append(_sse("progress", progress))
        elif event.kind in LIVE_KINDS:
            state = stations.get(event.charge_box_id)
            if state is None:
                state = stations[event.charge_box_id] = station_state(gateway, event.charge_box_id)
            if event.kind == "station.booted" and event.data.get("firmwareVersion"):
                state["firmwareVersion"] = event.data["firmwareVersion"]
    out.extend(_sse("station", state) for state in stations.values())
    return b"".join(out)
