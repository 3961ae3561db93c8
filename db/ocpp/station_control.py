"""What Control actions need from the database: running transactions, reservations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.config_errors import NotFoundError
from db.ocpp.authorization import authorize_id_tag
from db.schema.models import ChargingSession, Outlet, Reservation, Station, utcnow


def running_transactions(charge_box_id: str) -> list[dict[str, Any]]:
    return [
        {
            "transaction_id": s.id,
            "connector_id": s.connector_id,
            "id_tag": s.id_tag,
            "start_time": s.start_time,
        }
        for s in ChargingSession.select()
        .where(
            (ChargingSession.charge_box_id == charge_box_id) & ChargingSession.end_time.is_null()
        )
        .order_by(ChargingSession.connector_id)
    ]


def create_reservation(
    charge_box_id: str, connector_id: int, id_tag: str, expiry_date: dt.datetime
) -> int:
    """A Requested reservation; its id is the OCPP reservationId."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    if station is None:
        raise NotFoundError(f"No station {charge_box_id!r}.")
    row = Reservation.create(
        station=station, connector_id=connector_id, id_tag=id_tag, expiry_date=expiry_date
    )
    return int(row.id)


def set_reservation_status(reservation_id: int, status: str) -> None:
    Reservation.update(status=status).where(Reservation.id == reservation_id).execute()


def reservations_of(charge_box_id: str) -> list[dict[str, Any]]:
    """Reservations still meaningful (accepted, not expired) and the latest others."""
    now = utcnow()
    rows = (
        Reservation.select()
        .join(Station)
        .where(Station.charge_box_id == charge_box_id)
        .order_by(Reservation.id.desc())
        .limit(20)
    )
    return [
        {
            "reservation_id": r.id,
            "connector_id": r.connector_id,
            "id_tag": r.id_tag,
            "expiry_date": r.expiry_date,
            "status": r.status,
            "active": r.status == "Accepted" and r.expiry_date > now,
        }
        for r in rows
    ]


def remote_start_refusal(charge_box_id: str, connector_id: int | None, id_tag: str) -> str | None:
    """Why a RemoteStartTransaction for ``id_tag`` would end at once, or None.

    The gateway refuses a tag that is not Accepted (blocked, expired, unknown, already
    charging) at StartTransaction unless the outlet is OPEN (anyone charges): the station
    would answer Accepted to the remote start and stop the session right away. Without a
    connector the station chooses one, so any RFID outlet counts.
    """
    outlets = Outlet.select(Outlet.mode).join(Station).where(Station.charge_box_id == charge_box_id)
    if connector_id is not None:
        outlets = outlets.where(Outlet.connector_id == connector_id)
    if not any(o.mode != "OPEN" for o in outlets):
        return None
    status = authorize_id_tag(id_tag, charge_box_id).status  # the rule of StartTransaction
    return None if status == "Accepted" else status
