"""The command route's one deadline: ``?timeout=SECONDS``, and a 504 saying what was sent."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from gateway import Gateway
from tests.portal.conftest import World, csrf_of, login, simulated_station, start_gateway


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery, command_timeout=30.0)


async def _post(client: Any, path: str, body: Any) -> Any:
    token = await csrf_of(client)
    return await client.post(path, json=body, headers={"X-CSRF-Token": token})


async def test_a_timeout_in_the_url_bounds_the_wait_and_the_answer_says_it_was_sent(
    client: Any, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    with trio.fail_after(20):
        station = simulated_station(gateway, "SOLNA-1")
        await nursery.start(station.run)
        await station.wait_online()
        await login(client, "support@example.com")
        station.faults.drop_answers = 1
        started = trio.current_time()
        late = await _post(client, "/api/v1/stations/SOLNA-1/commands/clear-cache?timeout=0.5", {})
        took = trio.current_time() - started
        body = await late.get_json()
    assert late.status_code == 504
    assert body["sent"] is True
    assert "did not answer" in body["message"]
    assert took < 5  # the gateway's default would have been 30 s


@pytest.mark.parametrize("value", ["0", "-1", "soon", "301"])
async def test_a_timeout_that_is_not_a_sensible_number_is_refused(
    client: Any, gateway: Gateway, world: World, value: str
) -> None:
    await login(client, "support@example.com")
    answer = await _post(
        client, f"/api/v1/stations/SOLNA-1/commands/clear-cache?timeout={value}", {}
    )
    assert answer.status_code == 400
    assert (await answer.get_json())["field"] == "timeout"
