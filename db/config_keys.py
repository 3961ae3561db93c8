"""The OCPP configuration keys table of a station (SPEC §9.4): imported, re-read, changed."""

from __future__ import annotations

from typing import Any

from db.models import ConfigurationKey, Station, utcnow

#: Substrings of key names whose wrong value can cut the station off (endpoint,
#: identity, security): the portal warns before saving them.
RISKY_KEY_PARTS = (
    "endpoint",
    "url",
    "identity",
    "security",
    "authorizationkey",
    "password",
    "certificate",
    "cponame",
    "hostname",
    "apn",
    "websocketpinginterval",
)


def is_risky_key(key: str) -> bool:
    """Endpoint, identity and security keys (``…Port`` too, but not ``…Supported``)."""
    lowered = key.lower()
    return any(part in lowered for part in RISKY_KEY_PARTS) or lowered.endswith("port")


def list_keys(station_id: int) -> list[dict[str, Any]]:
    return [
        {
            "key": row.key,
            "value": row.value,
            "readonly": bool(row.readonly),
            "risky": is_risky_key(row.key),
            "updated_at": row.updated_at,
        }
        for row in ConfigurationKey.select()
        .where(ConfigurationKey.station == station_id)
        .order_by(ConfigurationKey.key)
    ]


def import_configuration(charge_box_id: str, configuration_key: list[dict[str, Any]]) -> int:
    """Replace the table with a GetConfiguration answer (``configurationKey``); returns rows."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    if station is None:
        return 0
    now = utcnow()
    ConfigurationKey.delete().where(ConfigurationKey.station == station).execute()
    rows = [
        {
            "station": station.id,
            "key": str(item["key"])[:64],
            "value": item.get("value"),
            "readonly": bool(item.get("readonly", False)),
            "updated_at": now,
        }
        for item in configuration_key
        if item.get("key")
    ]
    unique = {row["key"]: row for row in rows}
    if unique:
        ConfigurationKey.insert_many(list(unique.values())).execute()
    station.config_imported_at = now
    station.save(only=[Station.config_imported_at])
    return len(unique)


def record_value(charge_box_id: str, key: str, value: str) -> None:
    """Store a value the station accepted (ChangeConfiguration Accepted/RebootRequired)."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    if station is None:
        return
    updated = (
        ConfigurationKey.update(value=value, updated_at=utcnow())
        .where((ConfigurationKey.station == station) & (ConfigurationKey.key == key))
        .execute()
    )
    if not updated:
        ConfigurationKey.create(station=station, key=key, value=value, readonly=False)


def key_value(charge_box_id: str, key: str) -> str | None:
    """The last known value of one key of a station (None when never read)."""
    row = (
        ConfigurationKey.select(ConfigurationKey.value)
        .join(Station)
        .where((Station.charge_box_id == charge_box_id) & (ConfigurationKey.key == key))
        .first()
    )
    return row.value if row is not None else None


def is_readonly(charge_box_id: str, key: str) -> bool:
    """True when the station reported ``key`` as read-only."""
    row = (
        ConfigurationKey.select(ConfigurationKey.readonly)
        .join(Station)
        .where((Station.charge_box_id == charge_box_id) & (ConfigurationKey.key == key))
        .first()
    )
    return bool(row is not None and row.readonly)
