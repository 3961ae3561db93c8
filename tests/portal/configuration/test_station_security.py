"""A station's security profile and client certificate on its General tab."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db import Store
from db.schema.models import Station
from tests.portal.conftest import World, login


async def test_the_general_tab_shows_the_profile_the_upgrade_and_the_certificate(
    client: Any, store: Store, world: World
) -> None:
    expires = dt.datetime(2027, 3, 1, 12, 0)

    def unit() -> None:
        Station.update(
            security_profile=2,
            security_profile_pending=3,
            certificate_subject="CN=SOLNA-1,O=Test CPO",
            certificate_expires_at=expires,
        ).where(Station.id == world.solna_station).execute()

    await store.write(unit)
    await login(client, "support@example.com")
    tab = await client.get(f"/configuration/general?node=station:{world.solna_station}")
    html = await tab.get_data(as_text=True)
    assert 'data-testid="security-profile">2 — TLS + password<' in html
    assert "to 3 (TLS + client certificate): accepted by the station" in html
    assert 'data-testid="certificate-subject">CN=SOLNA-1,O=Test CPO<' in html
    assert "2027-03-01" in html.split('data-testid="certificate-expires"')[1][:200]
