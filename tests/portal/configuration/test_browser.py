"""Walk the Navigator through every level in Chromium, a screenshot per Configuration tab
(tests/artifacts/config-*.png), and use the live parts: map click, floor plan drag and
drop, a Control action, a firmware update followed live, an OCPP key saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import Floor, Station
from db.system.settings import update_settings
from db.topology.station_files import record_firmware
from filestore.jpeg import demo_floor_plan
from filestore.storage import FileStore
from gateway import Gateway
from portal import create_app, serve_portal
from tests.portal.browser import BrowserThread, screenshot
from tests.portal.conftest import PASSWORD, World, simulated_station
from tests.portal.tiles import HangingTileServer

pytestmark = pytest.mark.browser

LEVELS = [
    ("system", "a.nav-node.system", ["general", "topology", "services", "files"]),
    ("site", 'a.nav-node.site:has-text("Solna")', ["general", "address", "topology"]),
    ("floor", "a.nav-node.floor", ["general", "positions"]),
    ("station", 'a.nav-node.station[data-cbid="SOLNA-1"]', ["general", "address", "ocpp"]),
    ("outlet", 'a.nav-node.outlet[data-cbid="SOLNA-1"][data-connector="1"]', ["general"]),
]


@pytest.fixture(name="app")
def _app(store: Store, gateway: Gateway, tmp_path: Path) -> Any:
    config = {"SECRET_KEY": "test", "TESTING": True, "FILES_ROOT": str(tmp_path / "files")}
    return create_app(store, gateway, config=config)


async def test_walk_every_level_and_tab_and_use_the_live_parts(
    chromium: BrowserThread,
    app: Any,
    serving_gateway: Gateway,
    store: Store,
    world: World,
    nursery: trio.Nursery,
    tmp_path: Path,
) -> None:
    plan = demo_floor_plan()
    await store.write(
        lambda: Floor.update(plan_image=plan).where(Floor.id == world.solna_floor).execute()
    )
    stored = FileStore(tmp_path / "files").save_firmware("sim-2.0.0.bin", b"VERSION=2.0.0\n")
    await store.write(
        lambda: record_firmware(
            stored.name, version="2.0.0", size=stored.size, sha256=stored.sha256, user_id=None
        )
    )
    tiles = HangingTileServer()  # a map that never draws still takes clicks
    await nursery.start(tiles.run)
    await store.write(update_settings, {"map.tile_url": tiles.url})
    port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
    station = simulated_station(serving_gateway, "SOLNA-1")
    station.settings.reboot_delay = 0.1
    page = await chromium.new_page(f"http://127.0.0.1:{port}")
    with trio.fail_after(90):
        await nursery.start(station.run)
        await station.wait_online()

        def walk() -> list[str]:
            page.goto("/login")
            page.fill("input[name=email]", "admin@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector('[data-testid="logout"]', state="attached")
            page.goto("/configuration/")
            shots = []
            for level, link, tabs in LEVELS:
                page.click(link)
                page.wait_for_selector(f'.scope-kind:text-is("{level.capitalize()}")')
                for tab in tabs:
                    page.click(f'[data-testid="config-tabs"] a[data-tab="{tab}"]')
                    page.wait_for_selector(
                        f'[data-testid="config-tabs"] a[data-tab="{tab}"][aria-current="page"]'
                    )
                    name = f"config-{level}-{tab}"
                    screenshot(page, name)
                    shots.append(name)
            return shots

        shots = await chromium.run(walk)
        assert len(shots) == 13

        def map_and_plan() -> dict[str, Any]:
            page.goto(f"/configuration/address?node=site:{world.solna}")
            page.wait_for_selector("#map.leaflet-container")  # built after the load event
            page.click("#map", position={"x": 200, "y": 150})
            latitude = page.input_value("#f-latitude")
            page.goto(f"/configuration/positions?node=floor:{world.solna_floor}")
            icon = page.locator('.unplaced .plan-icon[data-cbid="SOLNA-1"]')
            icon.wait_for()
            box = page.locator("[data-plan] img").bounding_box()
            start = icon.bounding_box()
            page.mouse.move(start["x"] + 10, start["y"] + 10)
            page.mouse.down()
            target = (box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
            page.mouse.move(*target, steps=8)
            page.mouse.up()
            page.click("[data-save-positions]")
            page.wait_for_selector('[data-save-state]:text-is("Positions saved.")')
            placed = '[data-plan] .plan-icon[data-cbid="SOLNA-1"]'
            colour = page.get_attribute(placed, "class")
            screenshot(page, "config-floor-positions-placed")
            ink = "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
            idle = page.eval_on_selector(placed, ink)
            page.evaluate(
                "window.chargePortal.applyState("
                "{station: 'SOLNA-1', online: true, colour: 'blue', outlets: {}})"
            )
            charging = page.eval_on_selector(placed, ink)
            return {"latitude": latitude, "class": colour, "inks": [idle, charging]}

        seen = await chromium.run(map_and_plan)
        assert seen["latitude"] != ""
        assert "st-black" in seen["class"]  # online and idle: drawn green on the plan
        for text, background in seen["inks"]:  # the label stays readable on its icon
            assert (text, background != text) == ("rgb(255, 255, 255)", True)
        x, y = await store.read(
            lambda: (lambda s: (s.pos_x, s.pos_y))(Station.get_by_id(world.solna_station))
        )
        assert abs(x - 0.25) < 0.05
        assert abs(y - 0.5) < 0.05

        def keyboard() -> str:
            icon = page.locator('.plan-icon[data-cbid="SOLNA-1"]')
            icon.focus()
            page.keyboard.press("Delete")  # off the plan
            page.keyboard.press("Enter")  # back, in the middle
            page.keyboard.press("ArrowRight")
            unsaved = page.inner_text("[data-save-state]")
            page.click("[data-save-positions]")
            page.wait_for_selector('[data-save-state]:text-is("Positions saved.")')
            return unsaved

        assert await chromium.run(keyboard) == "Unsaved changes."
        x, y = await store.read(
            lambda: (lambda s: (s.pos_x, s.pos_y))(Station.get_by_id(world.solna_station))
        )
        assert (round(x, 2), round(y, 2)) == (0.51, 0.5)

        def control() -> dict[str, str]:
            page.goto(f"/configuration/control?node=station:{world.solna_station}")
            page.click('[data-action="clear-cache"] button')
            cache = page.inner_text('[data-action="clear-cache"] [data-testid="action-result"]')
            page.select_option("#f-fw-transport", "http")
            page.click('[data-action="update-firmware"] button')
            page.click("[data-confirm-ok]")
            page.wait_for_selector('[data-firmware-status]:text-is("Installed")', timeout=20_000)
            page.wait_for_selector('[data-firmware-version]:text-is("2.0.0")', timeout=20_000)
            screenshot(page, "config-station-control")
            page.goto(f"/configuration/ocpp?node=station:{world.solna_station}")
            row = page.locator('tr[data-key="HeartbeatInterval"]')
            row.locator("input[name=value]").fill("120")
            row.locator("button").click()
            answer = row.locator('[data-testid="action-result"]').inner_text()
            screenshot(page, "config-station-ocpp-saved")
            return {"cache": cache, "answer": answer}

        results = await chromium.run(control)
        assert "Accepted" in results["cache"]
        assert "Accepted" in results["answer"]

        def schedule() -> dict[str, Any]:
            page.goto(f"/schedule/?node=station:{world.solna_station}")
            page.fill("#f-name", "Daytime cap")
            for day in range(7):
                page.check(f'input[name="p0_days"][value="{day}"]')
            page.fill("#p0-start", "00:00")
            page.fill("#p0-end", "24:00")
            page.fill("#p0-limit", "4000")
            page.click('[data-testid="schedule-editor"] button.primary')
            page.click('[data-testid="schedules"] button:has-text("Push")')
            pushed = page.inner_text('[data-testid="push-results"]')
            page.click('[data-testid="composite"] button')
            page.wait_for_selector('[data-testid="composite-chart"] svg', state="attached")
            lines = page.locator('[data-testid="composite-chart"] polyline').count()
            screenshot(page, "schedule-station-composite")
            return {"pushed": pushed, "lines": lines}

        shown = await chromium.run(schedule)
        assert "SOLNA-1: Accepted" in shown["pushed"]
        assert shown["lines"] == 2  # what was asked, and what the station reports

        def open_control() -> bool:
            page.goto(f"/configuration/control?node=station:{world.solna_station}")
            page.wait_for_selector("body[data-live='1']", state="attached")
            return page.is_hidden("[data-offline-banner]")

        assert await chromium.run(open_control)
        await station.plug_in(1)

        def start_and_stop() -> dict[str, Any]:
            page.fill('[data-action="remote-start"] input[name=idTag]', "1001")
            page.click('[data-action="remote-start"] button')
            # the Remote stop card lists the new session without a reload
            page.wait_for_selector('[data-running-sessions] select[name="transactionId"]')
            listed = page.inner_text("[data-running-sessions]")
            page.click('[data-action="remote-stop"] button')
            page.click("[data-confirm-ok]")
            stopped = page.inner_text('[data-action="remote-stop"] [data-testid="action-result"]')
            page.wait_for_selector("[data-running-sessions] [data-no-session]")
            return {"listed": listed, "stopped": stopped}

        done = await chromium.run(start_and_stop)
        assert "outlet 1 · 1001" in done["listed"]
        assert "Accepted" in done["stopped"]

        def open_general() -> Any:
            general = page.context.new_page()  # a second tab on the station's General tab
            general.goto(f"/configuration/general?node=station:{world.solna_station}")
            general.wait_for_selector("body[data-live='1']", state="attached")
            return general

        general = await chromium.run(open_general)
        assert not await chromium.run(general.is_disabled, "[data-testid=password-send]")
        station.drop_connection(offline_for=60)

        def wait_offline() -> tuple[bool, bool]:
            page.wait_for_selector("[data-offline-banner]", state="visible")
            screenshot(page, "config-station-control-offline")
            general.wait_for_selector("[data-testid=password-offline]", state="visible")
            send_disabled = general.is_disabled("[data-testid=password-send]")
            general.close()
            reset = '[data-action="reset"] button'
            looks = page.eval_on_selector(reset, "e => getComputedStyle(e).opacity")
            return page.is_disabled(reset), send_disabled, float(looks) < 1

        # shown offline without a reload or a click, on Control and on General, and the
        # buttons that need the station look unusable
        assert await chromium.run(wait_offline) == (True, True, True)
        assert station.config.get("FirmwareVersion") == "2.0.0"
        assert station.config.get("HeartbeatInterval") == "120"
    artifacts = trio.Path(__file__).parent.parent.parent / "artifacts"
    for name in shots:
        assert await (artifacts / f"{name}.png").exists()
