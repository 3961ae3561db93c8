"""Central-system commands with their effects on the simulated station, and fault injection."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial

import trio

from simulator import FaultSettings, SimulatedStation, StationSettings
from simulator.meter import iso
from tests.simulator.minimal_cs import MinimalCentralSystem


def make_station(cs: MinimalCentralSystem, cbid: str = "SIM1", *, faults=None, **kw):
    config = {"MeterValueSampleInterval": "1", **kw.pop("config", {})}
    settings = StationSettings(
        cs.url,
        cbid,
        outlets=kw.pop("outlets", 2),
        config=config,
        backoff_initial=0.05,
        backoff_max=0.2,
        reboot_delay=0.05,
        **kw,
    )
    return SimulatedStation(settings, faults=faults)


async def test_reservation_holds_the_outlet_for_its_tag_until_expiry(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        expiry = iso(station.now() + timedelta(seconds=1.5))
        answer = await cs.call(
            "SIM1",
            "ReserveNow",
            {"connectorId": 1, "expiryDate": expiry, "idTag": "TAG1", "reservationId": 7},
        )
        assert answer["status"] == "Accepted"
        await station.wait_status(1, "Reserved")
        assert await station.present_tag(1, "TAG2") == "Invalid"  # not the reserving badge
        await station.wait_status(1, "Available")  # expired
        answer = await cs.call(
            "SIM1",
            "ReserveNow",
            {
                "connectorId": 1,
                "expiryDate": iso(station.now() + timedelta(minutes=5)),
                "idTag": "TAG1",
                "reservationId": 8,
            },
        )
        assert answer["status"] == "Accepted"
        await station.present_tag(1, "TAG1")
        await station.plug_in(1)
        await station.wait_status(1, "Charging")
        await station.wait_idle()
        busy = await cs.call(
            "SIM1",
            "ReserveNow",
            {"connectorId": 1, "expiryDate": expiry, "idTag": "TAG2", "reservationId": 9},
        )
        assert busy["status"] in ("Occupied", "Rejected")
        assert (await cs.call("SIM1", "CancelReservation", {"reservationId": 99}))[
            "status"
        ] == "Rejected"
    assert cs.payloads("StartTransaction")[0]["reservationId"] == 8


async def test_charging_profile_really_limits_the_power(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        await station.plug_in(1, free=True)
        await station.wait_status(1, "Charging")
        await station.wait_idle()
        tx_id = station.outlet(1).transaction.transaction_id
        profile = {
            "chargingProfileId": 5,
            "transactionId": tx_id,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
            },
        }
        answer = await cs.call(
            "SIM1", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}
        )
        assert answer["status"] == "Accepted"
        assert station.outlet(1).meter.power_w == 6 * 230 * 3
        composite = await cs.call(
            "SIM1", "GetCompositeSchedule", {"connectorId": 1, "duration": 600}
        )
        assert composite["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 4140
        zero = {
            **profile,
            "chargingProfileId": 6,
            "stackLevel": 2,
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0}],
            },
        }
        await cs.call("SIM1", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": zero})
        await station.wait_status(1, "SuspendedEVSE")
        answer = await cs.call("SIM1", "ClearChargingProfile", {"id": 6})
        assert answer["status"] == "Accepted"
        await station.wait_status(1, "Charging")


async def test_local_list_authorizes_while_offline(cs, nursery):
    station = make_station(
        cs, config={"LocalAuthorizeOffline": "true", "AuthorizationCacheEnabled": "false"}
    )
    with trio.fail_after(15):
        await nursery.start(station.run)
        entries = [
            {"idTag": "LOCAL1", "idTagInfo": {"status": "Accepted"}},
            {"idTag": "BLOCK1", "idTagInfo": {"status": "Blocked"}},
        ]
        answer = await cs.call(
            "SIM1",
            "SendLocalList",
            {"listVersion": 3, "updateType": "Full", "localAuthorizationList": entries},
        )
        assert answer["status"] == "Accepted"
        assert (await cs.call("SIM1", "GetLocalListVersion", {}))["listVersion"] == 3
        station.drop_connection(offline_for=60)
        await station.wait_for(lambda: not station.online)
        assert await station.present_tag(1, "BLOCK1") == "Blocked"
        assert await station.present_tag(1, "STRANGER") == "Invalid"
        assert await station.present_tag(1, "LOCAL1") == "Accepted"
        await station.plug_in(1)
        assert station.outlet(1).transaction is not None
        assert len(station.txq) == 1  # StartTransaction waits for the connection


async def test_the_local_list_limits_of_the_configuration_are_honoured(cs, nursery):
    """SendLocalListMaxLength per message, LocalAuthListMaxLength in all, versions."""
    station = make_station(
        cs, config={"SendLocalListMaxLength": "3", "LocalAuthListMaxLength": "5"}
    )

    def tags(*names: str) -> list[dict]:
        return [{"idTag": n, "idTagInfo": {"status": "Accepted"}} for n in names]

    async def send(version: int, kind: str, entries: list[dict]) -> str:
        payload = {"listVersion": version, "updateType": kind, "localAuthorizationList": entries}
        return (await cs.call("SIM1", "SendLocalList", payload))["status"]

    with trio.fail_after(15):
        await nursery.start(station.run)
        assert await send(1, "Full", tags("A", "B", "C", "D")) == "Failed"  # 4 > 3 a message
        assert await send(1, "Full", tags("A", "B", "C")) == "Accepted"
        assert await send(2, "Differential", tags("D", "E")) == "Accepted"
        assert await send(3, "Differential", tags("F")) == "Failed"  # 6 > 5 held
        assert set(station.local_auth.local_list) == {"A", "B", "C", "D", "E"}
        assert await send(2, "Differential", tags("F")) == "VersionMismatch"
        assert await send(3, "Differential", [{"idTag": "A"}, *tags("F")]) == "Accepted"
        assert set(station.local_auth.local_list) == {"B", "C", "D", "E", "F"}
        assert (await cs.call("SIM1", "GetLocalListVersion", {}))["listVersion"] == 3


async def test_firmware_download_failure_is_reported(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        await cs.call(
            "SIM1",
            "UpdateFirmware",
            {
                "location": "http://127.0.0.1:1/nothing.bin",
                "retrieveDate": station.timestamp(),
                "retries": 0,
            },
        )
        await cs.wait_for(lambda: len(cs.payloads("FirmwareStatusNotification")) >= 2)
    assert [p["status"] for p in cs.payloads("FirmwareStatusNotification")] == [
        "Downloading",
        "DownloadFailed",
    ]
    assert station.boot_count == 1


async def test_diagnostics_upload_failure_is_reported(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        answer = await cs.call(
            "SIM1", "GetDiagnostics", {"location": "ftp://127.0.0.1:1/logs/", "retries": 0}
        )
        assert answer["fileName"].startswith("SIM1-diagnostics-")
        await cs.wait_for(lambda: len(cs.payloads("DiagnosticsStatusNotification")) >= 2)
    assert [p["status"] for p in cs.payloads("DiagnosticsStatusNotification")] == [
        "Uploading",
        "UploadFailed",
    ]


async def test_trigger_message_sends_what_was_asked(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        await station.wait_idle()
        before = len(cs.payloads("StatusNotification"))
        for what in (
            "StatusNotification",
            "MeterValues",
            "FirmwareStatusNotification",
            "BootNotification",
        ):
            answer = await cs.call(
                "SIM1", "TriggerMessage", {"requestedMessage": what, "connectorId": 2}
            )
            assert answer["status"] == "Accepted"
        await cs.wait_for(
            lambda: (
                "FirmwareStatusNotification" in cs.actions()
                and cs.actions().count("BootNotification") == 2
            )
        )
        await station.wait_idle()
        assert len(cs.payloads("StatusNotification")) == before + 1
        assert (
            cs.payloads("MeterValues")[0]["meterValue"][0]["sampledValue"][0]["context"]
            == "Trigger"
        )
        answer = await cs.call(
            "SIM1", "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 7}
        )
        assert answer["status"] == "Rejected"


async def test_authorization_key_change_reconnects_with_the_new_password(cs, nursery):
    station = make_station(cs, password="first-pass-1")
    with trio.fail_after(15):
        await nursery.start(station.run)
        answer = await cs.call(
            "SIM1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "second-pass-2"}
        )
        assert answer["status"] == "Accepted"
        await station.wait_for(lambda: station.connect_count == 2 and station.online)
    import base64

    assert cs.auth_headers[-1] == "Basic " + base64.b64encode(b"SIM1:second-pass-2").decode()


async def test_connector_fault_is_reported_with_its_error_code_and_cleared(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        await station.plug_in(1, free=True)
        await station.wait_status(1, "Charging")
        station.set_fault(1, "fuse")
        await station.wait_status(1, "Faulted")
        station.clear_fault(1)
        await station.wait_status(1, "Finishing")
        await station.wait_idle()
    faulted = next(p for p in cs.payloads("StatusNotification") if p["status"] == "Faulted")
    assert faulted["errorCode"] == "OverCurrentFailure"
    assert faulted["vendorErrorCode"] == "Fuse"
    assert cs.payloads("StopTransaction")[0]["reason"] == "Other"


async def test_silent_station_stays_connected_but_sends_and_answers_nothing(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.wait_idle()
        station.set_silent(True)
        before = len(cs.received)
        await station.plug_in(1, free=True)
        with trio.move_on_after(1) as unanswered:
            await cs.call("SIM1", "ClearCache", {})
        assert unanswered.cancelled_caught
        await trio.sleep(1.2)  # longer than the heartbeat interval
        assert len(cs.received) == before
        assert station.online
        station.set_silent(False)
        await station.wait_idle()
    assert "StartTransaction" in cs.actions()


async def test_slow_and_lost_answers(cs, nursery):
    faults = FaultSettings(answer_delay=0.5)
    station = make_station(cs, faults=faults)
    with trio.fail_after(15):
        await nursery.start(station.run)
        start = trio.current_time()
        await cs.call("SIM1", "ClearCache", {})
        assert trio.current_time() - start >= 0.5
        faults.answer_delay = 0
        faults.drop_answers = 1
        with trio.move_on_after(1) as lost:
            await cs.call("SIM1", "ClearCache", {})
        assert lost.cancelled_caught
        assert (await cs.call("SIM1", "ClearCache", {}))["status"] == "Accepted"


async def test_malformed_frame_reaches_the_central_system_as_sent(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.send_raw('[2,"bad","Heartbeat",{')
        await cs.wait_for(lambda: any(t == '[2,"bad","Heartbeat",{' for _, t in cs.frames))


async def test_handshake_without_answer_times_out_and_retries(nursery):
    silent_connections = []

    async def never_answer(stream):
        silent_connections.append(stream)
        await trio.sleep_forever()

    listeners = await nursery.start(partial(trio.serve_tcp, never_answer, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    station = SimulatedStation(
        StationSettings(
            f"ws://127.0.0.1:{port}/ocpp",
            "SIM9",
            connect_timeout=0.3,
            backoff_initial=0.05,
            backoff_max=0.1,
        )
    )
    nursery.start_soon(station.run)
    with trio.fail_after(10):
        await station.wait_for(lambda: station.counters["errors"] >= 2)
    assert len(silent_connections) >= 2
    station.stop()


async def test_remote_start_with_profile_installs_it_for_the_transaction(cs, nursery):
    station = make_station(cs)
    profile = {
        "chargingProfileId": 11,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3000}],
        },
    }
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.plug_in(2)
        answer = await cs.call(
            "SIM1", "RemoteStartTransaction", {"idTag": "TAG1", "chargingProfile": profile}
        )
        assert answer["status"] == "Accepted"
        await station.wait_status(2, "Charging")
        await station.wait_for(lambda: station.outlet(2).limit_w == 3000)
    assert json.loads(json.dumps(cs.payloads("StartTransaction")[0]))["connectorId"] == 2


async def test_clock_aligned_meter_values_follow_the_configured_interval(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        answer = await cs.call(
            "SIM1", "ChangeConfiguration", {"key": "ClockAlignedDataInterval", "value": "1"}
        )
        assert answer["status"] == "Accepted"
        await cs.wait_for(lambda: len(cs.payloads("MeterValues")) >= 4)
    samples = [p["meterValue"][0]["sampledValue"][0] for p in cs.payloads("MeterValues")]
    assert {s["context"] for s in samples} == {"Sample.Clock"}
    assert {p["connectorId"] for p in cs.payloads("MeterValues")} == {1, 2}


async def test_new_heartbeat_interval_applies_at_once(nursery):
    cs = MinimalCentralSystem(interval=300)
    await nursery.start(cs.run)
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        answer = await cs.call(
            "SIM1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "1"}
        )
        assert answer["status"] == "Accepted"
        await cs.wait_for(lambda: cs.actions().count("Heartbeat") >= 2)


async def test_a_profile_period_change_applies_on_time(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.plug_in(1, free=True)
        await station.wait_status(1, "Charging")
        profile = {
            "chargingProfileId": 3,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "startSchedule": station.timestamp(),
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 7000},
                    {"startPeriod": 1, "limit": 0},
                ],
            },
        }
        answer = await cs.call(
            "SIM1", "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": profile}
        )
        assert answer["status"] == "Accepted"
        assert station.outlet(1).meter.power_w == 7000
        await station.wait_status(1, "SuspendedEVSE")  # a second later, not a minute later
