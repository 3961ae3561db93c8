"""Control actions against a simulated station through the real gateway, and what they change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import trio

from db import Store
from db.errors import Conflict, Invalid, NotAllowed
from db.ocpp.config_keys import list_keys
from db.schema.models import ChargingSession, DiagnosticsFile, Reservation, Station
from db.topology.station_files import record_firmware
from gateway.errors import StationOfflineError
from tests.e2e.config_rig import open_rig, seed, wait_until, wait_until_async


def _session_count(cbid: str, *, running: bool) -> int:
    query = ChargingSession.select().where(ChargingSession.charge_box_id == cbid)
    if running:
        query = query.where(ChargingSession.end_time.is_null())
    return query.count()


async def test_remote_start_makes_a_session_and_remote_stop_ends_it(
    store: Store, tmp_path: Path
) -> None:
    await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            station = await rig.station("SIM-1")
            await station.plug_in(1)
            result = await rig.act("SIM-1", "remote-start", connectorId=1, idTag="1001")
            assert (result.ok, result.answer) == (True, {"status": "Accepted"})
            await wait_until_async(
                lambda: store.read(lambda: _session_count("SIM-1", running=True))
            )
            stop = await rig.act("SIM-1", "remote-stop", connectorId=1)
            assert stop.answer == {"status": "Accepted"}
            await wait_until_async(
                lambda: store.read(
                    lambda: (
                        _session_count("SIM-1", running=False) == 1
                        and _session_count("SIM-1", running=True) == 0
                    )
                )
            )
            with pytest.raises(Conflict, match="No charging session"):
                await rig.act("SIM-1", "remote-stop", connectorId=1)


async def test_an_offline_station_is_refused_before_anything_is_sent(
    store: Store, tmp_path: Path
) -> None:
    await store.write(seed)
    with trio.fail_after(10):
        async with open_rig(store, tmp_path) as rig:
            with pytest.raises(StationOfflineError, match="offline: nothing was sent"):
                await rig.act("SIM-1", "reset", type="Soft")
            assert rig.gateway.statistics()["commands"] == 0


async def test_simple_actions_show_the_station_answers(store: Store, tmp_path: Path) -> None:
    await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            station = await rig.station("SIM-1")
            unlock = await rig.act("SIM-1", "unlock-connector", connectorId=1)
            assert unlock.answer["status"] in ("Unlocked", "NotSupported")
            assert await station.authorize("1001") == {"status": "Accepted"}
            assert "1001" in station.local_auth.cache
            assert (await rig.act("SIM-1", "clear-cache")).answer == {"status": "Accepted"}
            assert station.local_auth.cache == {}
            inoperative = await rig.act(
                "SIM-1", "change-availability", connectorId=2, type="Inoperative"
            )
            assert inoperative.answer == {"status": "Accepted"}
            await station.wait_status(2, "Unavailable")
            trigger = await rig.act("SIM-1", "trigger-message", requestedMessage="Heartbeat")
            assert trigger.answer == {"status": "Accepted"}
            transfer = await rig.act("SIM-1", "data-transfer", vendorId="com.example", data="x")
            assert transfer.answer["status"] in ("Accepted", "UnknownVendorId", "Rejected")
            expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
            reserve = await rig.act(
                "SIM-1", "reserve-now", connectorId=1, idTag="1001", expiryDate=expiry
            )
            assert reserve.answer == {"status": "Accepted"}
            await station.wait_status(1, "Reserved")
            reservation = reserve.extra["reservationId"]
            cancel = await rig.act("SIM-1", "cancel-reservation", reservationId=reservation)
            assert cancel.answer == {"status": "Accepted"}
            status = await store.read(lambda: Reservation.get_by_id(reservation).status)
            assert status == "Cancelled"
            past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
            with pytest.raises(Invalid, match="already past"):  # nothing is sent
                await rig.act("SIM-1", "reserve-now", connectorId=1, idTag="1001", expiryDate=past)
            assert await store.read(Reservation.select().count) == 1
            boots = station.boot_count
            reset = await rig.act("SIM-1", "reset", type="Soft")
            assert reset.answer == {"status": "Accepted"}
            await wait_until(lambda: station.boot_count > boots and station.online)
            with pytest.raises(NotAllowed, match="may not use Firmware update"):
                await rig.act("SIM-1", "update-firmware", role="site-admin", imageId=1)
            with pytest.raises(Invalid, match="Choose a firmware image"):
                await rig.act("SIM-1", "update-firmware")  # no image uploaded or chosen


async def test_configuration_is_read_and_changed(store: Store, tmp_path: Path) -> None:
    ids = await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            await rig.station("SIM-1")
            read = await rig.act("SIM-1", "get-configuration")
            assert read.ok
            keys = {k["key"]: k for k in await store.read(list_keys, ids["SIM-1"])}
            assert keys["ChargingStationModel"]["readonly"] is True
            assert keys["endpoint"]["risky"] is True
            changed = await rig.act(
                "SIM-1", "change-configuration", key="HeartbeatInterval", value="120"
            )
            assert changed.answer == {"status": "Accepted"}
            keys = {k["key"]: k for k in await store.read(list_keys, ids["SIM-1"])}
            assert keys["HeartbeatInterval"]["value"] == "120"
            # a known integer key gets a number or the station is not asked
            with pytest.raises(Invalid, match="HeartbeatInterval takes a whole number"):
                await rig.act(
                    "SIM-1", "change-configuration", key="HeartbeatInterval", value="often"
                )
            # a value only the station can judge (a measurand it does not meter)
            refused = await rig.act(
                "SIM-1", "change-configuration", key="MeterValuesSampledData", value="Sunshine"
            )
            assert (refused.answer, refused.ok) == ({"status": "Rejected"}, False)
            keys = {k["key"]: k for k in await store.read(list_keys, ids["SIM-1"])}
            assert keys["HeartbeatInterval"]["value"] == "120"
            with pytest.raises(Invalid, match="ChargingStationModel is read-only"):
                await rig.act(
                    "SIM-1", "change-configuration", key="ChargingStationModel", value="X"
                )
            reboot = await rig.act(
                "SIM-1", "change-configuration", key="WebSocketPingInterval", value="0"
            )
            assert reboot.answer == {"status": "RebootRequired"}
            # SecurityProfile: only upwards and with the credentials (a password) in place
            with pytest.raises(Conflict, match="Security profile 1 needs the station's password"):
                await rig.act("SIM-1", "change-configuration", key="SecurityProfile", value="1")
            unknown = await rig.act("SIM-1", "change-configuration", key="NoSuchKey", value="1")
            assert unknown.answer == {"status": "NotSupported"}


async def test_log_upload_lands_a_file(store: Store, tmp_path: Path) -> None:
    ids = await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            await rig.station("SIM-1")
            result = await rig.act("SIM-1", "get-diagnostics")
            assert result.answer["fileName"].startswith("SIM-1-diagnostics")
            row = await wait_until_async(
                lambda: store.read(
                    lambda: DiagnosticsFile.get_or_none(DiagnosticsFile.station == ids["SIM-1"])
                )
            )
            assert row.filename == result.answer["fileName"]
            stored = rig.files.diagnostics_path(row.path)
            assert b"# diagnostics of SIM-1" in stored.read_bytes()
            status = await wait_until_async(
                lambda: store.read(
                    lambda: Station.get_by_id(ids["SIM-1"]).diagnostics_status == "Uploaded"
                )
            )
            assert status


async def test_firmware_update_over_ftp_ends_with_the_new_version_booted(
    store: Store, tmp_path: Path
) -> None:
    ids = await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            stored = rig.files.save_firmware("sim-2.0.0.bin", b"VERSION=2.0.0\n" + b"\x00" * 4096)
            image = await store.write(
                lambda: record_firmware(
                    stored.name,
                    version="2.0.0",
                    size=stored.size,
                    sha256=stored.sha256,
                    user_id=None,
                )
            )
            station = await rig.station("SIM-1", firmware_version="1.0.0")
            statuses: list[str] = []
            async with rig.gateway.events.subscribe() as events:
                result = await rig.act("SIM-1", "update-firmware", imageId=image, transport="ftp")
                assert result.answer == {}
                async for event in events:
                    if event.kind == "firmware.status":
                        statuses.append(event.data.get("status", ""))
                        if statuses[-1] in ("Installed", "InstallationFailed", "DownloadFailed"):
                            break
            assert statuses[:2] == ["Downloading", "Downloaded"]
            assert statuses[-1] == "Installed"
            await wait_until(lambda: station.online)
            version = await store.read(lambda: Station.get_by_id(ids["SIM-1"]).firmware_version)
            assert version == "2.0.0"


async def test_an_external_ftp_server_receives_the_log_instead(
    store: Store, tmp_path: Path, ftp_root: tuple[str, Path]
) -> None:
    url, folder = ftp_root
    await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            rig.deps.ftp_mode, rig.deps.external_ftp_url = "external", url
            await rig.station("SIM-1")
            result = await rig.act("SIM-1", "get-diagnostics")
            assert result.request == {"location": url}
            name = result.answer["fileName"]
            await wait_until(lambda: (folder / name).exists())
            assert rig.ftp.statistics().files_received == 0
            rig.deps.external_ftp_url = ""
            with pytest.raises(Invalid, match="No external FTP server"):
                await rig.act("SIM-1", "get-diagnostics")
