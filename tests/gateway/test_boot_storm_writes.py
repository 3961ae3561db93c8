"""A boot storm's writes shared by many stations: each station observes what it would alone.

Two fleets run the same script against one gateway: one station at a time (every write
a batch of its own) and all at once, step by step (writes of many stations in one
batch). Answers, stored rows, alarms, the event log, live events and live state must
be the same, station for station.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import peewee
import pytest
import trio

from db import Store
from db.schema.models import Alarm, Event, Outlet, Station, utcnow
from gateway import Gateway
from gateway.batching import BatchingStore
from tests.gateway.conftest import add_station
from tests.gateway.ocpp_client import RawStation, now_iso, open_station

STATIONS = 12


def _status(connector: int, status: str, error: str = "NoError", vendor: str = "") -> dict:
    payload = {"connectorId": connector, "status": status, "errorCode": error}
    if vendor:
        payload["vendorErrorCode"] = vendor
    return {**payload, "timestamp": now_iso()}


def script(i: int) -> list[tuple[str, dict[str, Any]]]:
    """Station ``i``'s messages: a boot, statuses that raise and clear alarms, a new outlet."""
    boot = {
        "chargePointVendor": f"Vendor{i % 3}",
        "chargePointModel": f"Model-{i % 4}",
        "chargePointSerialNumber": f"SN{i:04d}",
        "firmwareVersion": f"{i % 2}.{i}",
    }
    if i % 2:
        boot["meterType"] = "DC meter"
    first = [
        _status(1, "Available"),
        _status(1, "Faulted", "GroundFailure"),
        _status(1, "Faulted", "OtherError", "Temperature"),
    ][i % 3]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("BootNotification", boot),
        ("StatusNotification", _status(0, "Available")),
        ("StatusNotification", first),
        ("StatusNotification", _status(2, "Available")),  # clears an alarm left from before
        ("StatusNotification", _status(3, "Unavailable")),  # new outlet, or a CallError
        ("StatusNotification", _status(1, "Available")),  # the fault on 1 is gone
        (
            "StatusNotification",
            _status(0, "Faulted", "InternalError") if i % 4 == 1 else _status(0, "Available"),
        ),
    ]
    return steps


def prepare(prefix: str) -> None:
    """The fleet's stations: some Pending, some with an alarm still active from before."""
    for i in range(STATIONS):
        cbid = f"{prefix}{i:02d}"
        station_id = add_station(cbid, outlets=0 if i % 6 == 5 else 2)  # 0: learns them
        if i % 5 == 3:
            Station.update(registration_status="Pending").where(Station.id == station_id).execute()
        if i % 4 == 0:
            Alarm.create(
                kind="Hardware fault",
                station=station_id,
                charge_box_id=cbid,
                connector_id=2,
                message="left from before",
                raised_at=utcnow() - dt.timedelta(hours=1),
            )


def _reply(frame: list[Any]) -> Any:
    if frame[0] != 3:
        return frame[0], frame[2]
    return {k: v for k, v in frame[2].items() if k != "currentTime"}


async def one_at_a_time(port: int, prefix: str) -> dict[str, list[Any]]:
    replies: dict[str, list[Any]] = {}
    for i in range(STATIONS):
        cbid = f"{prefix}{i:02d}"
        async with open_station(port, cbid) as station:
            replies[cbid] = [
                _reply(await station.call(action, payload)) for action, payload in script(i)
            ]
    return replies


async def all_at_once(port: int, prefix: str) -> dict[str, list[Any]]:
    """Every station sends step k together; step k+1 starts once every answer came."""
    replies: dict[str, list[Any]] = {f"{prefix}{i:02d}": [] for i in range(STATIONS)}
    async with trio.open_nursery() as nursery:
        stations: dict[int, RawStation] = {}
        opened = trio.Event()

        async def hold(i: int) -> None:
            async with open_station(port, f"{prefix}{i:02d}") as station:
                stations[i] = station
                if len(stations) == STATIONS:
                    opened.set()
                await done.wait()

        done = trio.Event()
        for i in range(STATIONS):
            nursery.start_soon(hold, i)
        await opened.wait()
        for step in range(len(script(0))):

            async def send(i: int, step: int = step) -> None:
                action, payload = script(i)[step]
                replies[f"{prefix}{i:02d}"].append(_reply(await stations[i].call(action, payload)))

            async with trio.open_nursery() as senders:
                for i in range(STATIONS):
                    senders.start_soon(send, i)
        done.set()
    return replies


