"""Who may connect: path, subprotocol, registration, Basic auth, TLS, replacement, limits."""

from __future__ import annotations

import json
import ssl
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected

from db import Store
from db.schema.models import Alarm, ChargingSession, Event
from gateway import Gateway, GatewayConfig
from gateway.actor import StationActor
from tests.gateway.conftest import TEST_CONFIG, add_id_tag, add_station
from tests.gateway.ocpp_client import now_iso, open_station


async def rejected(port: int, charge_box_id: str, **kwargs: Any) -> ConnectionRejected:
    with pytest.raises(ConnectionRejected) as caught:
        async with open_station(port, charge_box_id, **kwargs):
            pass
    return caught.value


async def test_unknown_station_gets_404_and_a_not_registered_alarm(
    gateway: Gateway, port: int, store: Store
) -> None:
    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed:
            refusal = await rejected(port, "STRANGER")
            await rejected(port, "STRANGER")
            await gateway.refusals.flush()  # what the gateway does every refusal_interval
            event = await feed.receive()
    assert refusal.status_code == 404
    assert refusal.body == b"Not registered"
    assert (event.kind, event.charge_box_id, event.data["kind"]) == (
        "alarm.raised",
        "STRANGER",
        "Not registered",
    )
    alarms = await store.read(lambda: list(Alarm.select()))
    assert alarms[0].message.startswith("2 connection attempts, the last from 127.0.0.1:")
    assert [(a.kind, a.charge_box_id, a.count) for a in alarms] == [
        ("Not registered", "STRANGER", 2)
    ]
    assert await store.read(lambda: Event.select().where(Event.charge_box_id == "STRANGER").count())


