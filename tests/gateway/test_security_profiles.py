"""Security profiles at the handshake: client certificates (3), downgrades refused, upgrades."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionRejected

from db import Store
from db.schema.models import Event, Station
from db.topology.station_settings import set_station_password
from gateway import Gateway
from gateway.tls import station_tls_context
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.ocpp_client import open_station
from tests.pki import Authority, make_authority

PASSWORD = "Str0ngPassword16"


@pytest.fixture(name="ca")
def _ca(tmp_path: Path) -> Authority:
    return make_authority(tmp_path / "pki", "Operator CA")


@pytest.fixture(name="tls_gateway")
async def _tls_gateway(store: Store, nursery: trio.Nursery, ca: Authority) -> Gateway:
    """A gateway over TLS that verifies client certificates against the operator's CA."""
    server = ca.server()
    context = station_tls_context(str(server.cert_file), str(server.key_file), str(ca.cert_file))
    gateway = Gateway(store, config=TEST_CONFIG)
    await nursery.start(
        lambda task_status: gateway.serve(
            "127.0.0.1", 0, ssl_context=context, task_status=task_status
        )
    )
    return gateway


def client_context(ca: Authority, cert: Any = None) -> ssl.SSLContext:
    """What a station uses: trusts the operator's CA, shows its own certificate if any."""
    context = ssl.create_default_context(cafile=str(ca.cert_file))
    if cert is not None:
        context.load_cert_chain(str(cert.cert_file), str(cert.key_file))
    return context


async def station_with(store: Store, cbid: str, profile: int, **fields: Any) -> int:
    def unit() -> int:
        station_id = add_station(cbid, password=PASSWORD if profile in (1, 2) else None)
        Station.update(security_profile=profile, **fields).where(Station.id == station_id).execute()
        return station_id

    return await store.write(unit)


async def security_events(store: Store) -> list[tuple[str, str]]:
    def unit() -> list[tuple[str, str]]:
        rows = Event.select().where(Event.kind == "station.security").order_by(Event.id)
        return [(e.charge_box_id, e.message) for e in rows]

    return await store.read(unit)


async def upgrade_over_tls(port: int, cbid: str, context: ssl.SSLContext) -> bytes:
    """A WebSocket upgrade request over TLS; what came back before the connection ended.

    (trio-websocket's client waits for its whole connect timeout when the TLS layer drops
    the connection under its handshake, so the request is written by hand here.)"""
    stream = await trio.open_ssl_over_tcp_stream("127.0.0.1", port, ssl_context=context)
    request = (
        f"GET /Ocpp/websocket/{cbid} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
    )
    received = b""
    try:
        await stream.send_all(request.encode())
        while chunk := await stream.receive_some():
            received += chunk
    except trio.BrokenResourceError:
        pass
    finally:
        await trio.aclose_forcefully(stream)
    return received


async def refused(port: int, cbid: str, **kwargs: Any) -> ConnectionRejected:
    with pytest.raises(ConnectionRejected) as caught:
        async with open_station(port, cbid, **kwargs):
            pass
    return caught.value


async def test_a_profile_3_station_connects_with_a_certificate_naming_it(
    tls_gateway: Gateway, store: Store, ca: Authority
) -> None:
    await station_with(store, "CERT-1", 3)
    cert = ca.issue("CERT-1", days=200)
    with trio.fail_after(10):
        async with open_station(
            tls_gateway.port or 0, "CERT-1", ssl_context=client_context(ca, cert)
        ) as station:
            assert (await station.result("Heartbeat", {}))["currentTime"]
    row = await store.read(lambda: Station.get(Station.charge_box_id == "CERT-1"))
    assert row.certificate_subject == "CN=CERT-1,O=Test CPO"
    expected = cert.certificate.not_valid_after_utc.replace(tzinfo=None)
    assert abs(row.certificate_expires_at - expected) < dt.timedelta(seconds=1)


async def test_a_certificate_in_a_subject_alt_name_names_the_station_too(
    tls_gateway: Gateway, store: Store, ca: Authority
) -> None:
    await station_with(store, "CERT-ALT", 3)
    cert = ca.issue("Serial 0042", file_name="alt", dns=("CERT-ALT",))
    with trio.fail_after(10):
        async with open_station(
            tls_gateway.port or 0, "CERT-ALT", ssl_context=client_context(ca, cert)
        ) as station:
            assert (await station.result("Heartbeat", {}))["currentTime"]


async def test_a_certificate_for_another_station_is_refused_and_logged(
    tls_gateway: Gateway, store: Store, ca: Authority
) -> None:
    await station_with(store, "CERT-2", 3)
    other = ca.issue("CERT-OTHER")
    with trio.fail_after(10):
        refusal = await refused(
            tls_gateway.port or 0, "CERT-2", ssl_context=client_context(ca, other)
        )
        await tls_gateway.refusals.flush()
    assert refusal.status_code == 403
    [(cbid, message)] = await security_events(store)
    assert cbid == "CERT-2"
    assert "1 connection refused: its client certificate names 'CERT-OTHER'" in message