def stored(prefix: str) -> dict[str, Any]:
    """What the database holds about each station of the fleet, without ids and times."""
    out: dict[str, Any] = {}
    for station in Station.select().where(Station.charge_box_id.startswith(prefix)):
        cbid = station.charge_box_id
        key = cbid[len(prefix) :]
        outlets = [
            (o.connector_id, o.status, o.error_code, o.status_at is not None, o.mode)
            for o in Outlet.select()
            .where(Outlet.station == station.id)
            .order_by(Outlet.connector_id)
        ]
        alarms = sorted(
            (
                a.kind,
                a.connector_id,
                a.message,
                a.count,
                a.cleared_at is None,
                a.station_id == station.id,
            )
            for a in Alarm.select().where(Alarm.charge_box_id == cbid)
        )
        events = [
            (e.kind, e.severity, e.message, e.station_id == station.id, e.site_id)
            for e in Event.select().where(Event.charge_box_id == cbid).order_by(Event.id)
        ]
        row = (
            station.vendor,
            station.model,
            station.serial_number,
            station.firmware_version,
            station.meter_type,
            station.registration_status,
        )
        seen = (
            station.protocol,
            station.last_boot_at is not None,
            station.last_seen_at is not None,
            station.first_connected_at is not None,
        )
        out[key] = {
            "station": row,
            "seen": seen,
            "outlets": outlets,
            "alarms": alarms,
            "events": events,
        }
    return out


def live_state(gateway: Gateway, prefix: str) -> dict[str, Any]:
    out = {}
    for i in range(STATIONS):
        snap = gateway.snapshot(f"{prefix}{i:02d}")
        assert snap is not None
        connectors = {n: (c.status, c.error_code) for n, c in snap.connectors.items()}
        out[f"{i:02d}"] = (snap.status, snap.error_code, connectors, dict(snap.boot or {}))
    return out


