"""User settings: e-mail (user name) and the dashboard panels."""

from __future__ import annotations

from typing import Any

from db import Store
from db.schema.models import User
from tests.portal.conftest import World, login, post


async def test_changing_the_email_changes_the_user_name(
    app: Any, client: Any, store: Store, world: World
) -> None:
    await login(client, "support@example.com")
    taken = await post(client, "/settings/email", {"email": "admin@example.com"})
    assert taken.status_code == 400
    assert "already used" in await taken.get_data(as_text=True)
    changed = await post(client, "/settings/email", {"email": "Helpdesk@Example.com"})
    assert changed.status_code == 302
    page = await (await client.get("/settings/")).get_data(as_text=True)
    assert 'value="Helpdesk@Example.com"' in page  # kept as typed
    assert (await login(app.test_client(), "helpdesk@example.com")).status_code == 302
    assert (await login(app.test_client(), "HELPDESK@example.COM")).status_code == 302


async def test_four_distinct_dashboard_panels_are_saved(
    client: Any, store: Store, world: World
) -> None:
    await login(client, "admin@example.com")
    three = await post(
        client, "/settings/panels", {"panels": ["news", "occupancy", "latest-sessions"]}
    )
    assert three.status_code == 400
    assert "Choose exactly 4 panels" in await three.get_data(as_text=True)
    chosen = ["news", "occupancy", "active-alarms", "station-status"]
    saved = await post(client, "/settings/panels", {"panels": chosen})
    assert saved.status_code == 302
    user = await store.read(lambda: User.get_by_id(world.users["admin"]))
    assert user.dashboard_panels == ",".join(chosen)
