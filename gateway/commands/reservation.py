"""OCPP 1.6 Reservation: reserve a connector for a badge, cancel a reservation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Self

from db.errors import Invalid
from db.ocpp.station_control import create_reservation, set_reservation_status
from db.schema.models import utcnow
from gateway.commands.base import Command, Outcome, Prepare, Target, describe
from gateway.commands.core import at_least, text

__all__ = ["CancelReservation", "ReserveNow"]


@dataclass(frozen=True)
class ReserveNow(Command):
    """Without ``reservation_id`` a reservation is created (Requested) before sending and
    its id sent; the answer becomes its status."""

    action = "ReserveNow"
    times = ("expiry_date",)
    connector_id: int
    expiry_date: dt.datetime
    id_tag: str
    reservation_id: int | None = None
    parent_id_tag: str | None = None

    def check(self) -> None:
        at_least(self.connector_id, 0, "connectorId")
        text(self.id_tag, "idTag", 20)
        if self.expiry_date <= utcnow():
            raise Invalid(
                "That time is already past: a reservation ends in the future.",
                field="expiryDate",
            )

    async def prepare(self, ctx: Prepare) -> Self:
        if self.reservation_id is not None:
            return self
        created = await ctx.write(
            create_reservation,
            ctx.target.charge_box_id,
            self.connector_id,
            self.id_tag,
            self.expiry_date,
        )
        return dataclasses.replace(self, reservation_id=created)

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        assert self.reservation_id is not None  # prepared
        set_reservation_status(self.reservation_id, answer.get("status") or "Rejected")
        outcome = describe(answer)
        return Outcome(outcome.message, outcome.ok, {"reservationId": self.reservation_id})


@dataclass(frozen=True)
class CancelReservation(Command):
    action = "CancelReservation"
    reservation_id: int

    def check(self) -> None:
        at_least(self.reservation_id, 0, "reservationId")

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        if answer.get("status") == "Accepted":
            set_reservation_status(self.reservation_id, "Cancelled")
        outcome = describe(answer)
        return Outcome(outcome.message, outcome.ok, {"reservationId": self.reservation_id})
