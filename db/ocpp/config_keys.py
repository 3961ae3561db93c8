"""The OCPP configuration keys of a station (SPEC §9.4) as the gateway last stored them."""

from __future__ import annotations

import re
from typing import Any

from db.schema.models import ConfigurationKey, Station

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
            "kind": key_kind(row.key),
            "updated_at": row.updated_at,
        }
        for row in ConfigurationKey.select()
        .where(ConfigurationKey.station == station_id)
        .order_by(ConfigurationKey.key)
    ]


def _key(charge_box_id: str, key: str) -> ConfigurationKey | None:
    return (
        ConfigurationKey.select(ConfigurationKey.value, ConfigurationKey.readonly)
        .join(Station)
        .where((Station.charge_box_id == charge_box_id) & (ConfigurationKey.key == key))
        .first()
    )


def key_value(charge_box_id: str, key: str) -> str | None:
    """The last known value of one key of a station (None when never read)."""
    row = _key(charge_box_id, key)
    return row.value if row is not None else None


def is_readonly(charge_box_id: str, key: str) -> bool:
    """True when the station reported ``key`` as read-only."""
    row = _key(charge_box_id, key)
    return bool(row is not None and row.readonly)


_WHOLE = re.compile(r"^[0-9]{1,10}$")
#: The value types of OCPP 1.6's standard configuration keys (OCPP 1.6 §9): the portal
#: checks a new value before it asks the station to take it.
INTEGER_KEYS = frozenset(
    {
        "AuthCacheLifeTime",
        "BlinkRepeat",
        "ChargeProfileMaxStackLevel",
        "ChargingScheduleMaxPeriods",
        "ClockAlignedDataInterval",
        "ConnectionTimeOut",
        "ConnectorPhaseRotationMaxLength",
        "GetConfigurationMaxKeys",
        "HeartbeatInterval",
        "LightIntensity",
        "LocalAuthListMaxLength",
        "MaxChargingProfilesInstalled",
        "MaxEnergyOnInvalidId",
        "MeterValueSampleInterval",
        "MeterValuesAlignedDataMaxLength",
        "MeterValuesSampledDataMaxLength",
        "MinimumStatusDuration",
        "NumberOfConnectors",
        "ResetRetries",
        "SendLocalListMaxLength",
        "StopTxnAlignedDataMaxLength",
        "StopTxnSampledDataMaxLength",
        "SupportedFeatureProfilesMaxLength",
        "TransactionMessageAttempts",
        "TransactionMessageRetryInterval",
        "WebSocketPingInterval",
    }
)
BOOLEAN_KEYS = frozenset(
    {
        "AllowOfflineTxForUnknownId",
        "AuthorizationCacheEnabled",
        "AuthorizeRemoteTxRequests",
        "ConnectorSwitch3to1PhaseSupported",
        "LocalAuthListEnabled",
        "LocalAuthorizeOffline",
        "LocalPreAuthorize",
        "ReserveConnectorZeroSupported",
        "StopTransactionOnEVSideDisconnect",
        "StopTransactionOnInvalidId",
        "UnlockConnectorOnEVSideDisconnect",
    }
)


def key_kind(key: str) -> str:
    """``int``, ``bool`` or ``text`` (vendor keys and lists are not checked)."""
    if key in INTEGER_KEYS:
        return "int"
    if key in BOOLEAN_KEYS:
        return "bool"
    return "text"


def check_key_value(key: str, value: str) -> str:
    """The value as the station should get it (booleans lower-cased); raises ValueError
    with a readable message when an integer or boolean key gets something else."""
    kind = key_kind(key)
    text = value.strip()
    if kind == "int":
        if not _WHOLE.match(text):
            raise ValueError(f"{key} takes a whole number of 0 or more, not {value!r}.")
        return str(int(text))
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{key} is true or false, not {value!r}.")
        return text.lower()
    return value
