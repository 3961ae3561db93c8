"""A rig for configuration end-to-end tests: gateway + FTP server + simulated stations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from db import Store
from db.schema.models import IdTag, User
from db.topology.nodes import create_site, create_station
from filestore.ftp_server import FtpServer
from filestore.storage import FileStore
from gateway import Gateway, GatewayConfig
from portal.configuration.control import ControlDeps, run_action
from portal.configuration.deps import upload_recorder
from simulator.station import SimulatedStation, StationSettings

GATEWAY_CONFIG = GatewayConfig(command_timeout=5.0, supervisor_interval=3600)


@dataclass
class Rig:
    store: Store
    gateway: Gateway
    files: FileStore
    ftp: FtpServer
    deps: ControlDeps
    ws_url: str
    nursery: trio.Nursery

    async def act(self, cbid: str, action: str, role: str = "admin", **params: Any) -> Any:
        return await run_action(self.deps, cbid, action, params, role=role)

    async def station(self, cbid: str, **settings: Any) -> SimulatedStation:
        """A simulated station of that id, connected and booted."""
        options = {"reboot_delay": 0.1, "backoff_initial": 0.1, "backoff_max": 0.5, **settings}
        station = SimulatedStation(StationSettings(url=self.ws_url, charge_box_id=cbid, **options))
        await self.nursery.start(station.run)
        await wait_until(lambda: self.gateway.is_online(cbid))
        return station


async def wait_until(predicate: Callable[[], bool], *, step: float = 0.02) -> None:
    while not predicate():  # noqa: ASYNC110 - polls state owned by other components
        await trio.sleep(step)


async def wait_until_async(predicate: Callable[[], Any], *, step: float = 0.05) -> Any:
    while True:
        value = await predicate()
        if value:
            return value
        await trio.sleep(step)


def seed(site: str = "Solna", stations: tuple[str, ...] = ("SIM-1",)) -> dict[str, int]:
    """A site with its stations (2 outlets each), an EV user with badge 1001."""
    site_id = create_site(site)
    ids = {"site": site_id}
    for cbid in stations:
        ids[cbid] = create_station(cbid, site_id=site_id, outlets=2)
    user = User.create(email="ev@example.com", role="ev-user")
    IdTag.create(id_tag="1001", user=user)
    return ids


@asynccontextmanager
async def open_rig(store: Store, tmp_path: Path, *, http_base: str = "") -> AsyncIterator[Rig]:
    files = FileStore(tmp_path / "files")
    ftp = FtpServer(files, port=0, on_upload=upload_recorder(store, files))
    gateway = Gateway(store, config=GATEWAY_CONFIG)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(gateway.serve, "127.0.0.1", 0)
        await nursery.start(ftp.run)
        deps = ControlDeps(store, gateway, files, ftp, http_base=http_base)
        yield Rig(
            store, gateway, files, ftp, deps, f"ws://127.0.0.1:{port}/Ocpp/websocket", nursery
        )
        nursery.cancel_scope.cancel()
