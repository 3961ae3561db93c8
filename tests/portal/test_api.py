"""The JSON API: tokens, filters and paging, id tags, station passwords, OpenAPI."""

from __future__ import annotations

import re
from typing import Any

from db import Store, verify_password
from db.schema.models import ApiToken, Station
from gateway import CallErrorReply
from tests.portal.conftest import World, login, post


async def _admin_token(client: Any, role: str = "support", site_id: int | None = None) -> str:
    await login(client, "admin@example.com")
    form = {"name": "rig", "role": role, "site_id": str(site_id or "")}
    page = await post(client, "/provisioning/tokens", form)
    assert page.status_code == 201
    found = re.search(r'data-testid="token-secret">([^<]+)<', await page.get_data(as_text=True))
    assert found
    await post(client, "/logout")
    return found.group(1)


async def test_a_token_created_by_an_admin_authenticates_and_is_stored_hashed(
    app: Any, client: Any, store: Store, world: World
) -> None:
    secret = await _admin_token(client)
    bare = app.test_client()  # no cookies: only the token
    me = await bare.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert (await me.get_json())["role"] == "support"
    stored = await store.read(lambda: list(ApiToken.select().dicts()))
    assert len(stored) == 1
    assert secret not in str(stored)
    # a token holder needs no CSRF token: browsers never send it on their own
    changed = await bare.patch(
        "/api/v1/stations/SOLNA-1",
        json={"name": "Renamed"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert changed.status_code == 200
    assert (await changed.get_json())["name"] == "Renamed"


async def test_a_wrong_or_revoked_token_is_refused(
    app: Any, client: Any, store: Store, world: World
) -> None:
    secret = await _admin_token(client)
    bare = app.test_client()
    wrong = await bare.get("/api/v1/me", headers={"Authorization": "Bearer cpt_nope"})
    assert wrong.status_code == 401
    await login(client, "admin@example.com")
    token_id = await store.read(lambda: ApiToken.get().id)
    await post(client, f"/provisioning/tokens/{token_id}/revoke")
    revoked = await bare.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401


async def test_a_site_admin_token_sees_only_its_site(app: Any, client: Any, world: World) -> None:
    secret = await _admin_token(client, "site-admin", world.solna)
    bare = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    listed = await (await bare.get("/api/v1/stations", headers=headers)).get_json()
    assert {s["chargeBoxId"] for s in listed["items"]} == {"SOLNA-1", "SOLNA-2"}
    assert (await bare.get("/api/v1/stations/KISTA-1", headers=headers)).status_code == 404
    sites = await (await bare.get("/api/v1/sites", headers=headers)).get_json()
    assert [s["name"] for s in sites["items"]] == ["Solna"]


async def test_lists_filter_and_page(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    first = await (await client.get("/api/v1/stations?limit=2")).get_json()
    second = await (await client.get("/api/v1/stations?limit=2&offset=2")).get_json()
    assert first["total"] == second["total"] == 3
    names = [s["chargeBoxId"] for s in first["items"] + second["items"]]
    assert names == ["KISTA-1", "SOLNA-1", "SOLNA-2"]
    by_site = await (await client.get(f"/api/v1/stations?siteId={world.kista}")).get_json()
    assert [s["chargeBoxId"] for s in by_site["items"]] == ["KISTA-1"]
    offline = await (await client.get("/api/v1/stations?online=false")).get_json()
    assert offline["total"] == 3
    assert all(s["colour"] == "grey" for s in offline["items"])
    bad = await client.get("/api/v1/stations?limit=0")
    assert bad.status_code == 400
    assert (await bad.get_json())["field"] == "limit"


async def _api(client: Any, method: str, path: str, body: Any = None) -> Any:
    token = await _csrf(client)
    return await client.open(path, method=method, json=body, headers={"X-CSRF-Token": token})


async def _csrf(client: Any) -> str:
    from tests.portal.conftest import csrf_of

    return await csrf_of(client)


async def test_id_tags_are_stored_exactly_as_given_and_duplicates_conflict(
    client: Any, world: World
) -> None:
    await login(client, "admin@example.com")
    created = await _api(
        client,
        "POST",
        "/api/v1/id-tags",
        {"idTag": "100000C02", "status": "Accepted", "expiryDate": "2030-01-01T00:00:00Z"},
    )
    assert created.status_code == 201
    body = await created.get_json()
    assert body["idTag"] == "100000C02"  # not read as hexadecimal
    assert body["expiryDate"] == "2030-01-01T00:00:00Z"
    named = await _api(client, "POST", "/api/v1/id-tags", {"idTag": "TAG-001"})
    assert named.status_code == 201
    assert (await named.get_json())["idTag"] == "TAG-001"
    again = await _api(client, "POST", "/api/v1/id-tags", {"idTag": "100000C02"})
    assert again.status_code == 409
    for bad_tag in ("", "X" * 21, "TAB\tTAG", 42):
        refused = await _api(client, "POST", "/api/v1/id-tags", {"idTag": bad_tag})
        assert refused.status_code == 400, bad_tag
        answer = await refused.get_json()
        assert answer["field"] == "idTag"
        assert "1 to 20 printable ASCII characters" in answer["message"]
    blocked = await _api(client, "PATCH", "/api/v1/id-tags/100000C02", {"status": "Blocked"})
    assert (await blocked.get_json())["status"] == "Blocked"
    bad = await _api(client, "PATCH", "/api/v1/id-tags/100000C02", {"expiryDate": "soon"})
    assert bad.status_code == 400
    assert (await bad.get_json())["field"] == "expiryDate"


async def test_users_api_refuses_duplicates_and_weak_passwords(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    user = {"email": "new@example.com", "role": "ev-user", "password": "Abcdefg1", "rfid": "0x4D"}
    created = await _api(client, "POST", "/api/v1/users", user)
    assert created.status_code == 201
    assert (await created.get_json())["rfids"] == ["0x4D"]  # the API converts nothing
    dup = await _api(client, "POST", "/api/v1/users", {**user, "rfid": "78"})
    assert dup.status_code == 409
    assert (await dup.get_json())["field"] == "email"
    weak = await _api(
        client, "POST", "/api/v1/users", {**user, "email": "w@example.com", "password": "abcdefgh"}
    )
    assert weak.status_code == 400
    assert (await weak.get_json())["field"] == "password"


async def test_a_station_password_is_stored_hashed(client: Any, store: Store, world: World) -> None:
    await login(client, "support@example.com")
    answer = await _api(
        client,
        "PUT",
        "/api/v1/stations/SOLNA-1/password",
        {"generate": True, "sendToStation": False},  # SOLNA-1 is not connected
    )
    assert answer.status_code == 200
    password = (await answer.get_json())["password"]
    stored = await store.read(lambda: Station.get(Station.charge_box_id == "SOLNA-1").password_hash)
    assert stored != password
    assert verify_password(stored, password)
    short = await _api(client, "PUT", "/api/v1/stations/SOLNA-1/password", {"password": "x"})
    assert short.status_code == 400


async def test_openapi_describes_every_api_route(app: Any, client: Any) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).get_json()
    assert doc["openapi"].startswith("3.1")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1") :])
        assert path in doc["paths"], path
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], (method, path)
    command = doc["paths"]["/stations/{cbid}/commands/{action}"]["post"]
    action = next(p for p in command["parameters"] if p["name"] == "action")
    assert "remote-start-transaction" in action["schema"]["enum"]
    assert {"400", "404", "409", "502", "504"} <= set(command["responses"])
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_a_call_error_becomes_502_with_its_code(app: Any) -> None:
    from portal.api import _to_json

    async with app.test_request_context("/api/v1/stations/X/commands/reset", method="POST"):
        response = _to_json(CallErrorReply("NotSupported", "no resets here"))
    assert response.status_code == 502
    body = await response.get_json()
    assert body["code"] == "NotSupported"
    assert body["description"] == "no resets here"


async def test_openapi_request_bodies_name_their_required_fields(client: Any) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).get_json()
    start = doc["paths"]["/outlets/{uuid}/start"]["post"]["requestBody"]
    assert start["content"]["application/json"]["schema"]["required"] == ["idTag"]
    tag = doc["paths"]["/id-tags"]["post"]["requestBody"]["content"]["application/json"]
    assert tag["schema"]["properties"]["status"]["enum"] == [
        "Accepted",
        "Blocked",
        "Expired",
        "Invalid",
    ]
