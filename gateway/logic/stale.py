"""Idle connectors with a session still open: close it after a grace period, or at once
after a reboot (the station would have reported the transaction if it still ran)."""

from __future__ import annotations

import datetime as dt
import logging

import trio

from db.ocpp.stale_sessions import close_stale_sessions
from db.schema.models import utcnow
from gateway.logic.charging import sessions_closed
from gateway.logic.context import StationContext

__all__ = ["IDLE_STATUSES", "connector_status_seen", "resume_idle_watches", "station_booted"]

log = logging.getLogger(__name__)

#: Statuses in which a connector has no transaction (OCPP 1.6 §4.9).
IDLE_STATUSES = frozenset({"Available", "Preparing", "Faulted", "Unavailable"})


def station_booted(ctx: StationContext) -> None:
    """A BootNotification: every connector's next idle status closes its open session."""
    ctx.state.reported_since_boot = set()


async def connector_status_seen(ctx: StationContext, connector_id: int, status: str) -> None:
    """Called after a connector's StatusNotification is stored."""
    state = ctx.state
    connector = state.connector(connector_id)
    first_since_boot = state.reported_since_boot is not None and (
        connector_id not in state.reported_since_boot
    )
    if state.reported_since_boot is not None:
        state.reported_since_boot.add(connector_id)
    if status not in IDLE_STATUSES or connector.transaction_id is None:
        connector.idle_since = None
        return
    if first_since_boot or ctx.config.stale_session_grace <= 0:
        connector.idle_since = None
        await _close(ctx, connector_id, f"{status} after a reboot" if first_since_boot else status)
        return
    if connector.idle_since is not None:
        return  # already waiting (e.g. Preparing, then Available)
    connector.idle_since = trio.current_time()
    _watch(ctx, connector_id)


def resume_idle_watches(ctx: StationContext) -> None:
    """A new connection of a station: connectors idle with a session open while the
    last connection ended are watched again for the rest of their grace period."""
    for connector_id, connector in ctx.state.connectors.items():
        if connector.idle_since is not None and connector.transaction_id is not None:
            _watch(ctx, connector_id)


def _watch(ctx: StationContext, connector_id: int) -> None:
    """Close the connector's session once it has been idle for the grace period (unless
    it charges again, or the session ends, first). Runs beside the connection."""
    state = ctx.state
    connector = state.connector(connector_id)
    marker, transaction_id = connector.idle_since, connector.transaction_id
    assert marker is not None
    grace = ctx.config.stale_session_grace
    waited = trio.current_time() - marker
    idle_at = utcnow() - dt.timedelta(seconds=waited)

    async def close_if_still_idle() -> None:
        await trio.sleep(max(0.0, grace - waited))
        current = state.connectors.get(connector_id)
        if (
            current is None
            or current.idle_since != marker
            or current.transaction_id != transaction_id
        ):
            return
        current.idle_since = None
        try:
            await _close(ctx, connector_id, f"{current.status} for {grace:g} s", idle_at)
        except Exception:
            log.exception("%s: closing a stale session failed", ctx.charge_box_id)

    ctx.start_soon(close_if_still_idle)


async def _close(
    ctx: StationContext, connector_id: int, why: str, at: dt.datetime | None = None
) -> None:
    state = ctx.state
    now = utcnow()
    closed = await ctx.store.write(
        lambda: close_stale_sessions(
            state.station_id,
            ctx.charge_box_id,
            state.site_id,
            connector_id,
            at or now,
            f"connector {why}",
            now,
        )
    )
    sessions_closed(ctx, tuple(closed), f"connector {why}")
