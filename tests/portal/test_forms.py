"""Forms as an operator meets them (issue 12 fix 9): only the chosen role's fields, panels
chosen once without losing the other choices, typed OCPP keys checked before sending,
e-mail addresses as typed, news confirmed, firmware progress under the answer."""

from __future__ import annotations

import re
from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import ConfigurationKey, User
from tests.portal.browser import BrowserThread, log_in, screenshot
from tests.portal.conftest import PASSWORD, World, login, post


async def test_an_integer_or_boolean_ocpp_key_refuses_a_wrong_value_before_sending(
    client: Any, world: World
) -> None:
    await login(client, "admin@example.com")
    url = f"/configuration/stations/{world.solna_station}/ocpp"
    cases = [
        ("HeartbeatInterval", "abc", "HeartbeatInterval takes a whole number"),
        ("HeartbeatInterval", "-5", "HeartbeatInterval takes a whole number"),
        ("LocalAuthListEnabled", "yes", "LocalAuthListEnabled is true or false"),
    ]
    for key, value, message in cases:
        answer = await post(client, url, {"key": key, "value": value})
        assert answer.status_code == 400, (key, value)
        assert message in await answer.get_data(as_text=True)
    # a right value goes on to the station (offline here: that is the answer now)
    good = await post(client, url, {"key": "HeartbeatInterval", "value": "300"})
    assert good.status_code != 400
    assert "whole number" not in await good.get_data(as_text=True)


async def test_the_ocpp_tab_offers_true_or_false_and_a_number_field(
    client: Any, store: Store, world: World
) -> None:
    def keys() -> None:
        for key, value in (("HeartbeatInterval", "300"), ("LocalAuthListEnabled", "True")):
            ConfigurationKey.create(station=world.solna_station, key=key, value=value)
        ConfigurationKey.create(station=world.solna_station, key="VendorThing", value="x")

    await store.write(keys)
    await login(client, "admin@example.com")
    page = await client.get(f"/configuration/ocpp?node=station:{world.solna_station}")
    html = await page.get_data(as_text=True)
    heartbeat = html.split('data-key="HeartbeatInterval"', 1)[1].split("</tr>", 1)[0]
    assert 'pattern="[0-9]{1,10}"' in heartbeat
    enabled = html.split('data-key="LocalAuthListEnabled"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r"<option selected>true</option>\s*<option\s*>false</option>", enabled)
    vendor = html.split('data-key="VendorThing"', 1)[1].split("</tr>", 1)[0]
    assert "pattern=" not in vendor
    assert "<select" not in vendor


async def test_a_panel_chosen_twice_is_explained_and_the_choices_are_kept(
    client: Any, world: World
) -> None:
    await login(client, "support@example.com")
    chosen = ["news", "occupancy", "news", "active-alarms"]
    answer = await post(client, "/settings/panels", {"panels": chosen})
    html = await answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Each panel can be chosen once: Portal news is chosen more than once." in html
    kept = re.findall(r'<option value="([a-z-]+)" selected>', html)
    assert kept == chosen


async def test_an_email_address_keeps_its_case_and_logs_in_in_any_case(
    app: Any, client: Any, store: Store, world: World
) -> None:
    await login(client, "admin@example.com")
    created = await post(
        client,
        "/provisioning/users/new",
        {
            "role": "support",
            "first_name": "Sam",
            "last_name": "Helper",
            "email": "Sam.Helper@Example.com",
            "password": "Helper2026",
        },
    )
    assert created.status_code == 302
    stored = await store.read(
        lambda: [u.email for u in User.select().where(User.first_name == "Sam")]
    )
    assert stored == ["Sam.Helper@Example.com"]
    again = await post(
        client,
        "/provisioning/users/new",
        {"role": "support", "email": "sam.helper@example.COM", "password": "Helper2026"},
    )
    assert again.status_code == 400
    assert "already used" in await again.get_data(as_text=True)
    other = app.test_client()
    assert (await login(other, "sam.helper@example.com", "Helper2026")).status_code == 302


async def test_publishing_news_says_it_was_published(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    published = await post(client, "/news", {"title": "Maintenance tonight", "body": "22:00"})
    assert published.status_code == 302
    html = await (await client.get(published.headers["Location"])).get_data(as_text=True)
    assert "Published “Maintenance tonight”: every user sees it under the bell." in html


async def test_the_firmware_progress_is_below_the_answer_it_announces(
    client: Any, world: World
) -> None:
    await login(client, "admin@example.com")
    page = await client.get(f"/configuration/control?node=station:{world.solna_station}")
    html = await page.get_data(as_text=True)
    card = html.split('data-action="update-firmware"', 1)[1].split("</form>", 1)[0]
    assert card.index('class="result-slot"') < card.index('data-testid="firmware-status"')


@pytest.mark.browser
async def test_in_a_browser_forms_show_only_what_applies(
    chromium: BrowserThread, base_url: str, world: World
) -> None:
    page = await chromium.new_page(base_url)

    def steps() -> dict[str, Any]:
        log_in(page, "admin@example.com", PASSWORD)
        page.goto("/provisioning/users/new")
        shown = {}
        for role in ("admin", "site-admin", "support", "ev-user"):
            page.select_option("select[name=role]", role)
            shown[role] = sorted(
                name
                for name in ("site_id", "email_at_alarm", "rfid")
                if page.is_visible(f'[name="{name}"]')
            )
        screenshot(page, "user-form-ev-user")
        page.goto("/settings/")
        first = page.input_value("#f-panel-0")
        taken = page.eval_on_selector(
            "#f-panel-1", f"s => s.querySelector('option[value=\"{first}\"]').disabled"
        )
        page.select_option("#f-panel-0", "occupancy")
        freed = page.eval_on_selector(
            "#f-panel-1", f"s => s.querySelector('option[value=\"{first}\"]').disabled"
        )
        return {"shown": shown, "taken": taken, "freed": freed}

    with trio.fail_after(60):
        seen = await chromium.run(steps)
    assert seen["shown"] == {
        "admin": ["email_at_alarm"],
        "site-admin": ["email_at_alarm", "site_id"],
        "support": [],
        "ev-user": ["rfid", "site_id"],
    }
    assert seen["taken"] is True
    assert seen["freed"] is False
