"""A SOAP client that is not ours (zeep, built from the official OCPP 1.5 WSDL) drives a
charging session through /Ocpp/CentralSystemService15; the database is checked after."""

from __future__ import annotations

import datetime as dt
from typing import Any

import trio
import zeep
from zeep.plugins import HistoryPlugin

from db import Store
from db.schema.models import ChargingSession, MeterSample, Station
from tests.gateway.conftest import add_id_tag, add_station
from tests.gateway.ocpp15_rig import WSDL, checked, running

SERVICE = "{urn://Ocpp/Cs/2012/06/}CentralSystemServiceSoap"


def _session(url: str, history: HistoryPlugin) -> dict[str, Any]:
    client = zeep.Client(WSDL, plugins=[history])
    cs = client.create_service(SERVICE, url)
    head = {"_soapheaders": {"ChargeBoxIdentity": "ZEEP1"}}
    seen: dict[str, Any] = {}

    def call(name: str, **kwargs: Any) -> Any:
        answer = getattr(cs, name)(**kwargs, **head)
        # every request and answer, checked against the official schemas
        checked(zeep_bytes(history.last_sent["envelope"]))
        checked(zeep_bytes(history.last_received["envelope"]))
        return answer

    t0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
    seen["boot"] = call("BootNotification", chargePointVendor="Acme", chargePointModel="Old15")
    seen["auth"] = call("Authorize", idTag="TAG15")
    seen["start"] = call(
        "StartTransaction", connectorId=1, idTag="TAG15", timestamp=t0, meterStart=1000
    )
    tx = seen["start"].transactionId
    call(
        "MeterValues",
        connectorId=1,
        transactionId=tx,
        values=[
            {
                "timestamp": t0 + dt.timedelta(minutes=10),
                "value": [
                    {"_value_1": "2.5", "unit": "kWh", "measurand": "Energy.Active.Import.Register"}
                ],
            }
        ],
    )
    seen["stop"] = call(
        "StopTransaction",
        transactionId=tx,
        idTag="TAG15",
        timestamp=t0 + dt.timedelta(minutes=20),
        meterStop=4000,
        transactionData=[
            {
                "values": [
                    {"timestamp": t0 + dt.timedelta(minutes=20), "value": [{"_value_1": "4000"}]}
                ]
            }
        ],
    )
    seen["heartbeat"] = call("Heartbeat")
    return seen


def zeep_bytes(envelope: Any) -> bytes:
    from lxml import etree

    return bytes(etree.tostring(envelope))


async def test_a_zeep_station_boots_authorizes_charges_and_stops(store: Store) -> None:
    await store.write(lambda: add_station("ZEEP1", outlets=2))
    await store.write(lambda: add_id_tag("TAG15"))
    async with running(store) as rig:
        history = HistoryPlugin()
        seen = await trio.to_thread.run_sync(_session, rig.url, history)
        assert seen["boot"].status == "Accepted"
        assert seen["boot"].heartbeatInterval > 0
        assert seen["auth"].status == "Accepted"  # zeep unwraps the lone idTagInfo
        assert seen["start"].idTagInfo.status == "Accepted"
        assert rig.gateway.is_online("ZEEP1")

    def rows() -> tuple[Any, ...]:
        session = ChargingSession.get(ChargingSession.charge_box_id == "ZEEP1")
        samples = list(MeterSample.select().where(MeterSample.session == session))
        return session, samples, Station.get(Station.charge_box_id == "ZEEP1")

    session, samples, station = await store.read(rows)
    assert session.id == seen["start"].transactionId
    assert (session.meter_start, session.meter_stop, session.energy_wh) == (1000, 4000, 3000)
    assert session.end_time is not None
    assert {(s.value, s.unit) for s in samples} >= {("2.5", "kWh")}
    assert station.vendor == "Acme"
