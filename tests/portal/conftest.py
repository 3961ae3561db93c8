"""Portal fixtures: a real Gateway (listening only for tests that ask for
``serving_gateway``), the app, a seeded world of two sites with a user of every role,
login/CSRF helpers, and for browser tests Chromium and the portal served over http."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from db import Store, hash_station_password
from db.schema.models import ChargingSession, Floor, IdTag, Outlet, Site, Station, User
from gateway import Gateway, GatewayConfig
from portal import create_app, serve_portal
from simulator import SimulatedStation, StationSettings
from tests.portal.browser import BrowserThread, ensure_chromium

PASSWORD = "Secret123"
_CSRF = re.compile(r'name="(?:csrf-token|csrf_token)" (?:content|value)="([^"]+)"')


@functools.cache
def password_hash() -> str:
    """One argon2id hash for every seeded user, with light parameters: verification
    reads them from the hash, so logins in tests stay fast (people's real hashes use
    ``db.hash_password``'s 64 MiB profile)."""
    return hash_station_password(PASSWORD)


@dataclass
class World:
    """Ids of what ``seed_world`` created: two sites, each with a floor and stations."""

    solna: int
    kista: int
    solna_floor: int
    solna_station: int  # CBID "SOLNA-1", on the floor, 2 outlets
    solna_station2: int  # CBID "SOLNA-2", directly under the site
    kista_station: int  # CBID "KISTA-1"
    solna_outlet: int
    kista_outlet: int
    users: dict[str, int]  # role label → user id
    emails: dict[str, str]
    solna_outlet_uuid: str = ""
    kista_outlet_uuid: str = ""
    ev_session: int = 0  # the EV user's session at SOLNA-1 (RFID 1001)
    kista_session: int = 0  # an anonymous session at KISTA-1


ROLE_LABELS = {
    "admin": ("admin", None),
    "site-admin": ("site-admin", "solna"),
    "other-site-admin": ("site-admin", "kista"),
    "ev-user": ("ev-user", "solna"),
    "support": ("support", None),
}


def seed_world(hashed: str) -> World:
    solna = Site.create(name="Solna", city="Solna")
    kista = Site.create(name="Kista", city="Kista")
    floor = Floor.create(site=solna, name="Garage P1")
    s1 = Station.create(charge_box_id="SOLNA-1", name="Solna one", site=solna, floor=floor)
    s2 = Station.create(charge_box_id="SOLNA-2", name="Solna two", site=solna)
    k1 = Station.create(charge_box_id="KISTA-1", name="Kista one", site=kista)
    o1 = Outlet.create(station=s1, connector_id=1)
    Outlet.create(station=s1, connector_id=2)
    Outlet.create(station=s2, connector_id=1)
    ko = Outlet.create(station=k1, connector_id=1)
    users: dict[str, int] = {}
    emails: dict[str, str] = {}
    sites = {"solna": solna.id, "kista": kista.id}
    for label, (role, site) in ROLE_LABELS.items():
        email = f"{label}@example.com"
        user = User.create(
            email=email,
            role=role,
            site=sites[site] if site else None,
            password_hash=hashed,
            first_name=label.title(),
            last_name="Tester",
        )
        users[label] = user.id
        emails[label] = email
    IdTag.create(id_tag="1001", user=users["ev-user"])
    start = dt.datetime(2026, 11, 2, 8, 0, 0)
    common = {"start_time": start, "end_time": start + dt.timedelta(hours=1), "meter_start": 0}
    ev_session = ChargingSession.create(
        station=s1,
        charge_box_id="SOLNA-1",
        site=solna,
        site_name="Solna",
        outlet=o1,
        connector_id=1,
        id_tag="1001",
        user=users["ev-user"],
        user_email=emails["ev-user"],
        authentication=1,
        meter_stop=5000,
        energy_wh=5000,
        **common,
    )
    kista_session = ChargingSession.create(
        station=k1,
        charge_box_id="KISTA-1",
        site=kista,
        site_name="Kista",
        outlet=ko,
        connector_id=1,
        meter_stop=7000,
        energy_wh=7000,
        **common,
    )
    return World(
        solna.id,
        kista.id,
        floor.id,
        s1.id,
        s2.id,
        k1.id,
        o1.id,
        ko.id,
        users,
        emails,
        o1.uuid,
        ko.uuid,
        ev_session.id,
        kista_session.id,
    )


def _test_config(command_timeout: float = 5.0) -> GatewayConfig:
    return GatewayConfig(command_timeout=command_timeout, supervisor_interval=3600)


async def _listen(gateway: Gateway, nursery: Any) -> Gateway:
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    gateway.test_url = f"ws://127.0.0.1:{port}/Ocpp/websocket"  # type: ignore[attr-defined]
    return gateway


@pytest.fixture(name="gateway")
def _gateway(store: Store) -> Gateway:
    """The real gateway the ``app`` uses, not listening unless the test also asks for
    ``serving_gateway``."""
    return Gateway(store, config=_test_config())


@pytest.fixture(name="serving_gateway")
async def _serving_gateway(gateway: Gateway, nursery: Any) -> Gateway:
    """``gateway`` (the one the ``app`` uses) listening on 127.0.0.1:0 for simulated
    stations; ``serving_gateway.test_url`` is its OCPP-J URL."""
    return await _listen(gateway, nursery)


async def start_gateway(store: Store, nursery: Any, *, command_timeout: float = 5.0) -> Gateway:
    """Another real gateway listening on 127.0.0.1:0; ``gateway.test_url`` is its OCPP-J URL."""
    return await _listen(Gateway(store, config=_test_config(command_timeout)), nursery)


def simulated_station(gateway: Gateway, cbid: str, outlets: int = 2) -> SimulatedStation:
    """A simulated station for ``gateway`` with fast meter values and quick reconnects."""
    settings = StationSettings(
        gateway.test_url,  # type: ignore[attr-defined]
        cbid,
        outlets=outlets,
        config={"MeterValueSampleInterval": "1", "TransactionMessageRetryInterval": "1"},
        backoff_initial=0.1,
        backoff_max=0.5,
    )
    return SimulatedStation(settings)


@pytest.fixture(name="app")
def _app(store: Store, gateway: Gateway) -> Any:
    return create_app(store, gateway, config={"SECRET_KEY": "test-secret", "TESTING": True})


@pytest.fixture(name="base_url")
async def _base_url(app: Any, nursery: Any) -> str:
    """The ``app`` served over plain http on 127.0.0.1:0, for a browser."""
    port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(name="chromium", scope="module")
def _chromium() -> Iterator[BrowserThread]:
    """Debian's Chromium driven by Playwright from its own thread (one per module)."""
    if ensure_chromium() is None:
        pytest.skip("Chromium is missing and cannot be installed (needs root and apt-get)")
    thread = BrowserThread()
    thread.start()
    try:
        yield thread
    finally:
        thread.close()


@pytest.fixture(name="world")
async def _world(store: Store) -> World:
    return await store.write(seed_world, password_hash())


@pytest.fixture(name="client")
async def _client(app: Any) -> AsyncIterator[Any]:
    async with app.test_app() as test_app:
        yield test_app.test_client()


async def csrf_of(client: Any) -> str:
    """The CSRF token of this client's browser session (sets the cookie if needed)."""
    page = await client.get("/login")
    if page.status_code == 302:
        page = await client.get("/settings/")
    found = _CSRF.search(await page.get_data(as_text=True))
    assert found, "no CSRF token on the page"
    return found.group(1)


async def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    token = await csrf_of(client)
    return await client.post(
        "/login", form={"email": email, "password": password, "csrf_token": token}
    )


async def post(client: Any, path: str, form: dict[str, Any] | None = None, **kw: Any) -> Any:
    """A form POST carrying the session's CSRF token, as the portal's forms do (a list
    value sends the field several times, like a group of selects)."""
    token = await csrf_of(client)
    if "files" in kw:  # multipart: one value per field
        return await client.post(path, form={**(form or {}), "csrf_token": token}, **kw)
    fields = [("csrf_token", token)]
    for key, value in (form or {}).items():
        fields.extend((key, item) for item in (value if isinstance(value, list) else [value]))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **kw.pop("headers", {})}
    return await client.post(path, data=urlencode(fields), headers=headers, **kw)
