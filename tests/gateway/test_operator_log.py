"""An operator follows a station in the log: one structured INFO line per happening,
the station id first."""

from __future__ import annotations

import logging

import pytest
import trio
from trio_websocket import ConnectionRejected

from gateway import Gateway
from tests.gateway.conftest import add_id_tag, add_station
from tests.gateway.ocpp_client import now_iso, open_station

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox"}


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "chargeportal.stations" and r.levelno >= logging.INFO
    ]


async def test_connections_boots_refusals_transactions_and_commands_get_one_line_each(
    gateway: Gateway, port: int, db_write, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chargeportal.stations")
    await db_write(add_station, "CP1", password="a-long-station-secret")
    await db_write(add_id_tag, "TAG1")
    with trio.fail_after(10):
        for cbid, password in (("NOBODY", None), ("CP1", "wrong-password-123")):
            with pytest.raises(ConnectionRejected):
                async with open_station(port, cbid, password=password):
                    pass
        async with open_station(port, "CP1", password="a-long-station-secret") as station:
            await station.result("BootNotification", BOOT)
            start = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG1", "meterStart": 10, "timestamp": now_iso()},
            )
            await station.result(
                "StopTransaction",
                {"transactionId": start["transactionId"], "meterStop": 50, "timestamp": now_iso()},
            )

            async def answer() -> None:
                await station.answer(await station.next_call(), {"status": "Accepted"})

            async with trio.open_nursery() as nursery:
                nursery.start_soon(answer)
                await gateway.call("CP1", "ClearCache", {})
    logged = lines(caplog)
    tx = start["transactionId"]
    expected = [
        'NOBODY handshake.refused why="not registered"',
        'CP1 handshake.refused why=auth detail="bad password"',
        "CP1 station.connected peer=127.0.0.1:",
        "CP1 station.booted status=Accepted vendor=Acme model=Wallbox",
        f"CP1 transaction.started connector=1 transactionId={tx} idTag=TAG1 meterStart=10",
        f"CP1 transaction.stopped connector=1 transactionId={tx} meterStop=50 energyWh=40",
        "CP1 command.done action=ClearCache status=Accepted",
    ]
    for prefix in expected:
        assert any(line.startswith(prefix) for line in logged), (prefix, logged)
