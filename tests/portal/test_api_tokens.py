"""API tokens live no longer than the administrator who made them, and may expire
(issue 11 point 10): a token used to outlive its maker's account."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from db import Store
from db.accounts.accounts import delete_user, update_user
from db.schema.models import ApiToken, User, utcnow
from tests.portal.conftest import World, login, password_hash, post


async def _second_admin(store: Store) -> int:
    return await store.write(
        lambda: (
            User.create(email="admin2@example.com", role="admin", password_hash=password_hash()).id
        )
    )


async def _token_made_by(client: Any, email: str, **form: str) -> str:
    await login(client, email)
    page = await post(client, "/provisioning/tokens", {"name": "rig", "role": "support", **form})
    html = await page.get_data(as_text=True)
    assert page.status_code == 201, html
    found = re.search(r'data-testid="token-secret">([^<]+)<', html)
    assert found
    await post(client, "/logout")
    return found.group(1)


async def _status(app: Any, secret: str) -> int:
    answer = await app.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    return int(answer.status_code)


async def _listed(app: Any, client: Any) -> list[dict[str, Any]]:
    await login(client, "admin@example.com")
    answer = await client.get("/api/v1/tokens")
    assert answer.status_code == 200
    return list((await answer.get_json())["items"])


async def test_a_token_dies_with_the_account_that_made_it(
    app: Any, client: Any, store: Store, world: World
) -> None:
    maker = await _second_admin(store)
    secret = await _token_made_by(client, "admin2@example.com")
    assert await _status(app, secret) == 200
    await login(client, "admin@example.com")
    assert (await post(client, f"/provisioning/users/{maker}/delete")).status_code == 302
    assert await _status(app, secret) == 401
    [token] = await _listed(app, client)
    assert token["state"] == "revoked"


@pytest.mark.parametrize("role", ["support", "site-admin", "ev-user"])
async def test_a_token_is_disabled_while_its_maker_is_no_longer_an_administrator(
    app: Any, client: Any, store: Store, world: World, role: str
) -> None:
    maker = await _second_admin(store)
    secret = await _token_made_by(client, "admin2@example.com")
    site = {"site_id": world.solna} if role != "support" else {}
    await store.write(update_user, maker, {"role": role, **site})
    assert await _status(app, secret) == 401
    [token] = await _listed(app, client)
    assert (token["state"], token["createdBy"]) == ("disabled", "admin2@example.com")
    await store.write(update_user, maker, {"role": "admin", "site_id": None})
    assert await _status(app, secret) == 200  # disabled, not destroyed


async def test_a_token_with_an_expiry_stops_working_when_it_passes(
    app: Any, client: Any, store: Store, world: World
) -> None:
    secret = await _token_made_by(client, "admin@example.com", expires_at="2099-01-31T12:00")
    assert await _status(app, secret) == 200
    [token] = await _listed(app, client)
    assert token["expiresAt"] == "2099-01-31T12:00:00Z"  # tests run with the system zone UTC
    page = await client.get("/provisioning/tokens")
    html = await page.get_data(as_text=True)
    assert 'data-testid="token-expires"' in html
    assert "2099-01-31 12:00" in html
    # time passes (the row is moved into the past rather than the test sleeping)
    await store.write(
        lambda: ApiToken.update(expires_at=utcnow() - dt.timedelta(minutes=1)).execute()
    )
    assert await _status(app, secret) == 401
    [token] = await _listed(app, client)
    assert token["state"] == "expired"
    assert "expired" in await (await client.get("/provisioning/tokens")).get_data(as_text=True)


async def test_a_token_without_an_expiry_never_expires_and_says_so(
    app: Any, client: Any, store: Store, world: World
) -> None:
    secret = await _token_made_by(client, "admin@example.com")
    [token] = await _listed(app, client)
    assert (token["expiresAt"], token["state"]) == (None, "active")
    assert await _status(app, secret) == 200


async def test_an_expiry_in_the_past_is_refused_next_to_the_field(
    client: Any, world: World
) -> None:
    await login(client, "admin@example.com")
    page = await post(
        client,
        "/provisioning/tokens",
        {"name": "rig", "role": "support", "expires_at": "2001-01-01T00:00"},
    )
    assert page.status_code == 400
    assert "must lie in the future" in await page.get_data(as_text=True)


async def test_the_api_makes_lists_and_revokes_tokens_with_an_expiry(
    app: Any, client: Any, store: Store, world: World
) -> None:
    maker = await _second_admin(store)
    await login(client, "admin2@example.com")
    made = await client.post(
        "/api/v1/tokens",
        json={"name": "billing", "role": "support", "expiresAt": "2099-06-01T00:00:00Z"},
        headers={"X-CSRF-Token": await _csrf(client)},
    )
    assert made.status_code == 201
    body = await made.get_json()
    assert (body["expiresAt"], body["state"]) == ("2099-06-01T00:00:00Z", "active")
    secret = body["token"]
    # a token made by that token has the same maker, and dies with him too
    child = await app.test_client().post(
        "/api/v1/tokens",
        json={"name": "child", "role": "admin"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert child.status_code == 403  # a support token may not make tokens
    bad = await client.post(
        "/api/v1/tokens",
        json={"name": "x", "role": "support", "expiresAt": "yesterday"},
        headers={"X-CSRF-Token": await _csrf(client)},
    )
    assert (bad.status_code, (await bad.get_json())["field"]) == (400, "expiresAt")
    await store.write(delete_user, maker)
    assert await _status(app, secret) == 401
    listed = {t["name"]: t for t in await _listed(app, client)}
    assert listed["billing"]["state"] == "revoked"
    gone = await client.delete(
        f"/api/v1/tokens/{body['id']}", headers={"X-CSRF-Token": await _csrf(client)}
    )
    assert gone.status_code == 204


async def test_an_admin_token_makes_a_token_that_dies_with_the_same_maker(
    app: Any, client: Any, store: Store, world: World
) -> None:
    maker = await _second_admin(store)
    await login(client, "admin2@example.com")
    page = await post(client, "/provisioning/tokens", {"name": "root", "role": "admin"})
    found = re.search(r'data-testid="token-secret">([^<]+)<', await page.get_data(as_text=True))
    assert found
    child = await app.test_client().post(
        "/api/v1/tokens",
        json={"name": "child", "role": "support"},
        headers={"Authorization": f"Bearer {found.group(1)}"},
    )
    assert child.status_code == 201
    child_secret = (await child.get_json())["token"]
    assert await _status(app, child_secret) == 200
    await store.write(delete_user, maker)
    assert await _status(app, child_secret) == 401


async def _csrf(client: Any) -> str:
    from tests.portal.conftest import csrf_of

    return await csrf_of(client)
