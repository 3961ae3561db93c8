"""A station's live state as the portal reads it: typed, frozen copies (no shared state)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.ocpp16.convert import format_datetime

__all__ = ["ConnectorSnapshot", "StationSnapshot"]


def _iso(value: dt.datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class ConnectorSnapshot:
    """One connector (outlet): status, error, the running transaction and its meter."""

    status: str
    error_code: str
    transaction_id: int | None
    meter_wh: int | None
    power_w: float | None
    energy_wh: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "errorCode": self.error_code,
            "transactionId": self.transaction_id,
            "meterWh": self.meter_wh,
            "powerW": self.power_w,
            "energyWh": self.energy_wh,
        }


@dataclass(frozen=True, slots=True)
class StationSnapshot:
    """Everything the gateway knows about a station at run time, at one moment."""

    charge_box_id: str
    station_id: int
    site_id: int | None
    online: bool
    status: str  # connector 0: the whole station
    error_code: str
    connectors: Mapping[int, ConnectorSnapshot]
    last_seen: dt.datetime | None
    connected_at: dt.datetime | None
    disconnected_at: dt.datetime | None
    booted_at: dt.datetime | None
    boot: Mapping[str, str] | None
    no_network_alarm: bool
    remote: str

    def connector(self, connector_id: int) -> ConnectorSnapshot | None:
        return self.connectors.get(connector_id)

    def as_json(self) -> dict[str, Any]:
        """The JSON form (times ISO 8601 UTC, connectors keyed by their number as text)."""
        return {
            "chargeBoxId": self.charge_box_id,
            "stationId": self.station_id,
            "siteId": self.site_id,
            "online": self.online,
            "status": self.status,
            "errorCode": self.error_code,
            "connectors": {str(cid): c.as_json() for cid, c in sorted(self.connectors.items())},
            "lastSeen": _iso(self.last_seen),
            "connectedAt": _iso(self.connected_at),
            "disconnectedAt": _iso(self.disconnected_at),
            "bootedAt": _iso(self.booted_at),
            "boot": dict(self.boot) if self.boot else None,
            "noNetworkAlarm": self.no_network_alarm,
            "remote": self.remote,
        }
