"""Whole runs of the simulator in OCPP 1.5 mode against the real gateway and portal: the
CLI's load run, the conformance run, and a station over https."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import trio

from db import Store
from db.schema.models import Station
from simulator.conformance import ConformanceOptions, run_conformance
from simulator.soap.station import SoapStation
from simulator.station import StationSettings
from tests.e2e.registry import register_stations, register_tags
from tests.e2e.soap_rig import open_rig
from tests.gateway.ocpp15_rig import running


async def test_the_cli_load_run_in_15_mode_boots_a_fleet_on_one_listener(
    store: Store, tmp_path: Path
):
    ids = [f"S15LD{i:02d}" for i in range(1, 6)]
    await register_stations(store, ids, outlets=1)
    out = tmp_path / "load.json"
    async with open_rig(store, tmp_path) as rig:
        with trio.fail_after(60):
            await trio.run_process(
                [
                    sys.executable,
                    "-m",
                    "simulator",
                    "load",
                    "--protocol",
                    "ocpp1.5",
                    "--url",
                    rig.url,
                    "--stations",
                    "5",
                    "--id-prefix",
                    "S15LD",
                    "--id-width",
                    "2",
                    "--mode",
                    "meter",
                    "--think",
                    "0.2",
                    "--duration",
                    "4",
                    "--json-out",
                    str(out),
                    "--quiet",
                ]
            )

            def seen() -> dict[str, str]:
                query = Station.select().where(Station.charge_box_id.in_(ids))
                return {s.charge_box_id: s.protocol for s in query}

            protocols = await store.read(seen)
    summary = json.loads(out.read_text())
    assert summary["boot"]["accepted"] == 5
    meter = summary["actions"]["MeterValues"]
    assert meter["ok"] > 0
    assert meter["error"] == meter["timeout"] == meter["lost"] == 0
    assert protocols == dict.fromkeys(ids, "1.5")


async def test_the_15_conformance_run_passes_against_the_gateway(store: Store, tmp_path: Path):
    await register_stations(store, ["S15CONF"], outlets=2, password="station-pass-1")
    await register_tags(store, ["CONF15"])
    async with open_rig(store, tmp_path) as rig:

        async def operator(action: str, payload: dict) -> dict:
            return await rig.gateway.call("S15CONF", action, payload)

        options = ConformanceOptions(
            rig.url,
            "S15CONF",
            password="station-pass-1",
            id_tag="CONF15",
            protocol="ocpp1.5",
        )
        with trio.fail_after(60):
            results = await run_conformance(options, operator=operator)
    failed = [r for r in results if r.outcome != "PASS"]
    assert failed == []
    names = {r.name for r in results}
    assert {
        "boot",
        "full-transaction",
        "resent-transaction-messages",
        "fault-schema-invalid",
        "fault-endpoint-survives",
        "unknown-station-refused",
        "wrong-password-refused",
        "command-Reset",
        "reset-reboots-and-boots",
    } <= names
    assert "command-TriggerMessage" not in names  # 1.6-only


async def test_a_15_station_with_a_password_boots_over_https(
    store: Store, certificate: tuple[str, str]
):
    cert, _ = certificate
    await register_stations(store, ["S15TLS"], outlets=1, password="station-pass-1")
    async with running(store, tls=certificate) as rig:
        assert rig.url.startswith("https://")
        settings = StationSettings(
            rig.url, "S15TLS", outlets=1, password="station-pass-1", ca_file=cert
        )
        st = SoapStation(settings)
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                await nursery.start(st.run)
                await st.wait_idle()
                assert rig.gateway.is_online("S15TLS")
                nursery.cancel_scope.cancel()
    assert st.boot_answer is not None
    assert st.boot_answer["status"] == "Accepted"
