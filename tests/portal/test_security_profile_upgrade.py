"""A station moved from security profile 2 to 3 through the portal's Control tab (with a
certificate the operator's CA signed), then a downgrade refused through the JSON API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from db import Store, hash_station_password
from db.schema.models import CertificateRequest, Station
from gateway import Gateway, GatewayConfig
from gateway.tls import station_tls_context
from simulator import SimulatedStation, StationSettings
from tests.pki import Authority, make_authority
from tests.portal.conftest import World, csrf_of, login, post

PASSWORD = "portal-station-pass-16"


@pytest.fixture(name="ca")
def _ca(tmp_path: Path) -> Authority:
    return make_authority(tmp_path / "pki", "Operator CA")


@pytest.fixture(name="gateway")
async def _tls_gateway(store: Store, nursery: trio.Nursery, ca: Authority) -> Gateway:
    """The gateway over TLS: it signs CSRs with the operator's CA and verifies client
    certificates against it (serve --csr-ca-cert/--csr-ca-key --tls-client-ca)."""
    server = ca.server()
    config = GatewayConfig(
        command_timeout=5.0,
        supervisor_interval=3600,
        ca_cert_file=str(ca.cert_file),
        ca_key_file=str(ca.key_file),
        client_ca_file=str(ca.cert_file),
    )
    context = station_tls_context(str(server.cert_file), str(server.key_file), str(ca.cert_file))
    gateway = Gateway(store, config=config)
    port = await nursery.start(
        lambda task_status: gateway.serve(
            "127.0.0.1", 0, ssl_context=context, task_status=task_status
        )
    )
    gateway.test_url = f"wss://127.0.0.1:{port}/Ocpp/websocket"  # type: ignore[attr-defined]
    return gateway


async def _until(store: Store, check: Any) -> None:
    while True:
        if await store.read(check):
            return
        await trio.sleep(0.05)


def _solna() -> Station:
    return Station.get(Station.charge_box_id == "SOLNA-1")


async def test_a_profile_2_station_is_upgraded_to_3_from_the_control_tab(
    client: Any, store: Store, gateway: Gateway, world: World, nursery: trio.Nursery, ca: Authority
) -> None:
    hashed = hash_station_password(PASSWORD)
    await store.write(
        lambda: (
            Station.update(password_hash=hashed, security_profile=2)
            .where(Station.id == world.solna_station)
            .execute()
        )
    )
    station = SimulatedStation(
        StationSettings(
            gateway.test_url,  # type: ignore[attr-defined]
            "SOLNA-1",
            password=PASSWORD,
            ca_file=str(ca.cert_file),
            backoff_initial=0.05,
            backoff_max=0.2,
        )
    )
    control = f"/configuration/stations/{world.solna_station}/control"
    with trio.fail_after(30):
        await nursery.start(station.run)
        await login(client, "support@example.com")
        # not yet: the station has no client certificate
        early = await post(client, f"{control}/security-profile", {"securityProfile": "3"})
        assert "has no valid client certificate yet" in await early.get_data(as_text=True)
        assert station.security.profile == 2
        tab = await client.get(f"/configuration/control?node=station:{world.solna_station}")
        html = await tab.get_data(as_text=True)
        assert 'data-action="security-profile"' in html
        assert 'data-action="extended-trigger-message"' in html
        await post(
            client,
            f"{control}/extended-trigger-message",
            {"requestedMessage": "SignChargePointCertificate"},
        )
        await _until(
            store,
            lambda: (
                CertificateRequest.select().where(CertificateRequest.status == "Installed").exists()
            ),
        )
        page = await post(client, f"{control}/security-profile", {"securityProfile": "3"})
        assert "accepted security profile 3" in await page.get_data(as_text=True)
        await _until(store, lambda: _solna().security_profile == 3)
        await station.wait_for(lambda: station.online)
        facts = await (await client.get("/api/v1/stations/SOLNA-1/security")).get_json()
        token = await csrf_of(client)
        downgrade = await client.post(
            "/api/v1/stations/SOLNA-1/control/security-profile",
            json={"securityProfile": 2},
            headers={"X-CSRF-Token": token},
        )
    assert station.security.profile == 3
    assert facts["securityProfile"] == 3
    assert facts["securityProfilePending"] is None
    assert facts["certificateSubject"] == "CN=SOLNA-1,O=ChargePortal"
    assert facts["certificateExpiresAt"].endswith("Z")
    assert downgrade.status_code == 409
    assert "allows no downgrade" in (await downgrade.get_json())["message"]
    station.stop()
