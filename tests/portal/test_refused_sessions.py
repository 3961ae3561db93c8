"""A refused start (a blocked badge) is kept for audit but is not a charging session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import trio

from db import Store
from db.schema.models import IdTag, utcnow
from db.sessions.dashboard_queries import today_vs_last_week
from db.sessions.session_aggregates import energy_per
from db.topology.scope import SYSTEM, Viewer
from gateway import Gateway
from tests.gateway.ocpp_client import now_iso, open_station
from tests.portal.conftest import World, login, start_gateway


async def _charge(port: int, tag: str, meter_stop: int, reason: str) -> dict[str, Any]:
    """One StartTransaction/StopTransaction pair from a raw station on SOLNA-1."""
    async with open_station(port, "SOLNA-1") as station:
        start = await station.result(
            "StartTransaction",
            {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": now_iso()},
        )
        await station.result(
            "StopTransaction",
            {
                "transactionId": start["transactionId"],
                "meterStop": meter_stop,
                "timestamp": now_iso(),
                "reason": reason,
                "idTag": tag,
            },
        )
    return start


async def test_a_refused_start_is_audited_but_left_out_of_sessions_and_totals(
    client: Any, store: Store, world: World, nursery: trio.Nursery
) -> None:
    await store.write(
        lambda: IdTag.create(id_tag="2002", status="Blocked", user=world.users["ev-user"])
    )
    gateway: Gateway = await start_gateway(store, nursery)
    port = int(gateway.test_url.split(":")[2].split("/")[0])  # type: ignore[attr-defined]
    with trio.fail_after(20):
        refused = await _charge(port, "2002", 300, "DeAuthorized")
        charged = await _charge(port, "1001", 1_000, "EVDisconnected")
    assert refused["idTagInfo"]["status"] == "Blocked"
    refused_id = refused["transactionId"]

    await login(client, "ev-user@example.com")
    mine = await (await client.get("/api/v1/sessions")).get_json()
    ids = {row["id"] for row in mine["items"]}
    assert charged["transactionId"] in ids
    assert refused_id not in ids
    assert mine["total"] == len(ids)

    await login(client, "admin@example.com")
    every = await (await client.get("/api/v1/sessions?station=SOLNA-1")).get_json()
    assert refused_id not in {row["id"] for row in every["items"]}
    asked = await (await client.get("/api/v1/sessions?auth=refused")).get_json()
    assert [(r["id"], r["auth"], r["state"]) for r in asked["items"]] == [
        (refused_id, "Refused", "finished")
    ]
    assert asked["items"][0]["stop_reason"] == "DeAuthorized"
    detail = await client.get(f"/api/v1/sessions/{refused_id}")
    assert detail.status_code == 200  # still there for audit

    admin = Viewer("admin")
    today = await store.read(lambda: today_vs_last_week(admin))
    assert today["today"]["sessions"] == 1
    assert today["today"]["energy_kwh"] == 1.0
    now = utcnow()
    diagram = await store.read(
        lambda: energy_per("day", admin, SYSTEM, now - dt.timedelta(days=1), now)
    )
    assert sum(point["energy_kwh"] for point in diagram) == 1.0
    assert sum(point["sessions"] for point in diagram) == 1
