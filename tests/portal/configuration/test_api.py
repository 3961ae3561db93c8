"""The configuration and schedule API with a bearer token: what pages do, as JSON."""

from __future__ import annotations

from typing import Any

import pytest

from db import Store
from db.accounts.api_tokens import create_token
from db.schema.models import Outlet, Station
from filestore.jpeg import demo_floor_plan, encode_blocks
from tests.filestore.test_jpeg import declaring
from tests.portal.conftest import World


async def _token(store: Store, role: str, site: int | None = None) -> dict[str, str]:
    _, secret = await store.write(lambda: create_token("t", role, site, None))
    return {"Authorization": f"Bearer {secret}"}


async def test_settings_and_services_are_the_administrators(
    client: Any, world: World, store: Store
) -> None:
    admin = await _token(store, "admin")
    support = await _token(store, "support")
    changed = await client.put(
        "/api/v1/settings", json={"system.name": "Fleet", "ftp.mode": "external"}, headers=admin
    )
    assert changed.status_code == 200
    assert (await changed.get_json())["system.name"] == "Fleet"
    bad = await client.put("/api/v1/settings", json={"ftp.mode": "cloud"}, headers=admin)
    assert (bad.status_code, (await bad.get_json())["field"]) == (400, "ftp.mode")
    assert (await client.put("/api/v1/settings", json={}, headers=support)).status_code == 403
    services = (await (await client.get("/api/v1/services", headers=support)).get_json())["items"]
    assert {s["kind"] for s in services} == {"map", "payment"}
    enabled = await client.put(
        f"/api/v1/services/{services[0]['id']}", json={"enabled": True}, headers=admin
    )
    assert (await enabled.get_json())["enabled"] is True


async def test_firmware_images_are_uploaded_listed_served_and_deleted(
    client: Any, world: World, store: Store
) -> None:
    support = await _token(store, "support")
    site_admin = await _token(store, "site-admin", world.solna)
    image = b"VERSION=9.9\n" + b"\x01" * 100
    created = await client.post(
        "/api/v1/firmware?filename=../../evil.bin&version=9.9", data=image, headers=support
    )
    assert created.status_code == 201
    body = await created.get_json()
    assert body["filename"] == "evil.bin"
    served = await client.get("/files/firmware/evil.bin")
    assert (served.status_code, await served.get_data()) == (200, image)
    assert (await client.get("/files/firmware/..%2F..%2Fpyproject.toml")).status_code == 404
    assert (await client.get("/api/v1/firmware", headers=site_admin)).status_code == 403
    listed = await (await client.get("/api/v1/firmware", headers=support)).get_json()
    assert [i["version"] for i in listed["items"]] == ["9.9"]
    gone = await client.delete(f"/api/v1/firmware/{body['id']}", headers=support)
    assert gone.status_code == 200
    assert (await client.get("/files/firmware/evil.bin")).status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 400, "PNG image"),
        (encode_blocks([[100] * 2] * 2, comment=b"c" * (3 * 1024 * 1024)), 400, "at most 2 MB"),
        (declaring(65535, 65535), 400, "65535 × 65535 pixels"),
        (demo_floor_plan(cols=8, rows=8), 200, ""),
    ],
)
async def test_floor_plans_are_checked_by_content(
    client: Any, world: World, store: Store, data: bytes, status: int, message: str
) -> None:
    headers = {**await _token(store, "site-admin", world.solna), "Content-Type": "image/jpeg"}
    response = await client.put(
        f"/api/v1/floors/{world.solna_floor}/plan", data=data, headers=headers
    )
    assert response.status_code == status
    if message:
        assert message in (await response.get_json())["message"]
    else:
        plan = await client.get(f"/api/v1/floors/{world.solna_floor}/plan", headers=headers)
        assert await plan.get_data() == data


async def test_positions_address_and_external_ids(client: Any, world: World, store: Store) -> None:
    admin = await _token(store, "admin")
    placed = await client.put(
        f"/api/v1/floors/{world.solna_floor}/positions",
        json={"positions": {str(world.solna_station): [0.5, 0.25]}},
        headers=admin,
    )
    assert placed.status_code == 200
    assert await store.read(lambda: Station.get_by_id(world.solna_station).pos_y) == 0.25
    address = await client.put(
        "/api/v1/stations/SOLNA-2/address",
        json={"city": "Solna", "latitude": "59.36", "longitude": 18.0},
        headers=admin,
    )
    assert (await address.get_json())["latitude"] == 59.36
    services = (await (await client.get("/api/v1/services", headers=admin)).get_json())["items"]
    await client.put(f"/api/v1/services/{services[0]['id']}", json={"enabled": True}, headers=admin)
    uuid = await store.read(lambda: Outlet.get_by_id(world.solna_outlet).uuid)
    ids = await client.put(
        f"/api/v1/outlets/{uuid}/external-ids",
        json={str(services[0]["id"]): "MAP-7"},
        headers=admin,
    )
    assert [(i["service"], i["external_id"]) for i in (await ids.get_json())["items"]] == [
        (services[0]["name"], "MAP-7")
    ]


async def test_schedules_crud_in_scope(client: Any, world: World, store: Store) -> None:
    site_admin = await _token(store, "site-admin", world.solna)
    body = {
        "name": "Night",
        "stationId": world.solna_station,
        "rateUnit": "A",
        "periods": [{"days": [0, 1, 2, 3, 4], "start": "22:00", "end": "24:00", "limit": 16}],
    }
    created = await client.post("/api/v1/schedules", json=body, headers=site_admin)
    assert created.status_code == 201
    schedule = await created.get_json()
    assert len(schedule["periods"]) == 5
    other = await client.post(
        "/api/v1/schedules", json={**body, "stationId": world.kista_station}, headers=site_admin
    )
    assert other.status_code == 404
    overlap = await client.put(
        f"/api/v1/schedules/{schedule['id']}",
        json={**body, "periods": body["periods"] * 2},
        headers=site_admin,
    )
    assert overlap.status_code == 400
    assert "overlap" in (await overlap.get_json())["message"]
    pushed = await client.post(f"/api/v1/schedules/{schedule['id']}/push", headers=site_admin)
    assert (await pushed.get_json())["items"][0]["status"] == "Offline"
    listed = await (await client.get("/api/v1/schedules", headers=site_admin)).get_json()
    assert [s["name"] for s in listed["items"]] == ["Night"]
    state = await (
        await client.get("/api/v1/stations/SOLNA-1/local-list", headers=site_admin)
    ).get_json()
    assert state["version"] == 0
    assert state["differential"]["changed"] == ["1001"]
