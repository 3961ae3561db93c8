"""A simulated station against a minimal central system: what the central system observes."""

from __future__ import annotations

import json

import trio

from simulator import SimulatedStation, StationSettings
from tests.simulator.minimal_cs import MinimalCentralSystem, frames_of


def make_station(cs: MinimalCentralSystem, cbid: str = "SIM1", **kw) -> SimulatedStation:
    config = {"MeterValueSampleInterval": "1", **kw.pop("config", {})}
    settings = StationSettings(
        cs.url,
        cbid,
        password="secret-1",
        outlets=kw.pop("outlets", 2),
        config=config,
        backoff_initial=0.05,
        backoff_max=0.2,
        reboot_delay=0.05,
        **kw,
    )
    return SimulatedStation(settings)


async def test_boot_then_every_connector_reported_available(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.wait_idle()
    actions = cs.actions("SIM1")
    assert actions[0] == "BootNotification"
    statuses = {(p["connectorId"], p["status"]) for p in cs.payloads("StatusNotification")}
    assert statuses == {(0, "Available"), (1, "Available"), (2, "Available")}
    assert cs.auth_headers[0].startswith("Basic ")
    assert station.heartbeat_interval == 1


async def test_heartbeat_follows_the_interval_of_the_central_system(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        await cs.wait_for(lambda: cs.actions().count("Heartbeat") >= 2)


async def test_rfid_first_session_authorizes_starts_meters_and_stops_on_unplug(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        assert await station.present_tag(1, "TAG1") == "Accepted"
        await station.wait_status(1, "Preparing")
        await station.plug_in(1)
        await station.wait_status(1, "Charging")
        await cs.wait_for(lambda: len(cs.payloads("MeterValues")) >= 2)
        await station.unplug(1)
        await station.wait_status(1, "Available")
        await station.wait_idle()
    actions = cs.actions()
    assert actions.index("Authorize") < actions.index("StartTransaction")
    start = cs.payloads("StartTransaction")[0]
    stop = cs.payloads("StopTransaction")[0]
    assert start["idTag"] == "TAG1"
    assert stop["reason"] == "EVDisconnected"
    assert stop["meterStop"] > start["meterStart"]
    contexts = [mv["sampledValue"][0]["context"] for mv in stop["transactionData"]]
    assert contexts[0] == "Transaction.Begin"
    assert contexts[-1] == "Transaction.End"
    meter = cs.payloads("MeterValues")[0]
    assert meter["transactionId"] == 1000


async def test_invalid_badge_does_not_start_a_session(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.plug_in(1)
        assert await station.present_tag(1, "UNKNOWN") == "Invalid"
        await station.wait_status(1, "Preparing")
    assert "StartTransaction" not in cs.actions()


async def test_badge_again_stops_with_reason_local(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.plug_in(1)
        await station.present_tag(1, "TAG1")
        await station.wait_status(1, "Charging")
        await station.present_tag(1, "TAG1")
        await station.wait_status(1, "Finishing")
        await station.wait_idle()
    assert cs.payloads("StopTransaction")[0]["reason"] == "Local"


async def test_offline_session_messages_delivered_in_order_after_reconnect(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(20):
        await nursery.start(station.run)
        await station.plug_in(1, free=True)
        await station.wait_status(1, "Charging")
        await station.wait_idle()
        station.drop_connection(offline_for=60)
        await station.wait_for(lambda: not station.online)
        await station.wait_for(lambda: len(station.txq) >= 1)  # samples pile up offline
        await station.unplug(1)
        assert len(station.txq) >= 2
        station.end_offline()
        await station.wait_for(lambda: station.online)
        await station.wait_idle()
    tx_actions = [
        a for a in cs.actions() if a in ("StartTransaction", "MeterValues", "StopTransaction")
    ]
    assert tx_actions[0] == "StartTransaction"
    assert tx_actions[-1] == "StopTransaction"
    assert tx_actions.count("StartTransaction") == 1
    stamps = [p["meterValue"][0]["timestamp"] for p in cs.payloads("MeterValues")]
    assert stamps == sorted(stamps)


async def test_lost_answer_is_resent_with_identical_content(cs, nursery):
    station = make_station(cs, call_timeout=0.5, config={"TransactionMessageRetryInterval": "1"})
    cs.drop["StartTransaction"] = 1
    with trio.fail_after(20):
        await nursery.start(station.run)
        await station.plug_in(2, free=True)
        await station.wait_for(lambda: station.outlet(2).transaction.transaction_id is not None)
    sent = frames_of(cs, "StartTransaction")
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert station.txq.resent == 1


async def test_central_system_commands_get_real_answers(cs, nursery):
    station = make_station(cs, outlets=4)
    with trio.fail_after(15):
        await nursery.start(station.run)
        await station.wait_idle()
        config = await cs.call("SIM1", "GetConfiguration", {"key": ["NumberOfConnectors", "Nope"]})
        assert config["configurationKey"] == [
            {"key": "NumberOfConnectors", "readonly": True, "value": "4"}
        ]
        assert config["unknownKey"] == ["Nope"]
        change = cs.call
        assert (
            await change("SIM1", "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "2"})
        )["status"] == "Rejected"
        assert (
            await change(
                "SIM1", "ChangeConfiguration", {"key": "WebSocketPingInterval", "value": "30"}
            )
        )["status"] == "RebootRequired"
        assert (await change("SIM1", "ChangeConfiguration", {"key": "Foo", "value": "1"}))[
            "status"
        ] == "NotSupported"
        assert (
            await change(
                "SIM1", "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "x"}
            )
        )["status"] == "Rejected"
        assert (await cs.call("SIM1", "UnlockConnector", {"connectorId": 9}))[
            "status"
        ] == "NotSupported"
        assert (
            await cs.call("SIM1", "ChangeAvailability", {"connectorId": 3, "type": "Inoperative"})
        )["status"] == "Accepted"
        await station.wait_status(3, "Unavailable")
        answer = await cs.call("SIM1", "DataTransfer", {"vendorId": "Other"})
        assert answer["status"] == "UnknownVendorId"
        answer = await cs.call("SIM1", "TriggerMessage", {"requestedMessage": "Heartbeat"})
        assert answer["status"] == "Accepted"
        await cs.wait_for(lambda: cs.actions().count("Heartbeat") >= 1)
        assert (await cs.call("SIM1", "GetLocalListVersion", {}))["listVersion"] == 0


async def test_remote_start_and_stop(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        await station.plug_in(1)
        answer = await cs.call(
            "SIM1", "RemoteStartTransaction", {"idTag": "TAG2", "connectorId": 1}
        )
        assert answer["status"] == "Accepted"
        await station.wait_status(1, "Charging")
        await station.wait_idle()
        tx_id = station.outlet(1).transaction.transaction_id
        answer = await cs.call("SIM1", "RemoteStopTransaction", {"transactionId": tx_id + 99})
        assert answer["status"] == "Rejected"
        answer = await cs.call("SIM1", "RemoteStopTransaction", {"transactionId": tx_id})
        assert answer["status"] == "Accepted"
        await station.wait_status(1, "Finishing")
        await station.wait_idle()
    assert cs.payloads("StopTransaction")[-1]["reason"] == "Remote"


async def test_change_availability_is_scheduled_while_charging(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        await station.plug_in(1, free=True)
        await station.wait_status(1, "Charging")
        answer = await cs.call(
            "SIM1", "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}
        )
        assert answer["status"] == "Scheduled"
        await station.unplug(1)
        await station.wait_status(1, "Unavailable")


async def test_soft_reset_ends_session_reconnects_and_boots_again(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(15):
        await nursery.start(station.run)
        await station.plug_in(1, free=True)
        await station.wait_status(1, "Charging")
        answer = await cs.call("SIM1", "Reset", {"type": "Soft"})
        assert answer["status"] == "Accepted"
        await station.wait_for(lambda: station.boot_count == 2 and station.online)
        await station.wait_idle()
    assert cs.payloads("StopTransaction")[0]["reason"] == "SoftReset"
    assert cs.actions().count("BootNotification") == 2


async def test_malformed_and_unknown_calls_get_ocpp_errors(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        ws = cs._conns["SIM1"]
        await ws.send_message(json.dumps([2, "x1", "FooBar", {}]))
        await ws.send_message(json.dumps([2, "x2", "BootNotification", {}]))
        await ws.send_message(json.dumps([2, "x3", "Reset", {"type": 5}]))
        await ws.send_message(json.dumps([2, "x4", "Reset", {}]))
        await ws.send_message(json.dumps([7, "x5", {}]))
        await station.wait_for(lambda: station.counters["received"] >= 6)
        await trio.sleep(0.1)
    answers = {
        f[1]: f for f in (json.loads(t) for d, t in station.frames if d == "out") if f[0] == 4
    }
    assert answers["x1"][2] == "NotImplemented"
    assert answers["x2"][2] == "NotSupported"
    assert answers["x3"][2] == "TypeConstraintViolation"
    assert answers["x4"][2] == "OccurenceConstraintViolation"
    assert answers["x5"][2] == "ProtocolError"


async def test_reconnects_with_backoff_after_refused_password(cs, nursery):
    cs.refusing = True
    station = make_station(cs)
    nursery.start_soon(station.run)
    with trio.fail_after(10):
        await station.wait_for(lambda: station.rejected_status == 401)
        cs.refusing = False
        await station.wait_online()
    assert len(cs.auth_headers) >= 2


async def test_pending_boot_is_retried_until_accepted_and_nothing_else_is_sent(cs, nursery):
    cs.boot_answers = ["Pending", "Rejected"]
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
    assert cs.actions()[:3] == ["BootNotification"] * 3
    assert station.boot_count == 1


async def test_websocket_pings_at_the_configured_interval(cs, nursery):
    station = make_station(cs, config={"WebSocketPingInterval": "1"})
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.wait_for(lambda: station.counters.get("pings", 0) >= 2)


async def test_queued_script_runs_after_boot(cs, nursery):
    station = make_station(cs)
    station.queue("plug_in", 1)
    station.queue("present_tag", 1, "TAG1", after=0.1)
    station.queue("unplug", 1, after=1.2)
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.script_done.wait()
        await station.wait_idle()
    assert [a for a in cs.actions() if "Transaction" in a] == [
        "StartTransaction",
        "StopTransaction",
    ]
    assert cs.payloads("StopTransaction")[0]["reason"] == "EVDisconnected"


async def test_every_status_change_is_reported_in_the_order_it_happened(cs, nursery):
    station = make_station(cs)
    with trio.fail_after(10):
        await nursery.start(station.run)
        await station.wait_idle()
        start = len(cs.received)
        await station.plug_in(1, free=True)  # Preparing and Charging in the same instant
        await station.wait_status(1, "Charging")
        await station.unplug(1)
        await station.wait_status(1, "Available")
        await station.wait_idle()
    seen = [
        f"{action}:{payload.get('status', '')}"
        for _, action, payload in cs.received[start:]
        if action != "Heartbeat" and payload.get("connectorId", 1) == 1 and action != "MeterValues"
    ]
    assert seen == [
        "StatusNotification:Preparing",
        "StartTransaction:",
        "StatusNotification:Charging",
        "StopTransaction:",
        "StatusNotification:Finishing",
        "StatusNotification:Available",
    ]
