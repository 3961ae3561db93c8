"""Two gateway processes and one portal process on one PostgreSQL (issue 17): simulated
stations spread over both gateways, every command kind through the JSON API, the live
stream, and ``kill -9`` of one gateway: its stations reconnect to the other and every
acknowledged session and meter value is in the database exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from db.accounts.api_tokens import create_token
from db.engine.connection import open_database
from db.provisioning import create_user
from db.schema.migrate import migrate
from db.schema.models import ChargingSession, IdTag, MeterSample, Station
from gateway.commands import BY_KEBAB
from simulator import SimulatedStation, StationSettings
from tests.gateway.conftest import add_station
from tests.pgdatabase import own_postgres_database
from tests.portal.test_every_command import CASES, _rows_the_cases_change

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
IDS = [f"SC{i}" for i in range(6)]
FAST = {"MeterValueSampleInterval": "1", "TransactionMessageRetryInterval": "1"}
PASSWORD = "pass-word-123"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(name="pg_url")
def _pg_url() -> Iterator[str]:
    with own_postgres_database() as url:
        yield url


def _prepare(url: str) -> str:
    """Schema, stations, badges, a login and an API token; the token's secret."""
    database = open_database(url)
    migrate(database)
    with database.atomic():
        for cbid in IDS:
            add_station(cbid, outlets=2)
        for cbid in IDS:
            for connector in (1, 2):
                IdTag.create(id_tag=f"T{cbid}{connector}", status="Accepted")
        create_user("admin@example.com", "admin", password=PASSWORD)
        _, secret = create_token("e2e", "admin", None, None)
    database.close()
    return secret


