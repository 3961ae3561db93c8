"""Stations and id tags the end-to-end tests register in the database before connecting."""

from __future__ import annotations

from db import Store, hash_station_password
from db.schema.models import IdTag, Outlet, Station


async def register_stations(
    store: Store,
    charge_box_ids: list[str],
    *,
    outlets: int = 4,
    password: str | None = None,
    mode: str = "RFID",
    security_profile: int | None = None,
) -> None:
    """Rows for each station and its outlets (one password hash shared: hashing is slow)."""
    password_hash = hash_station_password(password) if password else None

    def unit() -> None:
        for cbid in charge_box_ids:
            station = Station.create(
                charge_box_id=cbid,
                name=f"Station {cbid}",
                password_hash=password_hash,
                security_profile=(1 if password else 0)
                if security_profile is None
                else security_profile,
            )
            for connector_id in range(1, outlets + 1):
                Outlet.create(station=station, connector_id=connector_id, mode=mode)

    await store.write(unit)


async def register_tags(store: Store, tags: list[str], *, status: str = "Accepted") -> None:
    def unit() -> None:
        for tag in tags:
            IdTag.create(id_tag=tag, status=status)

    await store.write(unit)
