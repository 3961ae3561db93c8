"""Firmware update, diagnostics upload and TriggerMessage senders of a simulated station."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import trio

from simulator.errors import CallErrorReceived, CallTimeoutError, StationOfflineError
from simulator.transfer import TransferError, download, upload

if TYPE_CHECKING:
    from simulator.station import SimulatedStation

__all__ = [
    "TRIGGERS",
    "diagnostics_file_name",
    "firmware_version_of",
    "update_firmware",
    "upload_diagnostics",
]

_SKIP = (StationOfflineError, CallTimeoutError, CallErrorReceived)


async def _notify(station: SimulatedStation, action: str, status: str) -> None:
    station.changed()
    try:
        await station.call(action, {"status": status})
    except _SKIP:
        pass


async def send_firmware_status(station: SimulatedStation, status: str) -> None:
    station.firmware_status = status
    await _notify(station, "FirmwareStatusNotification", status)


def firmware_version_of(url: str, image: bytes) -> str:
    """The version an image installs: a ``VERSION=x`` first line, else the file name stem."""
    first = image[:200].split(b"\n", 1)[0].strip()
    if first.startswith(b"VERSION="):
        return first[8:].decode("ascii", "replace")[:50]
    stem = posixpath.basename(urlsplit(url).path).rsplit(".", 1)[0]
    return (stem or "unknown")[:50]


async def update_firmware(
    station: SimulatedStation,
    location: str,
    retrieve_at: datetime | None,
    retries: int,
    retry_interval: int,
) -> None:
    """Download at ``retrieve_at``, then Downloaded, Installing, reboot; Installed after boot."""
    if retrieve_at is not None:
        wait = (retrieve_at - station.now()).total_seconds()
        if wait > 0:
            await trio.sleep(wait)
    await send_firmware_status(station, "Downloading")
    image = None
    for attempt in range(max(1, retries + 1)):
        try:
            if station.faults.download_fails:
                raise TransferError("download failure injected")
            image = await download(location)
            break
        except TransferError:
            if attempt < retries:
                await trio.sleep(retry_interval)
    if image is None:
        await send_firmware_status(station, "DownloadFailed")
        station.firmware_status = "Idle"
        station.changed()
        return
    await send_firmware_status(station, "Downloaded")
    await station.wait_for(lambda: not any(o.transaction for o in station.outlets))
    await send_firmware_status(station, "Installing")
    if station.faults.install_fails:
        await send_firmware_status(station, "InstallationFailed")
        station.firmware_status = "Idle"
        station.changed()
        return
    version = firmware_version_of(location, image)
    station.config.set("FirmwareVersion", version)
    station.firmware_status = "Installing"  # Installed is sent after the reboot's boot
    station.changed()
    station.request_reboot("Hard")


def diagnostics_file_name(station: SimulatedStation) -> str:
    return f"{station.charge_box_id}-diagnostics-{station.now():%Y%m%d%H%M%S}.log"


def diagnostics_log(station: SimulatedStation) -> bytes:
    """A plausible log: statistics, configuration and the latest frames."""
    lines = [f"# diagnostics of {station.charge_box_id} at {station.timestamp()}"]
    lines.append(json.dumps(station.statistics(), default=str))
    for entry in station.config.report()["configurationKey"]:
        lines.append(f"config {entry['key']}={entry['value']}")
    for direction, frame in station.frames:
        lines.append(f"{direction} {frame}")
    return ("\n".join(lines) + "\n").encode()


async def upload_with_retries(
    station: SimulatedStation, location: str, name: str, data: bytes, retries: int, interval: float
) -> bool:
    """Upload ``data``, tried ``retries`` more times ``interval`` s apart; True when done
    (an injected upload fault fails every try)."""
    for attempt in range(max(1, retries + 1)):
        try:
            if station.faults.upload_fails:
                raise TransferError("upload failure injected")
            await upload(location, name, data)
        except TransferError:
            if attempt < retries:
                await trio.sleep(interval)
            continue
        return True
    return False


async def upload_diagnostics(
    station: SimulatedStation, location: str, name: str, retries: int, retry_interval: int
) -> None:
    """Upload the log with Uploading then Uploaded / UploadFailed notifications."""
    station.diagnostics_status = "Uploading"
    await _notify(station, "DiagnosticsStatusNotification", "Uploading")
    if await upload_with_retries(
        station, location, name, diagnostics_log(station), retries, retry_interval
    ):
        station.diagnostics_status = "Uploaded"
        await _notify(station, "DiagnosticsStatusNotification", "Uploaded")
        return
    station.diagnostics_status = "UploadFailed"
    await _notify(station, "DiagnosticsStatusNotification", "UploadFailed")


# ------------------------------------------------------------------ TriggerMessage
Trigger = Callable[["SimulatedStation", int | None], Awaitable[None]]


async def _trigger_boot(station: SimulatedStation, connector_id: int | None) -> None:
    payload: dict[str, Any] = {
        "chargePointVendor": station.settings.vendor,
        "chargePointModel": station.settings.model,
        "firmwareVersion": station.config.get("FirmwareVersion"),
    }
    answer = await station.call("BootNotification", payload)
    if answer.get("status") == "Accepted" and answer.get("interval"):
        station.heartbeat_interval = float(answer["interval"])


async def _trigger_heartbeat(station: SimulatedStation, connector_id: int | None) -> None:
    await station.call("Heartbeat", {})


async def _trigger_firmware(station: SimulatedStation, connector_id: int | None) -> None:
    status = station.firmware_status
    if status not in ("Idle", "Downloading", "Downloaded", "Installing", "Installed"):
        status = "Idle"
    await _notify(station, "FirmwareStatusNotification", status)


async def _trigger_diagnostics(station: SimulatedStation, connector_id: int | None) -> None:
    status = station.diagnostics_status
    await _notify(station, "DiagnosticsStatusNotification", status)


async def _trigger_meter(station: SimulatedStation, connector_id: int | None) -> None:
    outlets = station.outlets if not connector_id else [station.outlet(connector_id)]
    for outlet in outlets:
        station.queue_meter_values(outlet, "Trigger")


async def _trigger_status(station: SimulatedStation, connector_id: int | None) -> None:
    if connector_id is None:
        targets = [station.connector0, *station.outlets]
    elif connector_id == 0:
        targets = [station.connector0]
    else:
        targets = [station.outlet(connector_id)]
    for outlet in targets:
        station.observe(outlet, again=True)
    station.changed()


TRIGGERS: dict[str, Trigger] = {
    "BootNotification": _trigger_boot,
    "DiagnosticsStatusNotification": _trigger_diagnostics,
    "FirmwareStatusNotification": _trigger_firmware,
    "Heartbeat": _trigger_heartbeat,
    "MeterValues": _trigger_meter,
    "StatusNotification": _trigger_status,
}
