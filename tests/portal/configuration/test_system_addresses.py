"""System → General shows the addresses of the running system, ready to copy into stations."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from filestore.ftp_server import FtpServer
from filestore.storage import FileStore
from gateway import Gateway
from portal import create_app
from portal.configuration.deps import attach_files
from tests.portal.conftest import World, csrf_of, login, post, start_gateway


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery)


@pytest.fixture(name="ftp")
async def _ftp(tmp_path: Any, nursery: trio.Nursery) -> FtpServer:
    ftp = FtpServer(FileStore(tmp_path / "files"), port=0)
    await nursery.start(ftp.run)
    return ftp


@pytest.fixture(name="app")
def _app_with_ftp(store: Store, gateway: Gateway, ftp: FtpServer) -> Any:
    """The portal with an embedded FTP server run by the caller, as the composition root
    may do (``attach_files``)."""
    app = create_app(store, gateway, config={"SECRET_KEY": "test-secret", "TESTING": True})
    attach_files(app, ftp.files, ftp)
    return app


async def test_the_general_tab_shows_where_this_gateway_and_ftp_server_listen(
    client: Any, gateway: Gateway, ftp: FtpServer, world: World
) -> None:
    await login(client, "admin@example.com")
    ftp_port = ftp.port
    ws = f"ws://localhost:{gateway.port}/Ocpp/websocket"
    page = await (await client.get("/configuration/")).get_data(as_text=True)
    assert f'value="{ws}"' in page
    assert f'value="ftp://localhost:{ftp_port}"' in page
    token = await csrf_of(client)
    api = await (await client.get("/api/v1/settings", headers={"X-CSRF-Token": token})).get_json()
    assert (api["ocpp16.url"], api["ftp.url"]) == (ws, f"ftp://localhost:{ftp_port}")
    # an address the administrator stores (behind NAT, a proxy) wins
    form = {**api, "ocpp16.url": "wss://charge.example.com/Ocpp/websocket"}
    saved = await post(client, "/configuration/system/general", form)
    assert saved.status_code == 302
    page = await (await client.get("/configuration/")).get_data(as_text=True)
    assert 'value="wss://charge.example.com/Ocpp/websocket"' in page


async def test_the_general_tab_shows_the_15_address_on_the_port_the_portal_serves(
    client: Any, world: World
) -> None:
    await login(client, "admin@example.com")
    page = await (
        await client.get("/configuration/", headers={"Host": "portal.example:8123"})
    ).get_data(as_text=True)
    assert 'value="http://portal.example:8123/Ocpp/CentralSystemService15"' in page
    assert ":8000/" not in page
