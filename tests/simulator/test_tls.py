"""Security profile 2: Basic auth over TLS, the central system checked against a CA file."""

from __future__ import annotations

import ssl

import trio

from simulator import SimulatedStation, StationSettings
from tests.simulator.minimal_cs import MinimalCentralSystem


async def test_station_connects_over_tls_trusting_the_ca_file(certificate, nursery):
    cert, key = certificate
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    cs = MinimalCentralSystem(interval=60, ssl_context=server_ctx)
    await nursery.start(cs.run)
    assert cs.url.startswith("wss://")
    station = SimulatedStation(
        StationSettings(cs.url, "TLS1", password="tls-pass-1", ca_file=str(cert))
    )
    with trio.fail_after(10):
        await nursery.start(station.run)
    assert cs.auth_headers[0].startswith("Basic ")
    station.stop()


async def test_station_refuses_a_central_system_it_cannot_verify(certificate, nursery):
    cert, key = certificate
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    cs = MinimalCentralSystem(interval=60, ssl_context=server_ctx)
    await nursery.start(cs.run)
    station = SimulatedStation(
        StationSettings(cs.url, "TLS2", connect_timeout=1.0, backoff_initial=0.05, backoff_max=0.1)
    )  # no CA file: the system trust store does not know this certificate
    nursery.start_soon(station.run)
    with trio.fail_after(10):
        await station.wait_for(lambda: station.counters["errors"] >= 1)
    assert not station.online
    assert cs.received == []
    station.stop()
