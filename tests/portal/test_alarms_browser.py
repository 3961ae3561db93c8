"""Alarms in Chromium (issue 12, fix 5): an operator acknowledges an alarm with a comment
and clears an unknown id's Not registered by hand; a bad date is explained in the page."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from db.system.alarms import raise_alarm
from portal import serve_portal
from tests.portal.browser import BrowserThread, screenshot
from tests.portal.conftest import PASSWORD, World

pytestmark = pytest.mark.browser


def _alarms(world: World) -> dict[str, int]:
    fuse = raise_alarm(
        "Fuse", "SOLNA-1", station_id=world.solna_station, site_id=world.solna, connector_id=1
    )
    stranger = raise_alarm("Not registered", "STRANGER", message="connection attempt")
    return {"fuse": fuse.alarm_id, "stranger": stranger.alarm_id}


async def test_an_operator_acknowledges_and_clears_by_hand_in_the_browser(
    chromium: BrowserThread,
    app: Any,
    store: Store,
    world: World,
    nursery: trio.Nursery,
) -> None:
    ids = await store.write(_alarms, world)
    port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
    page = await chromium.new_page(f"http://127.0.0.1:{port}")

    def steps() -> dict[str, Any]:
        page.goto("/login")
        page.fill("input[name=email]", "support@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector('[data-testid="logout"]', state="attached")
        page.goto("/alarms/?from=yesterday")
        bad_date = page.inner_text('[data-testid="filter-error"]')
        page.goto("/alarms/")
        fuse = page.locator(f'tr[data-alarm="{ids["fuse"]}"]')
        fuse.locator("summary", has_text="Acknowledge").click()
        page.fill(f"#ack-{ids['fuse']}", "Electrician on the way")
        fuse.locator("button", has_text="Acknowledge").click()
        page.wait_for_selector(".notice.success")
        fuse_row = page.inner_text(f'tr[data-alarm="{ids["fuse"]}"]')
        stranger = page.locator(f'tr[data-alarm="{ids["stranger"]}"]')
        stranger.locator("summary", has_text="Clear").click()
        page.fill(f"#clr-{ids['stranger']}", "our test rig")
        stranger.locator("button.danger").click()
        page.click("[data-confirm-ok]")
        page.wait_for_selector(".notice.success")
        screenshot(page, "alarms-acknowledged")
        return {
            "bad_date": bad_date,
            "fuse_row": fuse_row,
            "stranger_left": page.locator(f'tr[data-alarm="{ids["stranger"]}"]').count(),
            "fuse_clear": page.locator(f'tr[data-alarm="{ids["fuse"]}"] summary').all_inner_texts(),
        }

    with trio.fail_after(60):
        seen = await chromium.run(steps)
    assert "'yesterday' is not a date" in seen["bad_date"]
    assert "support@example.com" in seen["fuse_row"]
    assert "Electrician on the way" in seen["fuse_row"]
    assert seen["stranger_left"] == 0  # cleared: gone from the active alarms
    assert seen["fuse_clear"] == ["Acknowledge again"]  # a fuse clears itself: no Clear
