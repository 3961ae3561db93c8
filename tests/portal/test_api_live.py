"""The JSON API against the real gateway and a simulated station."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import ChargingSession, IdTag, Outlet
from gateway import Gateway
from simulator import SimulatedStation
from tests.portal.conftest import World, csrf_of, login, simulated_station, start_gateway


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery, command_timeout=1.0)


async def _station(nursery: trio.Nursery, gateway: Gateway, cbid: str) -> SimulatedStation:
    station = simulated_station(gateway, cbid)
    await nursery.start(station.run)
    await station.wait_online()
    return station


async def _api(client: Any, method: str, path: str, body: Any = None) -> Any:
    token = await csrf_of(client)
    return await client.open(path, method=method, json=body, headers={"X-CSRF-Token": token})


async def test_commands_reach_the_station_and_errors_map_to_statuses(
    client: Any, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    with trio.fail_after(20):
        station = await _station(nursery, gateway, "SOLNA-1")
        await login(client, "support@example.com")
        base = "/api/v1/stations"
        answer = await _api(
            client,
            "POST",
            f"{base}/SOLNA-1/commands/get-configuration",
            {"key": ["HeartbeatInterval"]},
        )
        assert answer.status_code == 200
        keys = (await answer.get_json())["configurationKey"]
        assert keys[0]["key"] == "HeartbeatInterval"
        bad = await _api(client, "POST", f"{base}/SOLNA-1/commands/reset", {"type": "Gentle"})
        assert bad.status_code == 400
        assert (await bad.get_json())["error"] == "schema"
        offline = await _api(client, "POST", f"{base}/SOLNA-2/commands/clear-cache", {})
        assert offline.status_code == 409
        unknown = await _api(client, "POST", f"{base}/NOPE/commands/clear-cache", {})
        assert unknown.status_code == 404
        station.faults.drop_answers = 1
        timeout = await _api(client, "POST", f"{base}/SOLNA-1/commands/clear-cache", {})
        assert timeout.status_code == 504


async def test_start_and_stop_charging_on_an_outlet_by_its_uuid(
    client: Any, gateway: Gateway, store: Store, world: World, nursery: trio.Nursery
) -> None:
    with trio.fail_after(20):
        station = await _station(nursery, gateway, "SOLNA-1")
        await station.plug_in(1)
        await login(client, "admin@example.com")
        outlet = f"/api/v1/outlets/{world.solna_outlet_uuid}"
        started = await _api(client, "POST", f"{outlet}/start", {"idTag": "1001"})
        assert started.status_code == 200
        assert (await started.get_json())["answer"]["status"] == "Accepted"
        await station.wait_status(1, "Charging")
        live = await (await client.get(outlet)).get_json()
        assert live["colour"] == "blue"
        station_view = await (await client.get("/api/v1/stations/SOLNA-1")).get_json()
        assert station_view["online"] is True
        assert station_view["live"]["connectors"]["1"]["status"] == "Charging"
        stopped = await _api(client, "POST", f"{outlet}/stop", {})
        assert stopped.status_code == 200
        assert (await stopped.get_json())["answer"]["status"] == "Accepted"
        await station.wait_for(lambda: station.outlet(1).transaction is None)
        await station.wait_idle()
    rows = await store.read(
        lambda: list(ChargingSession.select().where(ChargingSession.charge_box_id == "SOLNA-1"))
    )
    mine = [r for r in rows if r.id != world.ev_session]
    assert len(mine) == 1
    assert mine[0].end_time is not None
    assert mine[0].stop_reason == "Remote"


async def test_a_remote_start_for_a_badge_the_gateway_would_refuse_is_not_sent(
    client: Any, gateway: Gateway, store: Store, world: World, nursery: trio.Nursery
) -> None:
    """Else the station answers Accepted and the session stops at once (DeAuthorized)."""
    with trio.fail_after(20):
        station = await _station(nursery, gateway, "SOLNA-1")
        await station.plug_in(1)
        await login(client, "admin@example.com")
        await store.write(
            lambda: IdTag.update(status="Blocked").where(IdTag.id_tag == "1001").execute()
        )
        outlet = f"/api/v1/outlets/{world.solna_outlet_uuid}"
        calls = gateway.statistics()["commands"]
        for tag, status in (("1001", "Blocked"), ("NOBODY", "Invalid")):
            refused = await _api(client, "POST", f"{outlet}/start", {"idTag": tag})
            body = await refused.get_json()
            assert (refused.status_code, body["error"], body["tagStatus"]) == (
                409,
                "tag-refused",
                status,
            )
        control = await _api(
            client,
            "POST",
            "/api/v1/stations/SOLNA-1/control/remote-start",
            {"connectorId": 1, "idTag": "1001"},
        )
        assert control.status_code == 409
        assert "Blocked" in (await control.get_json())["message"]
        assert gateway.statistics()["commands"] == calls  # nothing reached the station
        # an OPEN outlet charges anyone: the same badge is sent there
        await store.write(
            lambda: Outlet.update(mode="OPEN").where(Outlet.id == world.solna_outlet).execute()
        )
        opened = await _api(client, "POST", f"{outlet}/start", {"idTag": "1001"})
        assert (await opened.get_json())["answer"]["status"] == "Accepted"


async def test_a_badge_blocked_in_the_portal_is_refused_at_the_station(
    client: Any, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    from tests.portal.conftest import post

    with trio.fail_after(20):
        station = await _station(nursery, gateway, "SOLNA-2")
        await login(client, "admin@example.com")
        blocked = await post(client, "/provisioning/tags/1001/edit", {"status": "Blocked"})
        assert blocked.status_code == 302
        assert (await station.authorize("1001"))["status"] == "Blocked"
        expired = {"status": "Accepted", "expiry": "2020-01-01T00:00"}
        await post(client, "/provisioning/tags/1001/edit", expired)
        assert (await station.authorize("1001"))["status"] == "Expired"
