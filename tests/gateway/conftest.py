"""Fixtures for gateway tests: a running gateway on port 0 and stations in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio

from db import Store, hash_station_password
from db.schema.models import IdTag, Outlet, Station, User
from gateway import Gateway, GatewayConfig

TEST_CONFIG = GatewayConfig(
    import_configuration=False,
    check_own_replies=True,
    command_timeout=5.0,
    supervisor_interval=3600,
)


def add_station(
    charge_box_id: str,
    *,
    password: str | None = None,
    outlets: int = 2,
    mode: str = "RFID",
    site_id: int | None = None,
) -> int:
    station = Station.create(
        charge_box_id=charge_box_id,
        name=f"Station {charge_box_id}",
        password_hash=hash_station_password(password) if password else None,
        site=site_id,
    )
    for connector_id in range(1, outlets + 1):
        Outlet.create(station=station, connector_id=connector_id, mode=mode)
    return int(station.id)


def add_id_tag(
    id_tag: str,
    *,
    status: str = "Accepted",
    expiry: Any = None,
    parent: str | None = None,
    email: str | None = None,
) -> None:
    user = None
    if email:
        user = User.create(email=email, role="ev-user")
    parent_row = IdTag.get(IdTag.id_tag == parent) if parent else None
    IdTag.create(id_tag=id_tag, status=status, expiry_date=expiry, parent=parent_row, user=user)


@pytest.fixture(name="config")
def _config() -> GatewayConfig:
    return TEST_CONFIG


@pytest.fixture(name="gateway")
async def _gateway(store: Store, config: GatewayConfig, nursery: trio.Nursery) -> Gateway:
    gateway = Gateway(store, config=config)
    await nursery.start(gateway.serve, "127.0.0.1", 0)
    return gateway


@pytest.fixture(name="port")
def _port(gateway: Gateway) -> int:
    assert gateway.port is not None
    return gateway.port


@pytest.fixture(name="db_write")
def _db_write(store: Store) -> Callable[..., Any]:
    async def write(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await store.write(lambda: fn(*args, **kwargs))

    return write