async def test_other_paths_and_missing_subprotocol_are_refused(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        assert (await rejected(port, "CP1", path="/somewhere/else")).status_code == 404
        assert (await rejected(port, "CP1", subprotocols=())).status_code == 400
        assert (await rejected(port, "CP1", subprotocols=("ocpp2.0.1",))).status_code == 400
    assert await store.read(lambda: Alarm.select().count()) == 0


async def test_basic_auth_with_the_stations_own_password(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1", password="s3cretPassw0rd")
    with trio.fail_after(20):
        assert (await rejected(port, "CP1")).status_code == 401
        assert (await rejected(port, "CP1", password="wrong")).status_code == 401
        refusal = await rejected(port, "CP1", password="s3cretPassw0rd", user="CP2")
        assert refusal.status_code == 401
        for _ in range(2):  # the second time comes from the verification cache
            async with open_station(port, "CP1", password="s3cretPassw0rd") as station:
                assert (await station.result("Heartbeat", {}))["currentTime"]


async def test_a_second_connection_replaces_the_first(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed, open_station(port, "CP1") as old:
            await old.result("Heartbeat", {})
            async with open_station(port, "CP1") as new:
                await new.result("Heartbeat", {})
                with pytest.raises(ConnectionClosed):
                    await old.receive()
                assert gateway.online_stations() == ["CP1"]
                kinds = []
                while "station.replaced" not in kinds:
                    kinds.append((await feed.receive()).kind)
                assert (await new.result("Heartbeat", {}))["currentTime"]
                assert "station.offline" not in kinds
    await gateway.refusals.flush()
    logged = await store.read(lambda: [e.kind for e in Event.select()])
    assert "station.replaced" in logged


async def test_frame_over_the_size_cap_closes_only_that_connection(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    gateway = Gateway(
        store, config=GatewayConfig(**{**TEST_CONFIG.__dict__, "max_message_size": 4096})
    )
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "BIG")
    await db_write(add_station, "SMALL")
    with trio.fail_after(10):
        async with open_station(port, "SMALL") as small, open_station(port, "BIG") as big:
            huge = json.dumps([2, "1", "DataTransfer", {"vendorId": "x", "data": "y" * 5000}])
            await big.send_raw(huge)
            with pytest.raises(ConnectionClosed) as closed:
                await big.receive()
            assert closed.value.reason.code == 1009
            assert (await small.result("Heartbeat", {}))["currentTime"]
        async with open_station(port, "BIG") as big:
            assert (await big.result("Heartbeat", {}))["currentTime"]


async def test_an_actor_that_crashes_ends_only_its_own_connection(
    gateway: Gateway, port: int, db_write, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = StationActor._dispatch

    async def failing_dispatch(self: StationActor, message: str | bytes) -> str | None:
        if self.charge_box_id == "CRASHY" and "Heartbeat" in str(message):
            raise RuntimeError("a bug in the actor itself")
        return await original(self, message)

    monkeypatch.setattr(StationActor, "_dispatch", failing_dispatch)
    await db_write(add_station, "CRASHY")
    await db_write(add_station, "STEADY")
    await db_write(add_id_tag, "TAG1")
    with trio.fail_after(10):
        async with open_station(port, "STEADY") as steady, open_station(port, "CRASHY") as crashy:
            start = await steady.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": now_iso()},
            )
            await crashy.send_raw('[2,"h","Heartbeat",{}]')
            with pytest.raises(ConnectionClosed) as closed:
                await crashy.receive()
            assert closed.value.reason.code == 1011
            tx = start["transactionId"]
            await steady.result(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": tx,
                    "meterValue": [{"timestamp": now_iso(), "sampledValue": [{"value": "500"}]}],
                },
            )
            await steady.result(
                "StopTransaction", {"transactionId": tx, "meterStop": 2000, "timestamp": now_iso()}
            )
        assert gateway.statistics()["crashedActors"] == 1
        async with open_station(port, "CRASHY") as crashy:  # it may come back
            assert (
                await crashy.result(
                    "StatusNotification",
                    {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
                )
            ) == {}
    session = await store.read(lambda: ChargingSession.get_by_id(tx))
    assert session.energy_wh == 2000
    crashes = await store.read(
        lambda: [e.message for e in Event.select().where(Event.kind == "station.crashed")]
    )
    assert crashes == ["RuntimeError: a bug in the actor itself"]


async def test_tls_with_basic_auth_is_security_profile_2(
    store: Store, nursery: trio.Nursery, db_write, certificate: tuple[str, str]
) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    gateway = Gateway(store, config=TEST_CONFIG)
    port = await nursery.start(
        lambda task_status: gateway.serve(
            "127.0.0.1", 0, ssl_context=server_context, task_status=task_status
        )
    )
    await db_write(add_station, "SECURE", password="Str0ngPassword")
    with trio.fail_after(10):
        async with open_station(
            port, "SECURE", password="Str0ngPassword", ssl_context=client_context
        ) as station:
            assert (await station.result("Heartbeat", {}))["currentTime"]
        refusal = await rejected(port, "SECURE", password="nope", ssl_context=client_context)
        assert refusal.status_code == 401


async def test_a_restarted_gateway_knows_running_sessions_when_the_station_returns(
    store: Store, db_write
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            first = Gateway(store, config=TEST_CONFIG)
            port = await nursery.start(first.serve, "127.0.0.1", 0)
            async with open_station(port, "CP1") as station:
                start = await station.result(
                    "StartTransaction",
                    {"connectorId": 2, "idTag": "TAG1", "meterStart": 500, "timestamp": now_iso()},
                )
            nursery.cancel_scope.cancel()
        async with trio.open_nursery() as nursery:
            second = Gateway(store, config=TEST_CONFIG)
            port = await nursery.start(second.serve, "127.0.0.1", 0)
            async with open_station(port, "CP1") as station:
                await station.result("Heartbeat", {})
                connector = second.snapshot("CP1").connectors[2]  # type: ignore[union-attr]
                assert connector.transaction_id == start["transactionId"]
                await station.result(
                    "MeterValues",
                    {
                        "connectorId": 2,
                        "transactionId": start["transactionId"],
                        "meterValue": [
                            {"timestamp": now_iso(), "sampledValue": [{"value": "900"}]}
                        ],
                    },
                )
                connector = second.snapshot("CP1").connectors[2]  # type: ignore[union-attr]
                assert (connector.meter_wh, connector.energy_wh) == (900, 400)
            nursery.cancel_scope.cancel()


async def test_gateway_pings_keep_a_live_station_connected(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    config = GatewayConfig(**{**TEST_CONFIG.__dict__, "ping_interval": 0.2})
    gateway = Gateway(store, config=config)
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await trio.sleep(0.7)  # trio-websocket answers pings: still connected
            assert gateway.is_online("CP1")
            assert (await station.result("Heartbeat", {}))["currentTime"]


async def test_stations_connecting_at_once_share_their_registration_lookups(
    gateway: Gateway, port: int, db_write
) -> None:
    for i in range(30):
        await db_write(add_station, f"CP{i}")
    answered: list[str] = []

    async def connect(charge_box_id: str) -> None:
        async with open_station(port, charge_box_id) as station:
            assert (await station.result("Heartbeat", {}))["currentTime"]
            answered.append(charge_box_id)

    with trio.fail_after(20):
        refusal = await rejected(port, "NOT-REGISTERED")
        async with trio.open_nursery() as nursery:
            for i in range(30):
                nursery.start_soon(connect, f"CP{i}")
    assert refusal.status_code == 404
    assert sorted(answered) == sorted(f"CP{i}" for i in range(30))
    lookups = gateway.statistics()["stationLookups"]
    assert lookups["items"] == 31
    assert lookups["batches"] < 31


async def test_a_connected_station_keeps_no_http_parser_of_its_handshake(
    gateway: Gateway, port: int, db_write
) -> None:
    """Memory per idle station: what only the opening handshake needed (its event deque,
    wsproto's h11 connection when it read the request) is let go once the connection is
    upgraded (pins private attributes of wsproto and gateway.handshake)."""
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            assert (await station.result("Heartbeat", {}))["currentTime"]
            actor = gateway.registry.actor("CP1")
            assert actor is not None
            handshake = actor._ws._wsproto.handshake
            assert handshake.connection is not None
            assert handshake._events == ()
            assert getattr(handshake, "_real", None) is None  # read in one pass
            assert (await station.result("Heartbeat", {}))["currentTime"]


def test_an_upgraded_h11_handshake_lets_go_of_its_http_connection() -> None:
    """The unusual requests go to wsproto's own H11Handshake: its h11 connection goes too."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Request

    from gateway.server import forget_handshake

    client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="h", target="/x", subprotocols=["ocpp1.6"])))
    assert [type(e) for e in server.events()] == [Request]
    client.receive_data(server.send(AcceptConnection(subprotocol="ocpp1.6")))

    class Ws:
        _wsproto = server

    forget_handshake(Ws())
    assert server.handshake._h11_connection is None
    assert server.handshake._events == ()
    assert list(server.events()) == []