def by_station(events: list[Any], prefix: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for event in events:
        if event.charge_box_id.startswith(prefix):
            data = {k: v for k, v in event.data.items() if k != "alarmId"}
            out.setdefault(event.charge_box_id[len(prefix) :], []).append((event.kind, data))
    return out


async def test_a_storm_of_boots_and_statuses_stores_and_answers_what_one_station_alone_gets(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(prepare, "ONE")
    await db_write(prepare, "ALL")
    kinds = {"station.booted", "connector.status", "alarm.raised", "alarm.cleared"}
    seen: list[Any] = []
    with trio.fail_after(30):
        async with gateway.events.subscribe(max_buffer=10_000) as feed:
            alone = await one_at_a_time(port, "ONE")
            shared = await all_at_once(port, "ALL")
            while True:  # every event published so far
                try:
                    seen.append(feed.receive_nowait())
                except trio.WouldBlock:
                    break
    assert gateway.station_store.units.statistics()["largest"] >= STATIONS // 2  # shared
    assert {k[3:]: v for k, v in shared.items()} == {k[3:]: v for k, v in alone.items()}
    assert [r[0]["status"] for r in alone.values()].count("Pending") == 2
    alone_rows = await store.read(stored, "ONE")
    assert await store.read(stored, "ALL") == alone_rows
    # and what one station alone gets is what its script says
    one = alone_rows["01"]
    assert one["station"] == ("Vendor1", "Model-1", "SN0001", "1.1", "DC meter", "Accepted")
    assert one["outlets"] == [
        (1, "Available", "NoError", True, "RFID"),
        (2, "Available", "NoError", True, "RFID"),
    ]
    assert alone["ONE01"][4] == (4, "PropertyConstraintViolation")  # beyond its 2 outlets
    assert alone_rows["05"]["outlets"] == [  # a station without outlets learns them
        (1, "Available", "NoError", True, "RFID"),
        (2, "Available", "NoError", True, "RFID"),
        (3, "Unavailable", "NoError", True, "RFID"),
    ]
    assert [(a[0], a[1], a[4]) for a in one["alarms"]] == [
        ("Fuse", 1, False),
        ("Hardware fault", 0, True),
    ]
    assert [e[0] for e in one["events"]] == [
        "station.booted",
        "alarm.raised",  # GroundFailure on 1
        "alarm.cleared",  # 1 Available again
        "alarm.raised",  # InternalError on the station (connector 0)
    ]
    assert alone_rows["03"]["station"][5] == "Pending"
    assert [a[:5] for a in alone_rows["04"]["alarms"] if a[1] == 2] == [
        ("Hardware fault", 2, "left from before", 1, False)  # cleared by its first status
    ]
    assert live_state(gateway, "ALL") == live_state(gateway, "ONE")
    seen = [e for e in seen if e.kind in kinds]
    assert by_station(seen, "ALL") == by_station(seen, "ONE")
    raised = [e for e in seen if e.kind == "alarm.raised" and e.charge_box_id.startswith("ALL")]
    cleared = [e for e in seen if e.kind == "alarm.cleared" and e.charge_box_id.startswith("ALL")]
    assert raised  # the script did raise and clear alarms
    assert cleared


async def test_a_bad_value_in_one_stations_boot_or_status_fails_only_that_station(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    """Values no column holds are answered at the edge; the rest of the storm goes on."""
    for i in range(STATIONS):
        await db_write(add_station, f"CP{i:02d}")
    bad_boot = {"chargePointVendor": "Acme\x00", "chargePointModel": "X"}
    answers: dict[int, list[Any]] = {}

    async def station(i: int) -> None:
        async with open_station(port, f"CP{i:02d}") as ws:
            boot = bad_boot if i == 3 else {"chargePointVendor": "Acme", "chargePointModel": "X"}
            status = _status(2**20 if i == 7 else 1, "Available")
            answers[i] = [
                await ws.call("BootNotification", boot),
                await ws.call("StatusNotification", status),
            ]

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            for i in range(STATIONS):
                nursery.start_soon(station, i)
    assert answers[3][0][:3] == [4, answers[3][0][1], "PropertyConstraintViolation"]
    assert answers[7][1][:3] == [4, answers[7][1][1], "PropertyConstraintViolation"]
    for i, (boot, status) in answers.items():
        if i != 3:
            assert boot[0] == 3
            assert boot[2]["status"] == "Accepted"
        if i != 7:
            assert status == [3, status[1], {}]

    def rows() -> tuple[int, int]:
        booted = Station.select().where(Station.last_boot_at.is_null(False)).count()
        available = Outlet.select().where(Outlet.status == "Available").count()
        return booted, available

    assert await store.read(rows) == (STATIONS - 1, STATIONS - 1)


async def test_a_unit_that_fails_in_a_shared_batch_fails_alone(
    store: Store, nursery: trio.Nursery
) -> None:
    """Past the edge a failing item (here an outlet number no column holds) is found by
    bisection: its caller gets the error, every other station's write is committed."""
    from db.ocpp.station_batches import StatusIn, record_statuses

    ids = [await store.write(add_station, f"CP{i:02d}") for i in range(16)]
    batching = BatchingStore(store)
    await nursery.start(batching.units.run)
    outcomes: dict[int, object] = {}
    now = utcnow()

    async def submit(i: int) -> None:
        connector = 2**70 if i == 5 else 1  # fits no SQLite INTEGER nor PostgreSQL SMALLINT
        item = StatusIn(ids[i], f"CP{i:02d}", None, connector, "Occupied", "NoError", now)
        try:
            outcomes[i] = await batching.write_each(record_statuses, item)
        except (OverflowError, peewee.DataError) as exc:
            outcomes[i] = exc

    with trio.fail_after(10):
        async with trio.open_nursery() as senders:
            for i in range(16):
                senders.start_soon(submit, i)
    assert isinstance(outcomes.pop(5), OverflowError | peewee.DataError)
    assert all(value == [] for value in outcomes.values())
    occupied = await store.read(
        lambda: sorted(o.station_id for o in Outlet.select().where(Outlet.status == "Occupied"))
    )
    assert occupied == [ids[i] for i in range(16) if i != 5]
    assert batching.units.statistics()["retried"] >= 1


def _ids(items: Sequence[Any]) -> list[int]:
    return [item.station_id for item in items]


@pytest.mark.parametrize("size", [1, 7])
async def test_statuses_of_one_connector_in_one_batch_keep_the_last_and_every_alarm(
    store: Store, size: int
) -> None:
    """Two statuses of one connector in one batch (OCPP 1.5 stations may send them at
    once) end as if written one after the other: the last status stays, the alarm the
    first raised is cleared by the second."""
    from db.ocpp.station_batches import StatusIn, record_statuses

    station_id = await store.write(add_station, "CP1")
    now = utcnow()
    fault = StatusIn(station_id, "CP1", None, 1, "Faulted", "GroundFailure", now, raise_kind="Fuse")
    fixed = StatusIn(station_id, "CP1", None, 1, "Available", "NoError", now, clear_kinds=("Fuse",))
    others = [
        StatusIn(station_id, "CP1", None, 2, "Available", "NoError", now) for _ in range(size - 1)
    ]
    changes = await store.write(record_statuses, [fault, *others, fixed])
    assert [(c.kind, c.raised) for c in changes[0]] == [("Fuse", True)]
    assert [(c.kind, c.raised) for c in changes[-1]] == [("Fuse", False)]

    def state() -> tuple[Any, ...]:
        outlet = Outlet.get((Outlet.station == station_id) & (Outlet.connector_id == 1))
        active = Alarm.select().where(Alarm.cleared_at.is_null()).count()
        return outlet.status, outlet.error_code, active

    assert await store.read(state) == ("Available", "NoError", 0)


async def test_a_first_boot_import_leaves_the_stations_next_writes_in_the_batches(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    """Nobody waits for a configuration import: unlike an operator's command it puts
    none of the station's writes ahead of the fleet's (one urgent job each)."""
    from gateway import GatewayConfig
    from tests.gateway.conftest import TEST_CONFIG

    config = GatewayConfig(**{**TEST_CONFIG.__dict__, "import_configuration": True})
    gateway = Gateway(store, config=config)
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result(
                "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}
            )
            call = await station.next_call()
            assert call[2] == "GetConfiguration"
            await station.answer(
                call, {"configurationKey": [{"key": "K", "readonly": False, "value": "1"}]}
            )
            await station.result("StatusNotification", _status(1, "Available"))
    assert gateway.station_store.units.statistics()["urgent"] == 0
