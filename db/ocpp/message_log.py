"""A station's kept OCPP messages (the transaction messages ``OcppMessage`` holds), newest N."""

from __future__ import annotations

from typing import Any

from db.schema.models import OcppMessage

__all__ = ["station_messages"]


def station_messages(station_id: int, limit: int) -> list[dict[str, Any]]:
    """The station's ``limit`` newest kept messages, oldest first."""
    query = (
        OcppMessage.select(
            OcppMessage.id,
            OcppMessage.received_at,
            OcppMessage.direction,
            OcppMessage.action,
            OcppMessage.unique_id,
            OcppMessage.session,
            OcppMessage.payload,
        )
        .where(OcppMessage.station == station_id)
        .order_by(OcppMessage.received_at.desc(), OcppMessage.id.desc())
        .limit(limit)
        .dicts()
    )
    return list(reversed(list(query)))
