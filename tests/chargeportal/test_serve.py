"""``chargeportal serve``: what the composition root starts (and leaves alone)."""

from __future__ import annotations

import socket
from pathlib import Path

import trio

from chargeportal.cli import build_parser, serve_options
from chargeportal.serve import serve
from db import Store
from db.system.settings import update_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def listening(port: int) -> bool:
    try:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
    except OSError:
        return False
    await stream.aclose()
    return True


async def test_ftp_port_minus_one_starts_no_ftp_server(
    db_url: str, store: Store, tmp_path: Path
) -> None:
    ftp_port = free_port()
    await store.write(
        update_settings, {"ftp.mode": "embedded", "ftp.url": f"ftp://127.0.0.1:{ftp_port}"}
    )
    args = build_parser().parse_args(["serve", "--db", db_url, "--ftp-port", "-1"])
    options = serve_options(args)
    options.gateway_port = options.portal_port = 0
    options.files_root = str(tmp_path / "files")
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            _, portal_port = await nursery.start(serve, options)
            assert portal_port is not None
            assert await listening(portal_port)  # the portal started, with its services
            assert not await listening(ftp_port)  # but no FTP server, not even the setting's
            nursery.cancel_scope.cancel()
