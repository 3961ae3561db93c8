"""The simulator in OCPP 1.5 mode (SOAP both ways) against the real gateway and portal over
real sockets; the database is checked afterwards."""

from __future__ import annotations

from pathlib import Path

import httpx
import trio
from lxml import etree

from db import Store
from db.schema.models import ChargingSession, MeterSample, Station
from tests.e2e.registry import register_stations, register_tags
from tests.e2e.soap_rig import open_rig, poll_until
from tests.gateway.ocpp15_rig import body_of, checked

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CP = "urn://Ocpp/Cp/2012/06/"


def sessions(cbid: str) -> list[dict]:
    query = ChargingSession.select().where(ChargingSession.charge_box_id == cbid)
    return list(query.order_by(ChargingSession.id).dicts())


def soap_bodies(frames, direction: str) -> list[etree._Element]:
    """Body elements of the envelopes the station sent (out) or got back (in)."""
    return [body_of(text.encode()) for d, text in frames if d == direction and "Envelope" in text]


async def test_a_full_session_over_soap_is_stored_like_a_16_one(store: Store, tmp_path: Path):
    await register_stations(store, ["S15FULL"], outlets=2)
    await register_tags(store, ["TAG15"])
    async with open_rig(store, tmp_path) as rig:
        with trio.fail_after(30):
            st = await rig.station("S15FULL")
            await st.plug_in(1)
            assert await st.present_tag(1, "TAG15") == "Accepted"
            await st.wait_status(1, "Charging")
            await trio.sleep(2.2)  # periodic meter values (every second)
            await st.unplug(1)
            await st.wait_idle()
            await poll_until(lambda: rig.gateway.is_online("S15FULL"))
            rows = await poll_until(
                lambda: [r for r in sessions("S15FULL") if r["end_time"] is not None], store
            )
    assert len(rows) == 1
    row = rows[0]
    assert row["id_tag"] == "TAG15"
    assert row["meter_stop"] == st.outlet(1).meter.register_wh
    assert row["energy_wh"] > 0

    def samples() -> int:
        return MeterSample.select().where(MeterSample.session == row["id"]).count()

    assert await store.read(samples) >= 2

    def protocol() -> str:
        return Station.get(Station.charge_box_id == "S15FULL").protocol

    assert await store.read(protocol) == "1.5"
    # every request and answer on the wire is valid for the official schemas
    sent = soap_bodies(st.frames, "out")
    names = {etree.QName(b).localname for b in sent}
    assert {
        "bootNotificationRequest",
        "authorizeRequest",
        "startTransactionRequest",
        "meterValuesRequest",
        "stopTransactionRequest",
        "statusNotificationRequest",
    } <= names
    for direction in ("out", "in"):
        for text in (t for d, t in st.frames if d == direction and "Envelope" in t):
            checked(text.encode())
    stop = next(b for b in sent if etree.QName(b).localname == "stopTransactionRequest")
    assert stop.find("{urn://Ocpp/Cs/2012/06/}transactionData") is not None


async def test_remote_start_and_stop_from_the_json_api_reach_a_15_station(
    store: Store, tmp_path: Path
):
    await register_stations(store, ["S15REM"], outlets=2)
    await register_tags(store, ["TAGREM"])
    async with open_rig(store, tmp_path) as rig:
        with trio.fail_after(30):
            st = await rig.station("S15REM")
            await st.plug_in(2)
            await st.wait_idle()
            path = "/api/v1/stations/S15REM/commands"
            started = await rig.api(
                "POST", f"{path}/remote-start-transaction", {"idTag": "TAGREM", "connectorId": 2}
            )
            assert started.status_code == 200, started.text
            assert started.json() == {"status": "Accepted"}
            await st.wait_status(2, "Charging")
            await st.wait_idle()
            tx = st.outlet(2).transaction
            assert tx is not None
            assert tx.transaction_id is not None
            stopped = await rig.api(
                "POST",
                f"{path}/remote-stop-transaction",
                {"transactionId": tx.transaction_id},
            )
            assert stopped.json() == {"status": "Accepted"}
            await st.wait_for(lambda: st.outlet(2).transaction is None)
            await st.wait_idle()
            rows = await poll_until(
                lambda: [r for r in sessions("S15REM") if r["end_time"] is not None], store
            )
            unknown = await rig.api(
                "POST", f"{path}/remote-stop-transaction", {"transactionId": 999999}
            )
            assert unknown.json() == {"status": "Rejected"}
            trigger = await rig.api(
                "POST", f"{path}/trigger-message", {"requestedMessage": "Heartbeat"}
            )
            assert trigger.status_code == 409
            assert trigger.json()["error"] == "not-supported-by-protocol"
    assert len(rows) == 1
    assert rows[0]["id_tag"] == "TAGREM"
    assert rows[0]["connector_id"] == 2
    assert rows[0]["stop_reason"] == "Local"  # 1.5 sends no reason: 1.6's default
    # the station got real SOAP commands, each valid for the ChargePoint schema
    commands = [etree.fromstring(t) for d, t in st.frames if d == "in" and "Envelope" not in t]
    assert {etree.QName(c).localname for c in commands} >= {
        "remoteStartTransactionRequest",
        "remoteStopTransactionRequest",
    }


