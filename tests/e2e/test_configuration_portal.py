"""Through the served portal's JSON API: a firmware image uploaded, fetched by the station
over HTTP and booted; a log uploaded over the embedded FTP server and downloaded."""

from __future__ import annotations

from pathlib import Path

import httpx
import trio

from db import Store
from db.accounts.api_tokens import create_token
from gateway import Gateway
from portal import create_app, serve_portal
from simulator.station import SimulatedStation, StationSettings
from tests.e2e.config_rig import GATEWAY_CONFIG, seed, wait_until, wait_until_async


async def test_firmware_over_http_and_a_log_upload_through_the_api(
    store: Store, tmp_path: Path
) -> None:
    await store.write(seed)
    _, secret = await store.write(lambda: create_token("rig", "admin", None, None))
    gateway = Gateway(store, config=GATEWAY_CONFIG)
    app = create_app(
        store,
        gateway,
        config={
            "SECRET_KEY": "e2e",
            "TESTING": True,
            "FTP_PORT": 0,
            "FILES_ROOT": str(tmp_path / "files"),
        },
    )
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            ws_port = await nursery.start(gateway.serve, "127.0.0.1", 0)
            http_port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
            station = SimulatedStation(
                StationSettings(
                    url=f"ws://127.0.0.1:{ws_port}/Ocpp/websocket",
                    charge_box_id="SIM-1",
                    firmware_version="1.0.0",
                    reboot_delay=0.1,
                    backoff_initial=0.1,
                )
            )
            await nursery.start(station.run)
            base = f"http://127.0.0.1:{http_port}/api/v1"
            headers = {"Authorization": f"Bearer {secret}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as api:
                image = b"VERSION=3.1.4\n" + bytes(range(256)) * 64
                uploaded = await api.post(
                    "/firmware",
                    params={"filename": "sim 3.1.4.bin", "version": "3.1.4"},
                    content=image,
                )
                assert uploaded.status_code == 201, uploaded.text
                assert uploaded.json()["filename"] == "sim_3.1.4.bin"
                public = await api.get(f"http://127.0.0.1:{http_port}/files/firmware/sim_3.1.4.bin")
                assert (public.status_code, public.content) == (200, image)

                update = await api.post(
                    "/stations/SIM-1/control/update-firmware",
                    json={"imageId": uploaded.json()["id"], "transport": "http"},
                )
                assert update.status_code == 200, update.text
                assert update.json()["request"]["location"].endswith(
                    "/files/firmware/sim_3.1.4.bin"
                )
                await wait_until(lambda: station.firmware_status == "Installed" and station.online)
                boot = await api.get("/stations/SIM-1")
                assert boot.json()["firmwareVersion"] == "3.1.4"

                log = await api.post("/stations/SIM-1/control/get-diagnostics", json={})
                assert log.status_code == 200, log.text
                name = log.json()["answer"]["fileName"]

                async def listed_files() -> list:
                    return (await api.get("/stations/SIM-1/diagnostics")).json()["items"]

                listed = await wait_until_async(listed_files)
                assert listed[0]["filename"] == name
                download = await api.get(f"/diagnostics/{listed[0]['id']}")
                assert download.status_code == 200
                assert download.content.startswith(b"# diagnostics of SIM-1")

                station.drop_connection(offline_for=30)
                await wait_until(lambda: not gateway.is_online("SIM-1"))
                offline = await api.post("/stations/SIM-1/control/reset", json={"type": "Hard"})
                assert offline.status_code == 409
                assert offline.json()["message"] == "SIM-1 is offline: nothing was sent."
            nursery.cancel_scope.cancel()
