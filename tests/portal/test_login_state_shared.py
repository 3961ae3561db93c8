"""Failed logins and logged-out cookies are in the database: a restarted portal, or a
second portal process on the same database, still refuses them; old ones expire."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db import open_store
from db.accounts.auth_failures import purge_expired, record_failure, revoke_session
from db.schema.models import AuthFailure, RevokedSession, utcnow
from gateway import Gateway
from portal import create_app
from tests.portal.conftest import PASSWORD, login, password_hash, post, seed_world

CONFIG = {"SECRET_KEY": "test-secret", "TESTING": True, "PORTAL_LOGIN_FAILURES_PER_ACCOUNT": 3}


def portal(store: Any) -> Any:
    """A portal process of its own: its own app, memory and throttle."""
    return create_app(store, Gateway(store), config=dict(CONFIG))


async def test_the_login_throttle_holds_across_a_restart(db_url: str) -> None:
    async with open_store(db_url) as store:
        world = await store.write(seed_world, password_hash())
        async with portal(store).test_app() as running:
            client = running.test_client()
            for _ in range(3):
                answer = await login(client, world.emails["admin"], "Wrong-password-1")
                assert answer.status_code == 401
            assert (await login(client, world.emails["admin"])).status_code == 429
    # the server stops; a new one starts on the same database
    async with open_store(db_url) as store, portal(store).test_app() as restarted:
        client = restarted.test_client()
        answer = await login(client, world.emails["admin"], PASSWORD)
        assert answer.status_code == 429  # the right password too, until the window ends
        assert "Too many failed logins" in await answer.get_data(as_text=True)
        other = await login(client, world.emails["support"])
        assert other.status_code == 302  # other accounts are not affected


async def test_a_second_process_counts_the_failures_of_the_first(db_url: str) -> None:
    async with open_store(db_url) as store:
        world = await store.write(seed_world, password_hash())
        first, second = portal(store), portal(store)
        async with first.test_app() as one, second.test_app() as two:
            a, b = one.test_client(), two.test_client()
            await login(a, world.emails["admin"], "Wrong-password-1")
            await login(b, world.emails["admin"], "Wrong-password-2")
            await login(a, world.emails["admin"], "Wrong-password-3")
            assert (await login(b, world.emails["admin"])).status_code == 429


async def test_a_right_password_clears_the_account_for_every_process(db_url: str) -> None:
    async with open_store(db_url) as store:
        world = await store.write(seed_world, password_hash())
        async with portal(store).test_app() as one, portal(store).test_app() as two:
            a, b = one.test_client(), two.test_client()
            await login(a, world.emails["admin"], "Wrong-password-1")
            await login(a, world.emails["admin"], "Wrong-password-2")
            assert (await login(b, world.emails["admin"])).status_code == 302
            await login(a, world.emails["admin"], "Wrong-password-3")
            assert (await login(a, world.emails["admin"])).status_code == 302


async def test_a_logged_out_cookie_is_refused_after_a_restart(db_url: str) -> None:
    async with open_store(db_url) as store:
        world = await store.write(seed_world, password_hash())
        async with portal(store).test_app() as running:
            client = running.test_client()
            response = await login(client, world.emails["admin"])
            cookie = next(
                c.split(";")[0].split("=", 1)[1]
                for c in response.headers.get_all("Set-Cookie")
                if c.startswith("cp_session=")
            )
            await post(client, "/logout")
    async with open_store(db_url) as store, portal(store).test_app() as restarted:
        thief = restarted.test_client()
        thief.set_cookie("localhost", "cp_session", cookie)
        assert (await thief.get("/settings/")).status_code == 302


async def test_expired_failures_and_cookies_are_purged(db_url: str) -> None:
    async with open_store(db_url) as store:
        now = utcnow()
        await store.write(
            record_failure, "portal", ["a:old@example.com"], now - dt.timedelta(days=2)
        )
        await store.write(record_failure, "portal", ["a:new@example.com"], now)
        await store.write(revoke_session, "old-cookie", 60, now - dt.timedelta(hours=1))
        await store.write(revoke_session, "new-cookie", 3600, now)
        assert await store.write(purge_expired) == 2
        keys = await store.read(lambda: [f.key for f in AuthFailure.select()])
        assert keys == ["a:new@example.com"]
        assert await store.read(lambda: RevokedSession.select().count()) == 1
