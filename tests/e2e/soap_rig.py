"""A rig for OCPP 1.5 end-to-end runs: the real gateway and portal (its 1.5 endpoint and
JSON API) on port 0, the embedded FTP server, and simulated 1.5 stations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import trio

from db import Store
from db.accounts.api_tokens import create_token
from filestore.ftp_server import FtpServer
from filestore.storage import FileStore
from gateway import Gateway, GatewayConfig
from portal import create_app, serve_portal
from portal.configuration.deps import upload_recorder
from simulator.soap.service import ChargePointService
from simulator.soap.station import SoapStation
from simulator.station import StationSettings

CONFIG = GatewayConfig(command_timeout=10.0, supervisor_interval=3600)
FAST = {"MeterValueSampleInterval": "1", "TransactionMessageRetryInterval": "1"}


@dataclass
class Rig:
    store: Store
    gateway: Gateway
    url: str  # the 1.5 endpoint
    base: str  # the portal
    ftp: FtpServer
    service: ChargePointService  # the simulator's one ChargePointService listener
    token: str
    nursery: trio.Nursery

    async def station(self, cbid: str, outlets: int = 2, **settings: Any) -> SoapStation:
        """A simulated 1.5 station, booted (its commands reach the shared listener)."""
        options: dict[str, Any] = {
            "outlets": outlets,
            "config": dict(FAST),
            "backoff_initial": 0.1,
            "backoff_max": 0.5,
            "reboot_delay": 0.1,
            **settings,
        }
        station = SoapStation(StationSettings(self.url, cbid, **options), service=self.service)
        await self.nursery.start(station.run)
        return station

    async def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """The portal's JSON API with a support token."""
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            headers = {"Authorization": f"Bearer {self.token}"}
            return await client.request(method, path, json=body, headers=headers)


async def poll_until(check: Callable[[], Any], store: Store | None = None) -> Any:
    """Wait until ``check()`` is truthy (run in the database's reader when given a store)."""
    while True:
        value = await store.read(check) if store is not None else check()
        if value:
            return value
        await trio.sleep(0.05)


@asynccontextmanager
async def open_rig(store: Store, tmp_path: Path) -> AsyncIterator[Rig]:
    files = FileStore(tmp_path / "files")
    ftp = FtpServer(files, port=0, on_upload=upload_recorder(store, files))
    gateway = Gateway(store, config=CONFIG)
    app = create_app(store, gateway, config={"SECRET_KEY": "x", "FTP_PORT": -1})
    service = ChargePointService()
    _, token = await store.write(create_token, "e2e", "admin", None, None)
    async with trio.open_nursery() as nursery:
        await nursery.start(gateway.serve, "127.0.0.1", 0)
        port = await nursery.start(partial(serve_portal, app, "127.0.0.1", 0))
        await nursery.start(ftp.run)
        await nursery.start(service.run)
        base = f"http://127.0.0.1:{port}"
        yield Rig(
            store,
            gateway,
            f"{base}/Ocpp/CentralSystemService15",
            base,
            ftp,
            service,
            token,
            nursery,
        )
        nursery.cancel_scope.cancel()
