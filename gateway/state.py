"""Run-time state of one station, owned by its actor; small, slotted objects."""

from __future__ import annotations

import datetime as dt

from gateway.snapshot import ConnectorSnapshot, StationSnapshot

__all__ = ["ConnectorState", "StationState"]


class ConnectorState:
    """Live view of one connector (outlet)."""

    __slots__ = (
        "error_code",
        "idle_since",
        "meter_event_at",
        "meter_start",
        "meter_wh",
        "power_w",
        "status",
        "transaction_id",
    )

    def __init__(self) -> None:
        self.status: str = "Unknown"
        self.error_code: str = "NoError"
        self.transaction_id: int | None = None
        self.meter_start: int | None = None
        self.meter_wh: int | None = None
        self.power_w: float | None = None
        self.meter_event_at = -1e9  # trio clock of the last session.meter event
        self.idle_since: float | None = None  # trio clock: idle status with a session open

    def snapshot(self) -> ConnectorSnapshot:
        energy = (
            self.meter_wh - self.meter_start
            if self.transaction_id is not None
            and self.meter_wh is not None
            and self.meter_start is not None
            else None
        )
        return ConnectorSnapshot(
            self.status, self.error_code, self.transaction_id, self.meter_wh, self.power_w, energy
        )


class StationState:
    """Everything the gateway knows about a station at run time.

    Survives reconnections (a new actor takes the state over); only the actor that
    currently owns the connection mutates it (``StationActor.connected`` and
    ``disconnected``, its loops and its handlers). The supervisor reads it and keeps its
    own flags (which stations have "No network", what it last flushed).
    """

    __slots__ = (
        "boot",
        "booted_at",
        "charge_box_id",
        "connected_at",
        "connectors",
        "disconnected_at",
        "error_code",
        "heartbeat_interval",
        "last_seen",
        "last_seen_mono",
        "offline_since_mono",
        "online",
        "outlets",
        "remote",
        "reported_since_boot",
        "site_id",
        "station_id",
        "status",
    )

    def __init__(self, charge_box_id: str, station_id: int, site_id: int | None) -> None:
        self.charge_box_id = charge_box_id
        self.station_id = station_id
        self.site_id = site_id
        self.online = False
        self.remote = ""
        self.connected_at: dt.datetime | None = None
        self.disconnected_at: dt.datetime | None = None
        self.last_seen: dt.datetime | None = None
        self.last_seen_mono = 0.0
        self.offline_since_mono: float | None = None
        self.heartbeat_interval: int | None = None  # the station's HeartbeatInterval key
        self.booted_at: dt.datetime | None = None
        self.boot: dict[str, str] | None = None
        # connectors that reported a status since the last BootNotification (None: no
        # boot on record): the first idle status after a reboot closes a stale session
        self.reported_since_boot: set[int] | None = None
        self.status = "Unknown"  # connector 0: the whole station
        self.error_code = "NoError"
        self.connectors: dict[int, ConnectorState] = {}
        self.outlets = 0  # highest configured outlet number; 0: none configured, not checked

    def connector(self, connector_id: int) -> ConnectorState:
        found = self.connectors.get(connector_id)
        if found is None:
            found = self.connectors[connector_id] = ConnectorState()
        return found

    def snapshot(self, *, no_network_alarm: bool = False) -> StationSnapshot:
        """A frozen, typed copy for the portal (the alarm flag is the supervisor's)."""
        return StationSnapshot(
            charge_box_id=self.charge_box_id,
            station_id=self.station_id,
            site_id=self.site_id,
            online=self.online,
            status=self.status,
            error_code=self.error_code,
            connectors={cid: c.snapshot() for cid, c in sorted(self.connectors.items())},
            last_seen=self.last_seen,
            connected_at=self.connected_at,
            disconnected_at=self.disconnected_at,
            booted_at=self.booted_at,
            boot=dict(self.boot) if self.boot else None,
            no_network_alarm=no_network_alarm,
            remote=self.remote,
        )
