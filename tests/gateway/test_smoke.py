"""Quick end-to-end: a station boots and charges."""

from __future__ import annotations

import trio

from db.schema.models import ChargingSession
from gateway import Gateway
from tests.gateway.conftest import add_id_tag, add_station
from tests.gateway.ocpp_client import now_iso, open_station


async def test_station_boots_and_charges(gateway: Gateway, port: int, db_write, store) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1", email="ev@example.com")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            boot = await station.result(
                "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}
            )
            assert boot["status"] == "Accepted"
            start = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000, "timestamp": now_iso()},
            )
            tx = start["transactionId"]
            assert start["idTagInfo"]["status"] == "Accepted"
            await station.result(
                "StopTransaction", {"transactionId": tx, "meterStop": 4500, "timestamp": now_iso()}
            )
    session = await store.read(lambda: ChargingSession.get_by_id(tx))
    assert session.energy_wh == 3500
    assert session.user_email == "ev@example.com"
