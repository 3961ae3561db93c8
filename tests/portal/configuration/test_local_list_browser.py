"""Download RFID badges in Chromium: 179 badges reach a simulated station that takes 100
per message, and the Control tab shows the progress live (issue 12, fix 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from db import Store
from db.ocpp.config_keys import key_value
from db.schema.models import IdTag
from gateway import Gateway
from portal import create_app, serve_portal
from tests.e2e.config_rig import wait_until_async
from tests.portal.browser import BrowserThread, screenshot
from tests.portal.conftest import PASSWORD, World, simulated_station

pytestmark = pytest.mark.browser


@pytest.fixture(name="app")
def _app(store: Store, gateway: Gateway, tmp_path: Path) -> Any:
    config = {"SECRET_KEY": "test", "TESTING": True, "FILES_ROOT": str(tmp_path / "files")}
    return create_app(store, gateway, config=config)


async def test_the_control_tab_shows_a_long_list_going_out_in_messages(
    chromium: BrowserThread,
    app: Any,
    serving_gateway: Gateway,
    store: Store,
    world: World,
    nursery: trio.Nursery,
) -> None:
    count = await store.read(lambda: IdTag.select().count())
    await store.write(
        lambda: IdTag.insert_many(
            [{"id_tag": str(50_000 + n)} for n in range(179 - count)]
        ).execute()
    )
    port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
    station = simulated_station(serving_gateway, "SOLNA-1")
    with trio.fail_after(60):
        await nursery.start(station.run)
        await station.wait_online()
        # the gateway imports the station's configuration after its boot
        await wait_until_async(lambda: store.read(key_value, "SOLNA-1", "SendLocalListMaxLength"))
        page = await chromium.new_page(f"http://127.0.0.1:{port}")

        def steps() -> dict[str, str]:
            page.goto("/login")
            page.fill("input[name=email]", "admin@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector('[data-testid="logout"]', state="attached")
            page.goto(f"/configuration/control?node=station:{world.solna_station}")
            page.wait_for_selector("body[data-live='1']", state="attached")
            form = page.locator('form[data-action="send-local-list"]')
            form.locator("button").click()
            form.locator('[data-testid="action-result"]').wait_for()
            page.wait_for_function(
                "document.querySelector('[data-testid=local-list-progress]')"
                ".textContent.startsWith('179 of 179')"
            )
            screenshot(page, "config-local-list-progress")
            return {
                "progress": page.inner_text('[data-testid="local-list-progress"]'),
                "result": form.locator('[data-testid="action-result"] strong').inner_text(),
                "version": page.inner_text('[data-testid="local-list-version"]'),
            }

        seen = await chromium.run(steps)
    assert seen["progress"] == "179 of 179 badges sent (message 2 of 2)"
    assert "179 badges sent in 2 messages" in seen["result"]
    assert seen["version"] == "2"
    assert len(station.local_auth.local_list) == 179
