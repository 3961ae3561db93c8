"""The portal in a real Chromium over plain http, with the real gateway and a simulated
station: login, live Navigator colours, provisioning an RFID that then authorizes,
and a site administrator who cannot see another site. Screenshots: tests/artifacts/."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import Site
from gateway import Gateway
from tests.portal.browser import BrowserThread, log_in, screenshot
from tests.portal.conftest import PASSWORD, World, simulated_station

pytestmark = pytest.mark.browser


def _log_in(page: Any, email: str) -> None:
    log_in(page, email, PASSWORD)


async def test_login_works_in_a_real_browser_over_plain_http(
    chromium: BrowserThread, base_url: str, world: World
) -> None:
    page = await chromium.new_page(base_url)

    def steps() -> dict[str, Any]:
        page.goto("/dashboard/")  # not logged in: the login page, keeping where to go
        page.wait_for_selector("input[name=email]")
        screenshot(page, "login")
        page.fill("input[name=email]", "admin@example.com")
        page.fill("input[name=password]", "Wrong-pass-1")
        page.click("button[type=submit]")
        error = page.inner_text('[data-testid="login-error"]')
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector('[data-testid="logout"]', state="attached")
        landed = page.url
        page.reload()  # the cookie was kept: still logged in
        still_in = page.locator('[data-testid="logout"]').count()
        cookies = {c["name"]: c for c in page.context.cookies()}
        screenshot(page, "dashboard")
        page.click(".user-menu summary")
        page.click('[data-testid="logout"]')
        page.wait_for_selector("input[name=email]")
        return {"error": error, "landed": landed, "still_in": still_in, "cookies": cookies}

    with trio.fail_after(60):
        seen = await chromium.run(steps)
    assert seen["error"] == "Wrong e-mail or password."
    assert seen["landed"].endswith("/dashboard/")
    assert seen["still_in"] == 1
    session = seen["cookies"]["cp_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["secure"] is False  # plain http: a Secure cookie would be dropped


async def test_a_station_turns_blue_in_the_navigator_when_it_starts_charging(
    chromium: BrowserThread,
    base_url: str,
    serving_gateway: Gateway,
    world: World,
    nursery: trio.Nursery,
) -> None:
    page = await chromium.new_page(base_url)
    station = simulated_station(serving_gateway, "SOLNA-1")
    link = 'a.station[data-cbid="SOLNA-1"]'
    with trio.fail_after(60):
        await nursery.start(station.run)
        await station.wait_online()

        def open_dashboard() -> str:
            _log_in(page, "admin@example.com")
            page.wait_for_selector("body[data-live='1']", state="attached")
            page.wait_for_selector(f"{link}.st-black")
            return str(page.evaluate("performance.getEntriesByType('navigation').length"))

        await chromium.run(open_dashboard)
        await station.plug_in(1)
        assert await station.present_tag(1, "1001") == "Accepted"
        await station.wait_status(1, "Charging")

        def wait_blue() -> tuple[str, int]:
            page.wait_for_selector(f"{link}.st-blue")
            screenshot(page, "navigator-charging")
            nav = page.evaluate("performance.getEntriesByType('navigation').length")
            return page.get_attribute(link, "data-colour") or "", int(nav)

        colour, navigations = await chromium.run(wait_blue)
        assert colour == "blue"
        assert navigations == 1  # no reload happened
        station.set_fault(2, "ground")

        def wait_red() -> None:
            page.wait_for_selector(f"{link}.st-red")

        await chromium.run(wait_red)


async def test_an_admin_provisions_an_ev_user_whose_badge_then_authorizes(
    chromium: BrowserThread,
    base_url: str,
    serving_gateway: Gateway,
    world: World,
    nursery: trio.Nursery,
) -> None:
    page = await chromium.new_page(base_url)
    station = simulated_station(serving_gateway, "SOLNA-1")
    with trio.fail_after(60):
        await nursery.start(station.run)
        await station.wait_online()
        assert (await station.authorize("500"))["status"] == "Invalid"

        def provision() -> dict[str, Any]:
            _log_in(page, "admin@example.com")
            page.goto("/provisioning/")
            page.click('[data-testid="users-table"] tbody tr:first-child', button="right")
            menu = page.inner_text(".context-menu")
            screenshot(page, "provisioning-context-menu")
            page.keyboard.press("Escape")
            page.click('[data-testid="add-user"]')
            page.select_option("select[name=role]", "ev-user")
            page.fill("input[name=first_name]", "Eva")
            page.fill("input[name=last_name]", "Driver")
            page.fill("input[name=email]", "eva@example.com")
            page.fill("input[name=password]", "Charge2026")
            page.fill("input[name=rfid]", "ev-user@example.com")  # wrong: not a number
            page.click('[data-testid="user-form"] button[type=submit]')
            rfid_error = page.inner_text("#rfid-error")
            screenshot(page, "provisioning-form-error")
            page.fill("input[name=password]", "Charge2026")
            page.fill("input[name=rfid]", "0x1F4")  # hex: shown as 500 before it is saved
            page.click('[data-testid="user-form"] button[type=submit]')
            shown = page.input_value("input[name=rfid]")
            hex_note = page.inner_text("#rfid-error")
            page.fill("input[name=password]", "Charge2026")
            page.click('[data-testid="user-form"] button[type=submit]')
            page.wait_for_selector('tr[data-user="eva@example.com"]')
            row = page.inner_text('tr[data-user="eva@example.com"]')
            screenshot(page, "provisioning")
            return {
                "menu": menu,
                "rfid_error": rfid_error,
                "shown": shown,
                "hex_note": hex_note,
                "row": row,
            }

        seen = await chromium.run(provision)
        assert "Add" in seen["menu"]
        assert "Edit" in seen["menu"]
        assert "Delete" in seen["menu"]
        assert "neither a decimal number nor hexadecimal" in seen["rfid_error"]
        assert seen["shown"] == "500"
        assert "in decimal it is 500" in seen["hex_note"]
        assert "500" in seen["row"]
        assert (await station.authorize("500"))["status"] == "Accepted"


async def test_a_site_administrator_sees_nothing_of_another_site(
    chromium: BrowserThread, base_url: str, world: World
) -> None:
    page = await chromium.new_page(base_url)

    def look() -> dict[str, Any]:
        _log_in(page, "site-admin@example.com")
        navigator = page.inner_text('[data-testid="navigator"]')
        screenshot(page, "site-admin-dashboard")
        users = page.goto("/provisioning/")
        table = page.inner_text('[data-testid="users-table"]')
        other = page.goto(f"/dashboard/?node=site:{world.kista}")
        screenshot(page, "site-admin-other-site-404")
        api = page.goto("/api/v1/stations/KISTA-1")
        return {
            "navigator": navigator,
            "users_status": users.status if users else 0,
            "table": table,
            "other_status": other.status if other else 0,
            "api_status": api.status if api else 0,
        }

    with trio.fail_after(60):
        seen = await chromium.run(look)
    assert "Solna" in seen["navigator"]
    assert "Kista" not in seen["navigator"]
    assert "KISTA" not in seen["navigator"].upper()
    assert seen["users_status"] == 200
    assert "site-admin@example.com" in seen["table"]
    assert "other-site-admin@example.com" not in seen["table"]
    assert seen["other_status"] == 404
    assert seen["api_status"] == 404


async def test_main_pages_are_keyboard_reachable_and_fit_a_phone(
    chromium: BrowserThread, base_url: str, world: World, store: Store
) -> None:
    long_name = "Sodraindustriomradet" * 5 + "Hallen"  # 106 characters, nowhere to wrap at
    await store.write(lambda: Site.update(name=long_name).where(Site.id == world.kista).execute())
    page = await chromium.new_page(base_url)

    def walk() -> dict[str, Any]:
        _log_in(page, "admin@example.com")
        page.keyboard.press("Tab")
        first = page.evaluate("document.activeElement.textContent")
        page.keyboard.press("Enter")
        focused_main = page.evaluate("document.activeElement.id")
        statuses = {}
        for name, path in [
            ("settings", "/settings/"),
            ("news", "/news"),
            ("alarms", "/alarms/"),
            ("alarm-history", "/alarms/history"),
            ("event-log", "/alarms/events"),
            ("api-tokens", "/provisioning/tokens"),
            ("badges", "/provisioning/tags"),
            ("user-form", "/provisioning/users/new"),
        ]:
            response = page.goto(path)
            statuses[name] = response.status if response else 0
            screenshot(page, name)
        # news: an administrator publishes, the bell counts it until opened
        page.goto("/news")
        page.fill("input[name=title]", "Maintenance tonight")
        page.fill("textarea[name=body]", "The portal restarts at 22:00.")
        page.click("form[action$='/news'] button[type=submit]")
        page.goto("/settings/")
        badge = page.inner_text("[data-unread]")
        page.click("[data-bell] summary")
        screenshot(page, "bell")
        page.reload()
        badge_after = page.is_visible("[data-unread]")
        # a destructive action asks first: cancelling the dialog keeps the token
        page.goto("/provisioning/tokens")
        page.fill("input[name=name]", "notebook")
        page.click("form[action$='/provisioning/tokens'] button[type=submit]")
        page.goto("/provisioning/tokens")
        page.click("button:has-text('Revoke')")
        dialog_open = page.is_visible("#confirm-dialog")
        screenshot(page, "confirm-dialog")
        page.keyboard.press("Escape")
        still_active = page.locator("td:has-text('active')").count()
        page.goto("/provisioning/")
        page.focus('[data-testid="users-table"] tbody tr:first-child')
        page.keyboard.press("Shift+F10")
        keyboard_menu = page.is_visible(".context-menu")
        page.keyboard.press("ArrowDown")
        focused_item = page.evaluate("document.activeElement.textContent")
        page.keyboard.press("Escape")
        widths = {}  # a long name wraps instead of widening the page
        for path in ("/configuration/topology", f"/configuration/general?node=site:{world.kista}"):
            page.goto(path)
            widths[path] = page.evaluate("document.documentElement.scrollWidth")
            widths["sidebar " + path] = page.evaluate(
                "(s => s.scrollWidth - s.clientWidth)(document.getElementById('sidebar'))"
            )
        page.set_viewport_size({"width": 390, "height": 800})
        page.goto("/dashboard/")
        sidebar_hidden = page.evaluate(
            "document.getElementById('sidebar').getBoundingClientRect().right <= 0"
        )
        page.click("[data-toggle-sidebar]")
        page.wait_for_timeout(300)
        screenshot(page, "phone-menu-open")
        sidebar_shown = page.evaluate(
            "document.getElementById('sidebar').getBoundingClientRect().left >= 0"
        )
        for path in ("/configuration/topology", f"/configuration/general?node=site:{world.kista}"):
            page.goto(path)
            widths["phone " + path] = page.evaluate("document.documentElement.scrollWidth")
        return {
            "first": first,
            "main": focused_main,
            "statuses": statuses,
            "dialog": dialog_open,
            "still_active": still_active,
            "keyboard_menu": keyboard_menu,
            "badge": badge,
            "badge_after": badge_after,
            "focused_item": focused_item,
            "hidden": sidebar_hidden,
            "shown": sidebar_shown,
            "widths": widths,
        }

    with trio.fail_after(60):
        seen = await chromium.run(walk)
    for path, width in seen["widths"].items():
        kind = path.split(" ")[0]
        assert width <= {"phone": 390, "sidebar": 0}.get(kind, 1280), (path, width)
    assert seen["first"] == "Skip to content"
    assert seen["main"] == "main"
    assert set(seen["statuses"].values()) == {200}
    assert seen["dialog"] is True
    assert seen["still_active"] == 1
    assert seen["keyboard_menu"] is True
    assert seen["badge"] == "1"
    assert seen["badge_after"] is False
    assert seen["focused_item"] == "Edit"
    assert seen["hidden"] is True
    assert seen["shown"] is True
