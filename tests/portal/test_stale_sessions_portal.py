"""A session whose StopTransaction was lost: flagged in Statistics, never the one stopped."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from db.ocpp.stale_sessions import STALE_STOP_REASON
from gateway import Gateway
from tests.gateway.ocpp_client import now_iso, open_station
from tests.portal.conftest import World, csrf_of, login, start_gateway


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery)


async def test_the_stale_session_is_flagged_and_remote_stop_targets_the_running_one(
    client: Any, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    port = int(gateway.test_url.split(":")[2].split("/")[0])  # type: ignore[attr-defined]
    await login(client, "admin@example.com")
    stop_calls: list[list[Any]] = []
    with trio.fail_after(15):
        async with open_station(port, "SOLNA-1") as station:
            starts = []
            for meter in (0, 700):  # the first StopTransaction is lost
                starts.append(
                    await station.result(
                        "StartTransaction",
                        {
                            "connectorId": 1,
                            "idTag": "1001",
                            "meterStart": meter,
                            "timestamp": now_iso(),
                        },
                    )
                )
            stale, running = (s["transactionId"] for s in starts)

            async def station_answers() -> None:
                call = await station.next_call()
                stop_calls.append(call)
                await station.answer(call, {"status": "Accepted"})

            nursery.start_soon(station_answers)
            stopped = await client.post(
                f"/api/v1/outlets/{world.solna_outlet_uuid}/stop",
                headers={"X-CSRF-Token": await csrf_of(client)},
            )
    assert starts[1]["idTagInfo"]["status"] == "Accepted"
    assert stopped.status_code == 200
    assert stop_calls[0][2] == "RemoteStopTransaction"
    assert stop_calls[0][3] == {"transactionId": running}
    sessions = await (await client.get("/api/v1/sessions?station=SOLNA-1")).get_json()
    by_id = {row["id"]: row for row in sessions["items"]}
    assert by_id[stale]["stale"] is True
    assert by_id[stale]["stop_reason"] == STALE_STOP_REASON
    assert by_id[stale]["state"] == "finished"
    assert by_id[running]["running"] is True
    page = await (await client.get("/statistics/?station=SOLNA-1")).get_data(as_text=True)
    assert page.count('data-testid="stale-session"') == 1


async def test_a_remote_start_is_not_refused_for_a_stale_session_on_the_station(
    client: Any, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    port = int(gateway.test_url.split(":")[2].split("/")[0])  # type: ignore[attr-defined]
    await login(client, "admin@example.com")
    calls: list[list[Any]] = []
    with trio.fail_after(15):
        async with open_station(port, "SOLNA-1") as station:
            await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "1001", "meterStart": 0, "timestamp": now_iso()},
            )  # ... and its StopTransaction is lost

            async def station_answers() -> None:
                call = await station.next_call()
                calls.append(call)
                await station.answer(call, {"status": "Accepted"})

            nursery.start_soon(station_answers)
            started = await client.post(
                f"/api/v1/outlets/{world.solna_outlet_uuid}/start",
                json={"idTag": "1001"},
                headers={"X-CSRF-Token": await csrf_of(client)},
            )
    assert started.status_code == 200, await started.get_data(as_text=True)
    assert calls[0][2] == "RemoteStartTransaction"
    assert calls[0][3] == {"connectorId": 1, "idTag": "1001"}
