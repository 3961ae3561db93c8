"""The load generator's stations try again, as real ones do, when the central system is not
there yet or drops them in a storm (a restart storm's figure would otherwise be blank)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from functools import partial

import trio

from db import Store
from gateway import Gateway
from tests.gateway.conftest import TEST_CONFIG, add_station


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_stations_refused_at_first_connect_again_and_boot(
    store: Store, nursery: trio.Nursery
) -> None:
    for n in range(3):
        await store.write(partial(add_station, f"RETRY{n:05d}", outlets=1))
    port = _free_port()
    args = [sys.executable, "-m", "benchmarks.loadgen", "--port", str(port), "--prefix", "RETRY"]
    args += ["--count", "3", "--outlets", "1", "--duration", "0.5", "--warmup", "0.1"]
    with trio.fail_after(60):
        async with trio.open_nursery() as run:
            results: list[subprocess.CompletedProcess[bytes]] = []

            async def load() -> None:
                results.append(await trio.run_process(args, capture_stdout=True, check=False))

            run.start_soon(load)  # the load generator runs while the gateway comes up late
            await trio.sleep(2.0)  # its first attempts find nothing listening
            gateway = Gateway(store, config=TEST_CONFIG)
            await nursery.start(gateway.serve, "127.0.0.1", port)
    [finished] = results
    assert finished.returncode == 0
    summary = json.loads(finished.stdout.decode().strip().splitlines()[-1])
    assert summary["failures"] == {}
    assert len(summary["boot_times"]) == 3
    assert summary["boot_reconnects"] >= 3  # each station was refused at least once