async def test_firmware_update_over_15_notifies_downloaded_then_installed(
    store: Store, tmp_path: Path, http_root
):
    base, root = http_root
    (root / "charger-2.0.0.bin").write_bytes(b"VERSION=2.0.0\n" + b"\x00" * 4096)
    await register_stations(store, ["S15FW"], outlets=1)
    async with open_rig(store, tmp_path) as rig:
        with trio.fail_after(30):
            st = await rig.station("S15FW", outlets=1)
            await st.wait_idle()
            answer = await rig.gateway.call(
                "S15FW",
                "UpdateFirmware",
                {"location": f"{base}/charger-2.0.0.bin", "retrieveDate": st.timestamp()},
            )
            assert answer == {}
            await st.wait_for(lambda: st.boot_count == 2 and st.firmware_status == "Installed")
            await st.wait_idle()

            def firmware() -> tuple[str, str]:
                row = Station.get(Station.charge_box_id == "S15FW")
                return row.firmware_version, row.firmware_status

            await poll_until(lambda: firmware()[1] == "Installed", store)
    assert await store.read(firmware) == ("2.0.0", "Installed")
    statuses = [
        b.findtext("{urn://Ocpp/Cs/2012/06/}status")
        for b in soap_bodies(st.frames, "out")
        if etree.QName(b).localname == "firmwareStatusNotificationRequest"
    ]
    assert statuses == ["Downloaded", "Installed"]  # 1.5 has no Downloading/Installing


async def test_get_diagnostics_over_15_uploads_to_the_embedded_ftp_server(
    store: Store, tmp_path: Path
):
    await register_stations(store, ["S15DIAG"], outlets=2)
    async with open_rig(store, tmp_path) as rig:
        with trio.fail_after(30):
            st = await rig.station("S15DIAG")
            await st.wait_idle()
            location = rig.ftp.grant_upload("S15DIAG")
            answer = await rig.gateway.call("S15DIAG", "GetDiagnostics", {"location": location})
            name = answer["fileName"]
            await st.wait_for(lambda: st.diagnostics_status == "Uploaded")
            await st.wait_idle()

            def status() -> str:
                return Station.get(Station.charge_box_id == "S15DIAG").diagnostics_status

            await poll_until(lambda: status() == "Uploaded", store)
            uploaded = await poll_until(
                lambda: [p for p in rig.ftp.files.diagnostics_dir("S15DIAG").iterdir()]
            )
    assert [p.name for p in uploaded] == [name]
    assert b"diagnostics of S15DIAG" in uploaded[0].read_bytes()


async def test_reset_over_15_ends_the_session_and_the_station_boots_again(
    store: Store, tmp_path: Path
):
    await register_stations(store, ["S15RST"], outlets=2, mode="OPEN")
    async with open_rig(store, tmp_path) as rig:
        with trio.fail_after(30):
            st = await rig.station("S15RST")
            await st.plug_in(1, free=True)
            await st.wait_status(1, "Charging")
            await st.wait_idle()
            answer = await rig.gateway.call("S15RST", "Reset", {"type": "Hard"})
            assert answer == {"status": "Accepted"}
            await st.wait_for(lambda: st.boot_count == 2 and st.online)
            await st.wait_idle()
            rows = await poll_until(
                lambda: [r for r in sessions("S15RST") if r["end_time"] is not None], store
            )
    assert len(rows) == 1
    assert rows[0]["meter_stop"] == st.outlet(1).meter.register_wh


