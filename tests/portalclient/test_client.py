"""``portalclient`` against a real portal: what a token's role sees, paging, errors."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import trio

from portalclient import BadRequest, Conflict, NotFound, PortalClient, Unauthorized, kebab
from portalclient.client import PortalClient as _Client
from tests.portal.conftest import simulated_station
from tests.portalclient.conftest import Portal, blocking


def _ids(rows: list[dict[str, Any]]) -> set[str]:
    return {r["chargeBoxId"] for r in rows}


async def test_support_token_sees_every_site(portal: Portal) -> None:
    client = portal.client("support")
    stations = await blocking(client.stations)
    assert _ids(stations) == {"SOLNA-1", "SOLNA-2", "KISTA-1"}
    sessions = await blocking(lambda: list(client.iter_sessions()))
    assert {s["station"] for s in sessions} == {"SOLNA-1", "KISTA-1"}


async def test_site_admin_token_sees_only_his_site(portal: Portal) -> None:
    client = portal.client("solna-admin")
    assert _ids(await blocking(client.stations)) == {"SOLNA-1", "SOLNA-2"}
    outlets = await blocking(client.outlets)
    assert {o["chargeBoxId"] for o in outlets} == {"SOLNA-1", "SOLNA-2"}
    sessions = await blocking(lambda: list(client.iter_sessions()))
    assert [s["station"] for s in sessions] == ["SOLNA-1"]
    assert await blocking(client.count_sessions) == 1
    with pytest.raises(NotFound):
        await blocking(client.station, "KISTA-1")
    with pytest.raises(NotFound):
        await blocking(client.command, "KISTA-1", "Reset", {"type": "Soft"})
    with pytest.raises(NotFound):
        await blocking(client.session, portal.world.kista_session)


async def test_sessions_follow_the_keyset_cursor_page_by_page(portal: Portal) -> None:
    client = portal.client("admin")
    up = await blocking(lambda: list(client.iter_sessions(page_size=1, sort="energy")))
    assert [s["station"] for s in up] == ["SOLNA-1", "KISTA-1"]
    down = await blocking(lambda: list(client.iter_sessions(page_size=1, sort="-energy")))
    assert [s["station"] for s in down] == ["KISTA-1", "SOLNA-1"]
    filtered = await blocking(lambda: list(client.iter_sessions(station="KISTA-1")))
    assert [s["id"] for s in filtered] == [portal.world.kista_session]


async def test_a_bad_token_is_a_clear_error(portal: Portal) -> None:
    client = PortalClient(portal.url, "cp_not-a-real-token")
    with pytest.raises(Unauthorized) as caught:
        await blocking(client.stations)
    assert caught.value.status == 401
    assert "token" in caught.value.message


def test_missing_settings_say_which_variable() -> None:
    with pytest.raises(ValueError, match="CHARGEPORTAL_TOKEN"):
        _Client.from_env({"CHARGEPORTAL_URL": "http://127.0.0.1:1"})
    with pytest.raises(ValueError, match="CHARGEPORTAL_URL"):
        _Client.from_env({"CHARGEPORTAL_TOKEN": "x"})


def test_action_names_become_the_api_path() -> None:
    assert kebab("TriggerMessage") == "trigger-message"
    assert kebab("GetDiagnostics") == "get-diagnostics"
    assert kebab("reset") == "reset"


async def test_command_to_an_offline_station_gives_the_api_reason(portal: Portal) -> None:
    client = portal.client("support")
    with pytest.raises(Conflict) as caught:
        await blocking(client.command, "SOLNA-2", "Reset", {"type": "Soft"})
    assert caught.value.code == "offline"
    assert "SOLNA-2" in caught.value.message or "offline" in caught.value.message


async def test_command_reaches_a_connected_station(portal: Portal, nursery: trio.Nursery) -> None:
    station = simulated_station(portal.gateway, "SOLNA-1")
    await nursery.start(station.run)
    await station.wait_online()
    client = portal.client("solna-admin")
    assert (await blocking(client.station, "SOLNA-1"))["online"] is True
    answer = await blocking(
        client.command, "SOLNA-1", "TriggerMessage", {"requestedMessage": "Heartbeat"}
    )
    assert answer == {"status": "Accepted"}
    keys = await blocking(client.request, "POST", "/stations/SOLNA-1/configuration/reload")
    assert any(k["key"] == "MeterValueSampleInterval" for k in keys["items"])
    assert any(
        k["key"] == "MeterValueSampleInterval"
        for k in await blocking(client.configuration, "SOLNA-1")
    )


async def test_messages_of_a_station_are_in_scope(portal: Portal) -> None:
    support, solna = portal.client("support"), portal.client("solna-admin")
    assert await blocking(support.messages, "KISTA-1") == []
    with pytest.raises(NotFound):
        await blocking(solna.messages, "KISTA-1")
    with pytest.raises(NotFound):
        await blocking(solna.session_messages, portal.world.kista_session)
    with pytest.raises(BadRequest) as caught:
        await blocking(lambda: support.messages("KISTA-1", limit=0))
    assert caught.value.body["field"] == "limit"


def test_the_client_imports_no_server_code() -> None:
    code = (
        "import sys, portalclient, portalclient.frames; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'gateway', 'portal', 'db', 'chargeportal', 'simulator', 'ocpp', 'quart'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
