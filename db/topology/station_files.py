"""Firmware images (uploaded by people) and diagnostics files (uploaded by stations)."""

from __future__ import annotations

from typing import Any

from db.config_errors import ConfigurationError, NotFoundError
from db.schema.models import DiagnosticsFile, FirmwareImage, Station


def record_firmware(
    filename: str, *, version: str, size: int, sha256: str, user_id: int | None
) -> int:
    """Add (or replace, same file name) an image; returns its id."""
    version = version.strip()[:64]
    if not version:
        raise ConfigurationError(
            "Say which firmware version the image installs (stations report it at boot).",
            field="version",
        )
    FirmwareImage.delete().where(FirmwareImage.filename == filename).execute()
    row = FirmwareImage.create(
        filename=filename, version=version, size=size, sha256=sha256, uploaded_by=user_id
    )
    return int(row.id)


def firmware_view(row: FirmwareImage) -> dict[str, Any]:
    return {
        "id": row.id,
        "filename": row.filename,
        "version": row.version,
        "size": row.size,
        "sha256": row.sha256,
        "uploaded_at": row.uploaded_at,
    }


def list_firmware() -> list[dict[str, Any]]:
    return [
        firmware_view(r) for r in FirmwareImage.select().order_by(FirmwareImage.uploaded_at.desc())
    ]


def get_firmware(image_id: int) -> dict[str, Any]:
    row = FirmwareImage.get_or_none(FirmwareImage.id == image_id)
    if row is None:
        raise NotFoundError(f"No firmware image {image_id}.")
    return firmware_view(row)


def delete_firmware(image_id: int) -> str:
    row = FirmwareImage.get_or_none(FirmwareImage.id == image_id)
    if row is None:
        raise NotFoundError(f"No firmware image {image_id}.")
    row.delete_instance()
    return str(row.filename)


def record_diagnostics(charge_box_id: str, filename: str, path: str, size: int) -> int:
    """A file a station uploaded; ``path`` relative to the diagnostics folder."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    DiagnosticsFile.delete().where(
        (DiagnosticsFile.charge_box_id == charge_box_id) & (DiagnosticsFile.path == path)
    ).execute()
    row = DiagnosticsFile.create(
        station=station, charge_box_id=charge_box_id, filename=filename, path=path, size=size
    )
    return int(row.id)


def diagnostics_view(row: DiagnosticsFile) -> dict[str, Any]:
    return {
        "id": row.id,
        "station_id": row.station_id,
        "charge_box_id": row.charge_box_id,
        "filename": row.filename,
        "size": row.size,
        "received_at": row.received_at,
    }


def list_diagnostics(station_id: int) -> list[dict[str, Any]]:
    return [
        diagnostics_view(r)
        for r in DiagnosticsFile.select()
        .where(DiagnosticsFile.station == station_id)
        .order_by(DiagnosticsFile.received_at.desc())
    ]


def get_diagnostics(file_id: int, site_scope: int | None = None) -> tuple[dict[str, Any], str]:
    """(view, stored path) of a diagnostics file; NotFoundError outside ``site_scope``."""
    row = DiagnosticsFile.get_or_none(DiagnosticsFile.id == file_id)
    in_scope = site_scope is None or (
        row is not None and row.station_id is not None and row.station.site_id == site_scope
    )
    if row is None or not in_scope:
        raise NotFoundError(f"No diagnostics file {file_id}.")
    return diagnostics_view(row), str(row.path)