async def test_messages_queued_offline_and_a_lost_answer_are_stored_once(
    store: Store, tmp_path: Path
):
    await register_stations(store, ["S15OFF"], outlets=2, mode="OPEN")
    async with open_rig(store, tmp_path) as rig:
        with trio.fail_after(40):
            st = await rig.station("S15OFF", call_timeout=1.0)
            await st.plug_in(1, free=True)
            await st.wait_status(1, "Charging")
            await st.wait_idle()
            st.drop_connection(offline_for=60)
            await st.wait_for(lambda: not st.online)
            await st.wait_for(lambda: len(st.txq) >= 3)  # meter samples pile up offline
            st.end_offline()
            await st.wait_idle()
            # the central system stores the StopTransaction, its answer is lost: re-sent
            st.faults.lost_replies["StopTransaction"] = 1
            await st.unplug(1)
            await st.wait_idle()
            rows = await poll_until(
                lambda: [r for r in sessions("S15OFF") if r["end_time"] is not None], store
            )
    assert st.txq.resent >= 1
    assert len(rows) == 1
    assert rows[0]["meter_stop"] == st.outlet(1).meter.register_wh

    def stamps() -> list:
        query = MeterSample.select().where(MeterSample.session == rows[0]["id"])
        return [(s.timestamp, s.measurand, s.context) for s in query]

    stored = await store.read(stamps)
    assert len(stored) == len(set(stored))  # nothing stored twice
    periodic = {s[0] for s in stored if s[2] == "Sample.Periodic"}
    assert len(periodic) >= 3  # every MeterValues queued offline arrived
    # a re-send is the same message: the same wsa:MessageID each time
    ids = [
        etree.fromstring(t.encode()).findtext(".//{http://www.w3.org/2005/08/addressing}MessageID")
        for d, t in st.frames
        if d == "out" and "stopTransactionRequest" in t
    ]
    assert len(ids) == 2
    assert len(set(ids)) == 1


async def test_a_local_list_reaches_a_15_station_with_its_hash_and_a_bad_hash_is_refused(
    store: Store, tmp_path: Path
):
    await register_stations(store, ["S15LST"], outlets=1)
    async with open_rig(store, tmp_path) as rig:
        with trio.fail_after(30):
            st = await rig.station("S15LST", outlets=1)
            await st.wait_idle()
            entries = [
                {"idTag": "LIST1", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "LIST2", "idTagInfo": {"status": "Blocked"}},
            ]
            answer = await rig.gateway.call(
                "S15LST",
                "SendLocalList",
                {"listVersion": 3, "updateType": "Full", "localAuthorizationList": entries},
            )
            version = await rig.gateway.call("S15LST", "GetLocalListVersion", {})

            async def command(body: str, cbid: str = "S15LST") -> etree._Element:
                data = (
                    f'<?xml version="1.0"?><s:Envelope xmlns:s="{SOAP12}" xmlns:cp="{CP}">'
                    f"<s:Header><cp:chargeBoxIdentity>{cbid}</cp:chargeBoxIdentity></s:Header>"
                    f"<s:Body>{body}</s:Body></s:Envelope>"
                ).encode()
                async with httpx.AsyncClient() as client:
                    reply = await client.post(rig.service.url, content=data)
                return body_of(reply.content)

            tampered = await command(
                "<cp:sendLocalListRequest><cp:updateType>Full</cp:updateType>"
                "<cp:listVersion>4</cp:listVersion><cp:localAuthorisationList>"
                "<cp:idTag>EVIL</cp:idTag><cp:idTagInfo><cp:status>Accepted</cp:status>"
                "</cp:idTagInfo></cp:localAuthorisationList><cp:hash>0000</cp:hash>"
                "</cp:sendLocalListRequest>"
            )
            unknown_station = await command("<cp:clearCacheRequest/>", cbid="NOBODY")
            not_15 = await command("<cp:triggerMessageRequest/>")
    assert answer == {"status": "Accepted"}
    assert version == {"listVersion": 3}
    assert set(st.local_auth.local_list) == {"LIST1", "LIST2"}
    assert tampered.findtext(f"{{{CP}}}status") == "HashError"
    assert "EVIL" not in st.local_auth.local_list
    for fault in (unknown_station, not_15):
        assert fault.tag == f"{{{SOAP12}}}Fault"
    assert unknown_station.findtext(f".//{{{SOAP12}}}Subcode/{{{SOAP12}}}Value") == (
        "IdentityMismatch"
    )
    assert not_15.findtext(f".//{{{SOAP12}}}Subcode/{{{SOAP12}}}Value") == "NotSupported"


async def test_the_central_system_down_sends_the_station_offline_and_back(
    store: Store, tmp_path: Path
):
    """Unreachable central system: the station queues, probes, and delivers once back."""
    await register_stations(store, ["S15DOWN"], outlets=1, mode="OPEN")
    async with open_rig(store, tmp_path) as rig:
        with trio.fail_after(30):
            st = await rig.station("S15DOWN", outlets=1, call_timeout=2.0)
            await st.wait_idle()
            real = st.settings.url
            st.settings.url = "http://127.0.0.1:9/Ocpp/CentralSystemService15"  # nothing there
            await st.plug_in(1, free=True)
            await st.wait_for(lambda: not st.online)
            assert len(st.txq) >= 1  # StartTransaction waits
            st.settings.url = real
            await st.wait_for(lambda: st.online)
            await st.wait_status(1, "Charging")
            await st.wait_idle()
            rows = await poll_until(lambda: sessions("S15DOWN"), store)
    assert len(rows) == 1
    assert st.boot_count == 1  # back online by a probe, not a new boot
