"""``chargeportal serve`` under a descriptor flood: stations and the portal still get in."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from db import open_store
from tests.gateway.conftest import add_station
from tests.gateway.ocpp_client import open_station


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def low_file_limit() -> None:
    """Like a default systemd or shell session: 256 descriptors, 600 at most."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 600))


@pytest.fixture(name="server")
def _server(tmp_path: Path) -> Iterator[tuple[int, int]]:
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"

    async def prepare() -> None:
        async with open_store(url) as store:
            await store.write(lambda: add_station("CP1"))

    trio.run(prepare)
    gateway_port, portal_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chargeportal",
            "serve",
            "--db",
            url,
            "--gateway-port",
            str(gateway_port),
            "--portal-port",
            str(portal_port),
            "--ftp-port",
            "-1",
            "--max-pending-handshakes",
            "50",
            "--files-root",
            str(tmp_path / "files"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=low_file_limit,
        env={**os.environ, "CHARGEPORTAL_TIME_ZONE": "UTC"},
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "serve ended before it was ready"
            if line.startswith("portal"):
                break
        yield gateway_port, portal_port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


async def test_idle_connections_past_the_limit_lock_out_neither_stations_nor_the_portal(
    server: tuple[int, int],
) -> None:
    gateway_port, portal_port = server
    idle: list[trio.SocketStream] = []
    try:
        with trio.fail_after(30):
            for _ in range(700):  # never send a byte: each holds a descriptor in serve
                idle.append(await trio.open_tcp_stream("127.0.0.1", gateway_port))
        with trio.fail_after(5):  # well inside the 20 s handshake timeout
            async with open_station(gateway_port, "CP1") as station:
                assert (await station.result("Heartbeat", {}))["currentTime"]
            portal = await trio.open_tcp_stream("127.0.0.1", portal_port)
            await portal.send_all(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = await portal.receive_some(200)
            await portal.aclose()
        assert answer.startswith(b"HTTP/1.1 200"), answer
    finally:
        for stream in idle:
            await stream.aclose()
