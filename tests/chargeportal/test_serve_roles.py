"""``serve --role`` and ``--workers``: one process on SQLite, several on PostgreSQL."""

from __future__ import annotations

import base64
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from chargeportal.cli import build_parser, serve_options
from chargeportal.serve import serve
from db.engine.connection import open_database
from db.schema.migrate import migrate
from tests.gateway.conftest import add_station
from tests.pgdatabase import own_postgres_database

ROOT = Path(__file__).resolve().parents[2]


def _chargeportal(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chargeportal", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "CHARGEPORTAL_TIME_ZONE": "UTC"},
    )


@pytest.mark.parametrize("extra", [["--role", "gateway"], ["--role", "portal"], ["--workers", "2"]])
def test_sqlite_serves_one_process_only_and_says_why(tmp_path: Path, extra: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    served = _chargeportal("serve", "--db", url, "--ftp-port", "-1", *extra, cwd=tmp_path)
    assert served.returncode == 2
    lines = served.stderr.strip().splitlines()
    assert len(lines) == 1, served.stderr
    assert lines[0].startswith("chargeportal: error: --role gateway/portal and --workers")
    assert "need PostgreSQL" in lines[0]
    assert "--role all --workers 1" in lines[0]
    assert not (tmp_path / "one.sqlite3").exists()  # refused before anything was created


@pytest.fixture(name="pg_url")
def _pg_url() -> Iterator[str]:
    with own_postgres_database() as url:
        yield url


@pytest.mark.postgres
async def test_a_portal_process_serves_no_ocpp_listener(pg_url: str, tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["serve", "--db", pg_url, "--role", "portal", "--ftp-port", "-1"]
    )
    options = serve_options(args)
    options.gateway_port = options.portal_port = 0
    options.files_root = str(tmp_path / "files")
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            gateway_port, portal_port = await nursery.start(serve, options)
            assert gateway_port is None
            assert portal_port is not None
            nursery.cancel_scope.cancel()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _nodes(url: str) -> list[str]:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT to_regclass('cluster_node') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return []
        cursor.execute('SELECT "node_id" FROM "cluster_node"')
        return [row[0] for row in cursor.fetchall()]


def _holders(url: str) -> dict[str, str]:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute('SELECT "charge_box_id", "node_id" FROM "station_presence"')
        return dict(cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.slow
def test_two_gateway_workers_share_one_port(pg_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CHARGEPORTAL_TIME_ZONE": "UTC",
    }
    cli = [sys.executable, "-m", "chargeportal"]
    ids = [f"W{i:02d}" for i in range(12)]
    database = open_database(pg_url)
    migrate(database)
    with database.atomic():
        for cbid in ids:
            add_station(cbid)
    database.close()
    port = _free_port()
    serve = ["serve", "--db", pg_url, "--role", "gateway", "--workers", "2"]
    server = subprocess.Popen(
        [*cli, *serve, "--gateway-port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 40
        while len(_nodes(pg_url)) < 2:  # both workers started
            assert time.monotonic() < deadline
            assert server.poll() is None
            time.sleep(0.2)
        holders = _connect_all(port, ids, pg_url)
        assert set(holders) == set(ids)
        assert len(set(holders.values())) == 2  # the kernel spread them over both workers
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


def _connect_all(port: int, ids: list[str], url: str) -> dict[str, str]:
    """Connect every station (a raw WebSocket handshake each, kept open) until every one
    is in the presence table; the table then."""
    sockets = []
    deadline = time.monotonic() + 40
    try:
        for cbid in ids:
            while True:
                try:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall(
                (
                    f"GET /Ocpp/websocket/{cbid} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
                ).encode()
            )
            assert b" 101 " in sock.recv(1024)
            sockets.append(sock)
        while time.monotonic() < deadline:
            holders = _holders(url)
            if len(holders) == len(ids):
                return holders
            time.sleep(0.2)
        return _holders(url)
    finally:
        for sock in sockets:
            sock.close()


def test_each_worker_is_a_node_of_its_own() -> None:
    from chargeportal.serve import ServeOptions
    from chargeportal.workers import worker_options

    options = ServeOptions(db="postgresql://x/y", workers=3, node_id="gw1", ftp_port=2121)
    workers = [worker_options(options, index) for index in range(3)]
    assert [w.node_id for w in workers] == ["gw1-w0", "gw1-w1", "gw1-w2"]
    assert [w.ftp_port for w in workers] == [2121, -1, -1]  # one FTP server
    assert all(w.workers == 1 and w.reuse_port for w in workers)
    unnamed = worker_options(dataclasses.replace(options, node_id=""), 1)
    assert unnamed.node_id == ""  # host-role-pid-random, made by the worker itself


@pytest.mark.postgres
@pytest.mark.slow
def test_a_second_process_under_a_node_id_in_use_is_refused(pg_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHARGEPORTAL_TIME_ZONE": "UTC"}
    serve = [sys.executable, "-m", "chargeportal", "serve", "--db", pg_url, "--role", "gateway"]
    first = subprocess.Popen(
        [*serve, "--gateway-port", str(_free_port()), "--node-id", "twin"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 40
        while "twin" not in _nodes(pg_url):
            assert time.monotonic() < deadline
            assert first.poll() is None
            time.sleep(0.2)
        second = subprocess.run(
            [*serve, "--gateway-port", str(_free_port()), "--node-id", "twin"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        lines = second.stderr.strip().splitlines()
        assert lines[-1].startswith("chargeportal: error: node id 'twin' is in use by pid")
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one goes on
    finally:
        os.killpg(first.pid, signal.SIGTERM)
        first.wait(20)