def _start(url: str, *args: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CHARGEPORTAL_TIME_ZONE": "UTC",
        "PORTAL_COOKIE_SECURE": "false",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "chargeportal", "serve", "--db", url, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    with trio.fail_after(60):
        while True:
            assert process.poll() is None, f"process on {port} ended"
            try:
                stream = await trio.open_tcp_stream("127.0.0.1", port)
            except OSError:
                await trio.sleep(0.2)
                continue
            await stream.aclose()
            return


async def _live_stream(base: str, seen: set[str], ready: trio.Event) -> None:
    """Log in as a browser does, then follow /events/stations (stations named)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as browser:
        page = await browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = await browser.post(
            "/login",
            data={"email": "admin@example.com", "password": PASSWORD, "csrf_token": token[1]},
        )
        assert answer.status_code in (200, 302, 303)
        async with browser.stream("GET", "/events/stations", timeout=None) as stream:
            ready.set()
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    data = json.loads(line[5:])
                    if "station" in data:
                        seen.add(data["station"])


async def _online(api: httpx.AsyncClient) -> set[str]:
    answer = await api.get("/api/v1/stations", params={"online": "true", "limit": 100})
    assert answer.status_code == 200, answer.text
    return {item["chargeBoxId"] for item in answer.json()["items"]}


async def _until(api: httpx.AsyncClient, stations: set[str]) -> None:
    """Until the portal lists these stations online."""
    while True:
        if stations <= await _online(api):
            return
        await trio.sleep(0.2)


@pytest.fixture(name="processes")
def _processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


async def test_two_gateways_one_portal_and_a_gateway_killed(
    pg_url: str, tmp_path: Path, processes: list[subprocess.Popen[bytes]], nursery: trio.Nursery
) -> None:
    secret = await trio.to_thread.run_sync(_prepare, pg_url)
    port_a, port_b, port_portal = _free_port(), _free_port(), _free_port()
    gw_a = _start(
        pg_url, "--role", "gateway", "--gateway-port", str(port_a), "--node-id", "gw-a",
        log=tmp_path / "gw-a.log",
    )  # fmt: skip
    gw_b = _start(
        pg_url, "--role", "gateway", "--gateway-port", str(port_b), "--node-id", "gw-b",
        log=tmp_path / "gw-b.log",
    )  # fmt: skip
    portal = _start(
        pg_url, "--role", "portal", "--portal-port", str(port_portal), "--ftp-port", "-1",
        "--node-id", "portal", log=tmp_path / "portal.log",
    )  # fmt: skip
    processes.extend([gw_a, gw_b, portal])
    for port, process in ((port_a, gw_a), (port_b, gw_b), (port_portal, portal)):
        await _wait_listening(port, process)
    url_a = f"ws://127.0.0.1:{port_a}/Ocpp/websocket"
    url_b = f"ws://127.0.0.1:{port_b}/Ocpp/websocket"
    stations = {
        cbid: SimulatedStation(
            StationSettings(
                f"{url_a},{url_b}" if i % 2 == 0 else f"{url_b},{url_a}",
                cbid,
                outlets=2,
                config=dict(FAST),
                backoff_initial=0.2,
                backoff_max=1.0,
                history=5000,
            )
        )
        for i, cbid in enumerate(IDS)
    }
    on_a = [cbid for i, cbid in enumerate(IDS) if i % 2 == 0]
    on_b = [cbid for i, cbid in enumerate(IDS) if i % 2 == 1]
    base = f"http://127.0.0.1:{port_portal}"
    api = httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )
    seen: set[str] = set()
    ready = trio.Event()
    nursery.start_soon(_live_stream, base, seen, ready)
    with trio.fail_after(30):
        await ready.wait()
    with trio.fail_after(60):
        for station in stations.values():
            await nursery.start(station.run)
        await _until(api, set(IDS))  # the portal sees the stations of both gateways
        while not set(IDS) <= seen:  # noqa: ASYNC110 - and the live stream shows them all
            await trio.sleep(0.2)

    # every command kind through the JSON API, to a station on each gateway
    for cbid in (on_a[0], on_b[0]):
        station_id = await trio.to_thread.run_sync(_station_id, pg_url, cbid)
        await trio.to_thread.run_sync(_with_rows, pg_url, station_id)
        station = stations[cbid]
        for case in CASES:
            with trio.fail_after(30):  # after a Reset: rebooted, back, its presence written
                await station.wait_for(lambda station=station: station.online)
                await _until(api, {cbid})
                while True:  # a table, not an event
                    if cbid in await trio.to_thread.run_sync(_holders, pg_url):
                        break
                    await trio.sleep(0.1)
            before = _received(station, BY_KEBAB[case.action].action)
            connects = station.connect_count
            answer = await api.post(
                f"/api/v1/stations/{cbid}/commands/{case.action}",
                json=case.payload,
                params={"timeout": 10},
            )
            body = answer.json()
            assert answer.status_code == 200 or body.get("error") == "call-error", (case, body)
            assert _received(station, BY_KEBAB[case.action].action) == before + 1, case
            if case.action == "reset":
                with trio.fail_after(30):
                    await station.wait_for(
                        lambda station=station, connects=connects: station.connect_count > connects
                    )

    # sessions on the other stations (the commands changed the first two's lists and
    # availability), then one gateway dies mid-session
    charging = {cbid: stations[cbid] for cbid in IDS if cbid not in (on_a[0], on_b[0])}
    with trio.fail_after(60):
        for cbid, station in charging.items():
            await station.wait_for(lambda station=station: station.online)
            for connector in (1, 2):
                assert await station.present_tag(connector, f"T{cbid}{connector}") == "Accepted"
                await station.plug_in(connector)
        for station in charging.values():
            for connector in (1, 2):
                await station.wait_status(connector, "Charging")
        await trio.sleep(2.5)  # meter values flow
    # frozen first: the transaction messages it has read stay unanswered; then killed
    os.killpg(gw_a.pid, signal.SIGSTOP)
    await trio.sleep(1.5)
    os.killpg(gw_a.pid, signal.SIGKILL)
    gw_a.wait(10)
    await trio.sleep(2.0)  # meter values pile up unacknowledged while they reconnect
    with trio.fail_after(90):
        await _until(api, set(IDS))  # A's stations are back, through gateway B
        for station in charging.values():
            for connector in (1, 2):
                await station.unplug(connector)
        for station in stations.values():
            await station.wait_idle()
    moved = [charging[cbid] for cbid in on_a if cbid in charging]
    assert sum(station.txq.resent for station in moved) >= 1  # re-sent to gateway B
    holders = await trio.to_thread.run_sync(_holders, pg_url)
    assert set(holders.values()) == {"gw-b"}
    started = {
        (cbid, tx)
        for cbid, station in stations.items()
        for tx in _acknowledged_transactions(station)
    }
    assert len(started) >= 2 * len(charging)  # a session per outlet (and remote starts)
    rows = await trio.to_thread.run_sync(_sessions_and_samples, pg_url)
    sessions, duplicates, samples = rows
    ours = {(cbid, tx) for cbid, tx, _ in sessions if cbid in IDS and (cbid, tx) in started}
    assert ours == started  # every acknowledged session, once (transaction ids are unique)
    assert all(end for cbid, tx, end in sessions if (cbid, tx) in started)
    assert duplicates == []  # no meter value twice
    for cbid, station in stations.items():
        for tx, stamp in _acknowledged_meter_values(station):
            assert (tx, stamp) in samples, (cbid, tx, stamp)
    await api.aclose()


def _station_id(url: str, cbid: str) -> int:
    database = open_database(url)
    try:
        return int(Station.get(Station.charge_box_id == cbid).id)
    finally:
        database.close()


def _with_rows(url: str, station_id: int) -> None:
    from db.schema.models import ChargingProfile, Reservation

    database = open_database(url)
    with database.atomic():
        Reservation.delete().execute()
        ChargingProfile.delete().execute()
        IdTag.delete().where(IdTag.id_tag == "7777").execute()
        _rows_the_cases_change(station_id)
    database.close()


def _holders(url: str) -> dict[str, str]:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute('SELECT "charge_box_id", "node_id" FROM "station_presence"')
        return dict(cursor.fetchall())


def _frames(station: SimulatedStation) -> Iterator[tuple[str, list[Any]]]:
    for direction, text in station.frames:
        try:
            yield direction, json.loads(text)
        except ValueError:
            continue


def _received(station: SimulatedStation, action: str) -> int:
    return sum(
        1 for way, frame in _frames(station) if way == "in" and frame[0] == 2 and frame[2] == action
    )


def _answered(station: SimulatedStation, action: str) -> list[tuple[dict[str, Any], Any]]:
    """(request payload, result payload) of every CALL of ``action`` the station had
    answered (a re-sent CALL keeps its message id: counted once)."""
    calls: dict[str, dict[str, Any]] = {}
    done: dict[str, Any] = {}
    for way, frame in _frames(station):
        if way == "out" and frame[0] == 2 and frame[2] == action:
            calls[frame[1]] = frame[3]
        elif way == "in" and frame[0] == 3 and frame[1] in calls:
            done[frame[1]] = frame[2]
    return [(calls[uid], result) for uid, result in done.items()]


def _acknowledged_transactions(station: SimulatedStation) -> set[int]:
    return {int(result["transactionId"]) for _, result in _answered(station, "StartTransaction")}


def _acknowledged_meter_values(station: SimulatedStation) -> set[tuple[int, str]]:
    found = set()
    for request, _ in _answered(station, "MeterValues"):
        tx = request.get("transactionId")
        if tx is None:
            continue
        for value in request["meterValue"]:
            found.add((int(tx), value["timestamp"][:19]))
    return found


def _sessions_and_samples(
    url: str,
) -> tuple[list[tuple[str, int, bool]], list[Any], set[tuple[int, str]]]:
    import peewee

    database = open_database(url)
    try:
        sessions = [
            (row.charge_box_id, int(row.id), row.end_time is not None)
            for row in ChargingSession.select()
        ]
        duplicates = list(
            MeterSample.select(
                MeterSample.session,
                MeterSample.connector_id,
                MeterSample.timestamp,
                MeterSample.measurand,
                MeterSample.phase,
                MeterSample.context,
                peewee.fn.COUNT(MeterSample.id),
            )
            .group_by(
                MeterSample.session,
                MeterSample.connector_id,
                MeterSample.timestamp,
                MeterSample.measurand,
                MeterSample.phase,
                MeterSample.context,
            )
            .having(peewee.fn.COUNT(MeterSample.id) > 1)
            .tuples()
        )
        samples = {
            (int(tx), stamp.isoformat()[:19])
            for tx, stamp in ChargingSession.select(ChargingSession.id, MeterSample.timestamp)
            .join(MeterSample, on=MeterSample.session == ChargingSession.id)
            .tuples()
        }
        return sessions, duplicates, samples
    finally:
        database.close()
