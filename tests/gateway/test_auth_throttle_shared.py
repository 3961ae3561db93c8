"""Wrong station passwords are recorded in the database: a restarted gateway still
refuses the guessing station, and a right password clears the record."""

from __future__ import annotations

import trio

from db import Store
from db.schema.models import AuthFailure
from gateway import Gateway, GatewayConfig
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.test_refused_clients import status_of

CONFIG = GatewayConfig(
    **{
        **TEST_CONFIG.__dict__,
        "refusal_interval": 3600.0,
        "auth_failures_per_station": 3,
        "auth_failures_per_address": 50,
        "auth_failure_window": 30.0,
    }
)


async def serving(store: Store, nursery: trio.Nursery) -> tuple[Gateway, int]:
    gateway = Gateway(store, config=CONFIG)
    await nursery.start(gateway.serve, "127.0.0.1", 0)
    assert gateway.port is not None
    return gateway, gateway.port


async def test_a_restarted_gateway_still_throttles_a_guessing_station(store: Store) -> None:
    await store.write(lambda: add_station("CP1", password="right-password-1"))
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            _, port = await serving(store, nursery)
            codes = [await status_of(port, "CP1", password=f"guess{n}") for n in range(4)]
            assert codes == [401, 401, 401, 429]
            nursery.cancel_scope.cancel()
        async with trio.open_nursery() as nursery:  # the gateway restarts
            restarted, port = await serving(store, nursery)
            assert await status_of(port, "CP1", password="right-password-1") == 429
            assert restarted.statistics()["passwordChecks"] == 0
            nursery.cancel_scope.cancel()


async def test_a_right_password_clears_the_recorded_failures(store: Store) -> None:
    await store.write(lambda: add_station("CP1", password="right-password-1"))
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            _, port = await serving(store, nursery)
            assert await status_of(port, "CP1", password="guess") == 401
            count = await store.read(lambda: AuthFailure.select().count())
            assert count == 2  # per station and per address
            assert await status_of(port, "CP1", password="right-password-1") == 101
            keys = await store.read(lambda: [f.key for f in AuthFailure.select()])
            assert keys == ["ip:127.0.0.1"]  # the address's count stays
            nursery.cancel_scope.cancel()


async def test_a_second_gateway_process_learns_of_the_failures_within_seconds(
    store: Store,
) -> None:
    await store.write(lambda: add_station("CP1", password="right-password-1"))
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            _, first = await serving(store, nursery)
            second_gateway = Gateway(store, config=CONFIG)
            second_gateway.auth_refresh_seconds = 0.2
            await nursery.start(second_gateway.serve, "127.0.0.1", 0)
            second = second_gateway.port
            assert second is not None
            codes = [await status_of(first, "CP1", password=f"guess{n}") for n in range(3)]
            assert codes == [401, 401, 401]
            await trio.sleep(0.6)  # its refresh runs every 0.2 s (no event to wait for)
            assert await status_of(second, "CP1", password="right-password-1") == 429
            assert second_gateway.statistics()["passwordChecks"] == 0
            nursery.cancel_scope.cancel()
