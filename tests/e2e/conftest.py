"""End-to-end fixtures: the real gateway on port 0, local HTTP and FTP file servers."""

from __future__ import annotations

import functools
import http.server
import logging
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from db import Store
from gateway import Gateway, GatewayConfig

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # pyftpdlib uses asyncore on 3.11
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

logging.getLogger("pyftpdlib").setLevel(logging.WARNING)

E2E_CONFIG = GatewayConfig(command_timeout=10.0, supervisor_interval=3600)


@pytest.fixture(name="gateway")
async def _gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    gateway = Gateway(store, config=E2E_CONFIG)
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    gateway.test_url = f"ws://127.0.0.1:{port}/Ocpp/websocket"  # type: ignore[attr-defined]
    return gateway


@pytest.fixture(name="url")
def _url(gateway: Gateway) -> str:
    return gateway.test_url  # type: ignore[attr-defined]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(name="http_root")
def _http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a temporary folder: (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(name="ftp_root")
def _ftp_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A pyftpdlib server with one writable user: (ftp URL with credentials, folder)."""
    root = tmp_path / "ftp"
    root.mkdir()
    authorizer = DummyAuthorizer()
    authorizer.add_user("station", "upload-pass-1", str(root), perm="elradfmw")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "banner": "test"})
    server = FTPServer(("127.0.0.1", 0), handler)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.05})
    thread.start()
    try:
        yield f"ftp://station:upload-pass-1@127.0.0.1:{port}/", root
    finally:
        server.close_all()
        thread.join(timeout=5)
