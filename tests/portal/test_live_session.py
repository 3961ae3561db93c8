"""The live event stream re-checks who is listening: a deleted, demoted or logged-out
account stops receiving within the re-check interval (issue 11 point 11; it used to
receive for up to an hour)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

from db import Store
from db.accounts.accounts import delete_user, update_user
from db.schema.models import User
from gateway import Gateway, LiveEvent
from tests.portal.conftest import World, login, post

RECHECK = 0.3


async def _station_events_until_the_end(
    app: Any, client: Any, gateway: Gateway, change: Callable[[], Awaitable[None]]
) -> tuple[list[bytes], list[float], float | None]:
    """Open the stream, see one event arrive, ``change`` the account, then publish an
    event every 20 ms for six re-check intervals: (chunks before the change, seconds
    after the change at which station events still arrived, seconds after the change
    at which the stream ended, or None)."""
    app.config["PORTAL_SSE_RECHECK_SECONDS"] = RECHECK
    app.config["PORTAL_SSE_MAX_SECONDS"] = RECHECK * 10  # so that every stream ends
    site = int(app.config["TEST_SOLNA"])
    before: list[bytes] = []
    arrivals: list[float] = []
    ended: float | None = None

    def publish() -> None:
        gateway.events.publish(LiveEvent("connector.status", "SOLNA-1", {}, site_id=site))

    async with client.request("/events/stations") as connection:
        await connection.send_complete()
        with trio.fail_after(10):
            before.append(await connection.receive())  # retry: …
            while b"event: station" not in b"".join(before):
                publish()
                with trio.move_on_after(0.1):
                    before.append(await connection.receive())
        await change()
        changed = trio.current_time()

        async def keep_publishing() -> None:
            while True:
                publish()
                await trio.sleep(0.02)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(keep_publishing)
            with trio.move_on_after(RECHECK * 6):
                try:
                    while True:
                        chunk = await connection.receive()
                        if b"event: station" in chunk:
                            arrivals.append(trio.current_time() - changed)
                except trio.EndOfChannel:
                    ended = trio.current_time() - changed
            nursery.cancel_scope.cancel()
        with trio.fail_after(10):  # the stream that was not stopped ends at its maximum
            while ended is None:
                try:
                    await connection.receive()
                except trio.EndOfChannel:
                    break
    return before, arrivals, ended


@pytest.mark.parametrize("change", ["deleted", "demoted", "moved to another site", "logged out"])
async def test_the_stream_stops_for_an_account_that_lost_its_right(
    app: Any, client: Any, gateway: Gateway, store: Store, world: World, change: str
) -> None:
    app.config["TEST_SOLNA"] = world.solna
    await login(client, "site-admin@example.com")
    user_id = world.users["site-admin"]

    async def act() -> None:
        if change == "deleted":
            await store.write(delete_user, user_id)
        elif change == "demoted":
            await store.write(update_user, user_id, {"role": "ev-user"})
        elif change == "moved to another site":
            await store.write(update_user, user_id, {"site_id": world.kista})
        else:
            assert (await post(client, "/logout")).status_code == 302

    before, arrivals, ended = await _station_events_until_the_end(app, client, gateway, act)
    assert b"event: station" in b"".join(before)
    assert ended is not None
    assert ended <= 2 * RECHECK
    assert all(seconds <= RECHECK * 1.5 for seconds in arrivals)


async def test_the_stream_keeps_going_for_an_account_that_still_may_listen(
    app: Any, client: Any, gateway: Gateway, store: Store, world: World
) -> None:
    app.config["TEST_SOLNA"] = world.solna
    await login(client, "site-admin@example.com")

    async def rename() -> None:  # a harmless change: the same person, role and site
        await store.write(
            lambda: (
                User.update(first_name="Renamed")
                .where(User.id == world.users["site-admin"])
                .execute()
            )
        )

    _before, arrivals, ended = await _station_events_until_the_end(app, client, gateway, rename)
    assert ended is None
    assert max(arrivals) > RECHECK * 5  # still delivering long after several re-checks