async def test_a_profile_3_station_without_a_certificate_is_refused(
    tls_gateway: Gateway, store: Store, ca: Authority
) -> None:
    await station_with(store, "CERT-3", 3)
    with trio.fail_after(10):
        bare = await refused(tls_gateway.port or 0, "CERT-3", ssl_context=client_context(ca))
        await tls_gateway.refusals.flush()
    assert bare.status_code == 403
    [(cbid, message)] = await security_events(store)
    assert cbid == "CERT-3"
    assert "no client certificate, profile 0 (no authentication), below the station's" in message


async def test_a_password_is_a_downgrade_for_a_profile_3_station(
    tls_gateway: Gateway, store: Store, ca: Authority
) -> None:
    station_id = await station_with(store, "CERT-4", 3)
    await store.write(lambda: set_station_password(station_id, PASSWORD))
    with trio.fail_after(10):
        refusal = await refused(
            tls_gateway.port or 0, "CERT-4", password=PASSWORD, ssl_context=client_context(ca)
        )
        await tls_gateway.refusals.flush()
    assert refusal.status_code == 403
    [(_, message)] = await security_events(store)
    assert "no client certificate, profile 2 (TLS + password), below the station's" in message


async def test_plain_websocket_is_a_downgrade_for_a_profile_2_station(
    gateway: Gateway, store: Store
) -> None:
    await station_with(store, "PLAIN-2", 2)
    with trio.fail_after(10):
        refusal = await refused(gateway.port or 0, "PLAIN-2", password=PASSWORD)
        await gateway.refusals.flush()
    assert refusal.status_code == 403
    [(cbid, message)] = await security_events(store)
    assert cbid == "PLAIN-2"
    assert "profile 1 (password (HTTP Basic)), below the station's security profile 2" in message


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("expired", "certificate has expired"),
        ("unknown CA", "unable to get local issuer certificate"),
    ],
)
async def test_a_bad_certificate_fails_the_tls_handshake_and_is_logged(
    tls_gateway: Gateway, store: Store, ca: Authority, tmp_path: Path, kind: str, reason: str
) -> None:
    await station_with(store, "CERT-5", 3)
    if kind == "expired":
        starts = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
        cert = ca.issue("CERT-5", days=30, starts=starts)
    else:
        stranger = make_authority(tmp_path / "other", "Stranger CA")
        cert = stranger.issue("CERT-5")
    with trio.fail_after(10):
        answer = await upgrade_over_tls(tls_gateway.port or 0, "CERT-5", client_context(ca, cert))
        await tls_gateway.refusals.flush()
    assert answer == b""  # the TLS layer closed: no HTTP answer at all
    assert tls_gateway.registry.actor("CERT-5") is None
    [(cbid, message)] = await security_events(store)
    assert cbid == ""
    assert message.startswith("1 TLS handshake refused from 127.0.0.1: ")
    assert reason in message


async def test_an_accepted_upgrade_becomes_the_profile_once_the_station_reconnects_with_it(
    tls_gateway: Gateway, store: Store, ca: Authority
) -> None:
    await station_with(store, "UP-1", 2, security_profile_pending=3)
    cert = ca.issue("UP-1")
    with trio.fail_after(10):
        async with open_station(
            tls_gateway.port or 0, "UP-1", ssl_context=client_context(ca, cert)
        ) as station:
            await station.result("Heartbeat", {})
        row = await store.read(lambda: Station.get(Station.charge_box_id == "UP-1"))
        assert (row.security_profile, row.security_profile_pending) == (3, None)
        downgrade = await refused(
            tls_gateway.port or 0, "UP-1", password=PASSWORD, ssl_context=client_context(ca)
        )
    assert downgrade.status_code == 403
    messages = [m for _, m in await security_events(store)]
    assert messages == ["security profile 3 (TLS + client certificate) in use"]


async def test_a_station_falling_back_after_an_upgrade_keeps_its_old_profile(
    tls_gateway: Gateway, store: Store, ca: Authority
) -> None:
    await station_with(store, "UP-2", 2, security_profile_pending=3)
    with trio.fail_after(10):
        async with open_station(
            tls_gateway.port or 0, "UP-2", password=PASSWORD, ssl_context=client_context(ca)
        ) as station:
            await station.result("Heartbeat", {})
    row = await store.read(lambda: Station.get(Station.charge_box_id == "UP-2"))
    assert (row.security_profile, row.security_profile_pending) == (2, None)
    [(_, message)] = await security_events(store)
    assert message.startswith("upgrade to security profile 3 failed: the station reconnected")
