"""The certificates a station last listed (GetInstalledCertificateIds), kept per use and
kept current by the DeleteCertificate and InstallCertificate answers that follow."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from db.schema.models import InstalledCertificates

__all__ = [
    "forget_certificate",
    "installed_certificates_of",
    "mark_installed",
    "record_installed",
]

_KEYS = ("issuerNameHash", "issuerKeyHash", "serialNumber")


def _same(one: dict[str, Any], other: dict[str, Any]) -> bool:
    return all(str(one.get(k, "")).lower() == str(other.get(k, "")).lower() for k in _KEYS)


def record_installed(
    station_id: int, certificate_type: str, hash_data: list[dict[str, Any]], now: dt.datetime
) -> None:
    """The station's answer for one use replaces what was known of it."""
    row = InstalledCertificates.get_or_none(
        (InstalledCertificates.station == station_id)
        & (InstalledCertificates.certificate_type == certificate_type)
    )
    if row is None:
        row = InstalledCertificates(station=station_id, certificate_type=certificate_type)
    row.hash_data = json.dumps(hash_data)
    row.read_at = now
    row.installed_since = None
    row.save()


def forget_certificate(station_id: int, hash_data: dict[str, Any]) -> int:
    """The station no longer has this certificate (deleted, or not found): its entry leaves
    every list of the station; the number of entries removed."""
    removed = 0
    query = InstalledCertificates.select().where(InstalledCertificates.station == station_id)
    for row in query:
        entries = json.loads(row.hash_data)
        kept = [e for e in entries if not _same(e, hash_data)]
        if len(kept) != len(entries):
            removed += len(entries) - len(kept)
            row.hash_data = json.dumps(kept)
            row.save()
    return removed


def mark_installed(station_id: int, certificate_type: str, now: dt.datetime) -> None:
    """A certificate of this use was installed after the list was read: out of date."""
    InstalledCertificates.update(installed_since=now).where(
        (InstalledCertificates.station == station_id)
        & (InstalledCertificates.certificate_type == certificate_type)
        & InstalledCertificates.installed_since.is_null()
    ).execute()


def installed_certificates_of(station_id: int) -> dict[str, dict[str, Any]]:
    """Per certificate use that was ever read: ``readAt``, ``installedSince`` (None when
    the list is current) and ``certificates`` (the station's hash data)."""
    query = (
        InstalledCertificates.select()
        .where(InstalledCertificates.station == station_id)
        .order_by(InstalledCertificates.certificate_type)
    )
    return {
        row.certificate_type: {
            "readAt": row.read_at,
            "installedSince": row.installed_since,
            "certificates": json.loads(row.hash_data),
        }
        for row in query
    }
