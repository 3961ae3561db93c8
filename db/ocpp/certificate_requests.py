"""Certificate signing requests from stations (OCPP 1.6 security): stored and followed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.schema.models import CertificateRequest, utcnow

__all__ = [
    "certificate_requests_of",
    "record_certificate_request",
    "set_certificate_request_status",
    "settle_pending_request",
]


def record_certificate_request(
    station_id: int, charge_box_id: str, csr: str, status: str, detail: str, now: dt.datetime
) -> int:
    row = CertificateRequest.create(
        station=station_id,
        charge_box_id=charge_box_id,
        csr=csr,
        status=status,
        detail=detail[:255],
        received_at=now,
        updated_at=now,
    )
    return int(row.id)


def set_certificate_request_status(request_id: int, status: str, detail: str = "") -> None:
    CertificateRequest.update(status=status, detail=detail[:255], updated_at=utcnow()).where(
        CertificateRequest.id == request_id
    ).execute()


def settle_pending_request(station_id: int, accepted: bool) -> int | None:
    """The operator sent an external CA's certificate (CertificateSigned): the station's
    newest pending request is Installed or Rejected; returns its id (None: none pending)."""
    pending = (
        CertificateRequest.select(CertificateRequest.id)
        .where(
            (CertificateRequest.station == station_id) & (CertificateRequest.status == "Pending")
        )
        .order_by(CertificateRequest.id.desc())
        .first()
    )
    if pending is None:
        return None
    status, detail = (
        ("Installed", "certificate from the external CA installed by the station")
        if accepted
        else ("Rejected", "the station rejected the external CA's certificate")
    )
    set_certificate_request_status(pending.id, status, detail)
    return int(pending.id)


def certificate_requests_of(station_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The station's newest requests, for the portal (status in words)."""
    query = (
        CertificateRequest.select()
        .where(CertificateRequest.station == station_id)
        .order_by(CertificateRequest.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": r.id,
            "status": r.status,
            "detail": r.detail,
            "receivedAt": r.received_at,
            "updatedAt": r.updated_at,
        }
        for r in query
    ]
