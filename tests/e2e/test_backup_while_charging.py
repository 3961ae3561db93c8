"""A backup taken while simulated stations charge against the running server holds every
session and meter value the server acknowledged before the backup began."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import trio

from chargeportal.serve import ServeOptions, serve
from db import open_store
from db.backup.restore import restore_backup
from db.backup.take import take_backup
from db.demo.demo_data import generate_sessions
from db.engine.connection import make_database
from simulator import SimulatedStation, StationSettings
from tests.e2e.registry import register_stations, register_tags

ENERGY = "Energy.Active.Import.Register"
STATIONS = [f"BK{n:02}" for n in range(1, 5)]


def acknowledged(station: SimulatedStation) -> dict[str, list[dict[str, Any]]]:
    """The transaction messages this station saw answered, from its own frame history:
    {action: [{"payload": ..., "answer": ...}]}."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    done: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for direction, text in list(station.frames):
        frame = json.loads(text)
        if direction == "out" and frame[0] == 2:
            calls[frame[1]] = (frame[2], frame[3])
        elif direction == "in" and frame[0] == 3 and frame[1] in calls:
            action, payload = calls.pop(frame[1])
            done[action].append({"payload": payload, "answer": frame[2]})
    return done


def restored_rows(url: str) -> tuple[dict[int, dict[str, Any]], dict[int, set[str]]]:
    database = make_database(url)
    database.connect()
    try:
        sessions = {
            row[0]: {"charge_box_id": row[1], "connector_id": row[2], "meter_start": row[3]}
            for row in database.execute_sql(
                'SELECT "id", "charge_box_id", "connector_id", "meter_start"'
                ' FROM "charging_session"'
            )
        }
        values: dict[int, set[str]] = defaultdict(set)
        for session_id, value in database.execute_sql(
            'SELECT "session_id", "value" FROM "meter_sample" WHERE "measurand" = ?', (ENERGY,)
        ):
            values[session_id].add(value)
    finally:
        database.close()
    return sessions, values


async def test_a_backup_during_charging_restores_everything_acknowledged_before_it(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    async with open_store(url) as store:
        await register_stations(store, STATIONS, outlets=2)
        await register_tags(store, [f"T{cbid}{c}" for cbid in STATIONS for c in (1, 2)])
        # a year of history, so that the copy takes many steps while stations write
        await trio.to_thread.run_sync(
            partial(generate_sessions, store.database, 5_000, days=60, samples_for_latest=20)
        )
    options = ServeOptions(
        db=url, gateway_port=0, portal_port=0, ftp_port=-1, files_root=str(tmp_path / "files")
    )
    gateway_port, _ = await nursery.start(serve, options)
    endpoint = f"ws://127.0.0.1:{gateway_port}/Ocpp/websocket"
    stations = [
        SimulatedStation(
            StationSettings(
                endpoint,
                cbid,
                outlets=2,
                history=100_000,
                backoff_initial=0.1,
                config={"MeterValueSampleInterval": "1", "MeterValuesSampledData": ENERGY},
            )
        )
        for cbid in STATIONS
    ]
    with trio.fail_after(60):
        for station in stations:
            await nursery.start(station.run)
        for station in stations:
            for connector in (1, 2):
                await station.plug_in(connector)
                assert (
                    await station.present_tag(connector, f"T{station.charge_box_id}{connector}")
                    == "Accepted"
                )
        for station in stations:
            for connector in (1, 2):
                await station.wait_status(connector, "Charging")
        await trio.sleep(2.5)  # some periodic meter values acknowledged

        before = {s.charge_box_id: acknowledged(s) for s in stations}
        started = time.perf_counter()
        result = await trio.to_thread.run_sync(
            partial(
                take_backup, make_database(url), folder=tmp_path / "backups", pages=8, pause=0.03
            )
        )
        seconds = time.perf_counter() - started
        during = {s.charge_box_id: acknowledged(s) for s in stations}
        for station in stations:
            for connector in (1, 2):
                await station.unplug(connector)
        for station in stations:
            await station.wait_idle()

    acked_before = sum(len(v["MeterValues"]) for v in before.values())
    acked_after = sum(len(v["MeterValues"]) for v in during.values())
    assert acked_before >= 8
    assert seconds > 1.5  # slowed down on purpose: many steps while the stations write
    assert acked_after > acked_before  # they kept charging and being answered meanwhile

    restored_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    await trio.to_thread.run_sync(restore_backup, make_database(restored_url), result.path)
    sessions, values = await trio.to_thread.run_sync(restored_rows, restored_url)
    checked = 0
    for cbid, done in before.items():
        for start in done["StartTransaction"]:
            tx = start["answer"]["transactionId"]
            assert tx in sessions, f"{cbid}: session {tx} acknowledged before the backup is lost"
            assert sessions[tx]["charge_box_id"] == cbid
            assert sessions[tx]["connector_id"] == start["payload"]["connectorId"]
            assert sessions[tx]["meter_start"] == start["payload"]["meterStart"]
        for meter in done["MeterValues"]:
            tx = meter["payload"]["transactionId"]
            for sample in meter["payload"]["meterValue"]:
                for value in sample["sampledValue"]:
                    if value.get("measurand", ENERGY) == ENERGY:
                        assert value["value"] in values[tx], (
                            f"{cbid}: a meter value of {tx} is lost"
                        )
                        checked += 1
    assert checked >= acked_before
