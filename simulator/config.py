"""A station's OCPP configuration keys: realistic defaults, read-only and reboot-required keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["MEASURANDS", "KeySpec", "StationConfiguration", "default_specs"]

MEASURANDS = frozenset(
    {
        "Energy.Active.Import.Register",
        "Energy.Active.Import.Interval",
        "Power.Active.Import",
        "Power.Offered",
        "Current.Import",
        "Current.Offered",
        "Voltage",
        "SoC",
        "Temperature",
        "Frequency",
    }
)


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One configuration key: its type (int, bool, str, csl), default and flags."""

    name: str
    kind: str
    default: str
    readonly: bool = False
    reboot: bool = False
    hidden: bool = False  # write-only (AuthorizationKey): never reported by GetConfiguration
    max_items: int = 0  # for csl: how many items (0 = no limit)


def default_specs(*, outlets: int, vendor: str, model: str, firmware: str, identity: str) -> dict:
    """The key table of a simulated station (shared by every station of a fleet)."""
    profiles = (
        "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
    )
    rotation = ",".join(f"{i}.RST" for i in range(outlets + 1))
    specs = [
        KeySpec("AllowOfflineTxForUnknownId", "bool", "false"),
        KeySpec("AuthCacheLifeTime", "int", "2592000"),
        KeySpec("AuthorizationCacheEnabled", "bool", "true"),
        KeySpec("AuthorizationKey", "str", "", hidden=True),
        KeySpec("AuthorizeRemoteTxRequests", "bool", "false"),
        KeySpec("BlinkRepeat", "int", "3"),
        KeySpec("ChargeProfileMaxStackLevel", "int", "10", readonly=True),
        KeySpec("ChargingScheduleAllowedChargingRateUnit", "str", "Current,Power", readonly=True),
        KeySpec("ChargingScheduleMaxPeriods", "int", "24", readonly=True),
        KeySpec("ChargingStationModel", "str", model, readonly=True),
        KeySpec("ChargingStationVendor", "str", vendor, readonly=True),
        KeySpec("ClockAlignedDataInterval", "int", "0"),
        KeySpec("ConnectionTimeOut", "int", "60"),
        KeySpec("ConnectorPhaseRotation", "str", rotation),
        KeySpec("ConnectorPhaseRotationMaxLength", "int", str(outlets + 1), readonly=True),
        KeySpec("ConnectorSwitch3to1PhaseSupported", "bool", "false", readonly=True),
        KeySpec("FirmwareVersion", "str", firmware, readonly=True),
        KeySpec("GetConfigurationMaxKeys", "int", "60", readonly=True),
        KeySpec("HeartbeatInterval", "int", "300"),
        KeySpec("LightIntensity", "int", "50"),
        KeySpec("LocalAuthListEnabled", "bool", "true"),
        KeySpec("LocalAuthListMaxLength", "int", "1000", readonly=True),
        KeySpec("LocalAuthorizeOffline", "bool", "true"),
        KeySpec("LocalPreAuthorize", "bool", "false"),
        KeySpec("MaxChargingProfilesInstalled", "int", "20", readonly=True),
        KeySpec("MaxEnergyOnInvalidId", "int", "0"),
        KeySpec("MeterValuesAlignedData", "csl", "Energy.Active.Import.Register", max_items=4),
        KeySpec("MeterValuesAlignedDataMaxLength", "int", "4", readonly=True),
        KeySpec(
            "MeterValuesSampledData",
            "csl",
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC",
            max_items=6,
        ),
        KeySpec("MeterValuesSampledDataMaxLength", "int", "6", readonly=True),
        KeySpec("MeterValueSampleInterval", "int", "60"),
        KeySpec("MinimumStatusDuration", "int", "0"),
        KeySpec("NumberOfConnectors", "int", str(outlets), readonly=True),
        KeySpec("ReserveConnectorZeroSupported", "bool", "true", readonly=True),
        KeySpec("ResetRetries", "int", "3"),
        KeySpec("SecurityProfile", "int", "1", reboot=True),
        KeySpec("SendLocalListMaxLength", "int", "100", readonly=True),
        KeySpec("StopTransactionOnEVSideDisconnect", "bool", "true"),
        KeySpec("StopTransactionOnInvalidId", "bool", "true"),
        KeySpec("StopTxnAlignedData", "csl", "", max_items=4),
        KeySpec("StopTxnAlignedDataMaxLength", "int", "4", readonly=True),
        KeySpec("StopTxnSampledData", "csl", "Energy.Active.Import.Register", max_items=4),
        KeySpec("StopTxnSampledDataMaxLength", "int", "4", readonly=True),
        KeySpec("SupportedFeatureProfiles", "str", profiles, readonly=True),
        KeySpec("TransactionMessageAttempts", "int", "3"),
        KeySpec("TransactionMessageRetryInterval", "int", "30"),
        KeySpec("UnlockConnectorOnEVSideDisconnect", "bool", "true"),
        KeySpec("WebSocketPingInterval", "int", "0", reboot=True),
        KeySpec("chargeboxidentity", "str", identity, readonly=True),
        KeySpec("endpoint", "str", "", reboot=True),
    ]
    return {spec.name: spec for spec in specs}


class StationConfiguration:
    """Key values of one station: the shared spec table plus this station's own overrides."""

    __slots__ = ("_lower", "_values", "specs")

    def __init__(self, specs: dict[str, KeySpec], values: dict[str, str] | None = None) -> None:
        self.specs = specs
        self._lower = _lower_names(specs)
        self._values: dict[str, str] = dict(values or {})

    def _spec(self, key: str) -> KeySpec | None:
        name = key if key in self.specs else self._lower.get(key.lower())
        return self.specs.get(name) if name else None

    def get(self, key: str) -> str:
        spec = self._spec(key)
        if spec is None:
            raise KeyError(key)
        return self._values.get(spec.name, spec.default)

    def get_int(self, key: str) -> int:
        try:
            return int(self.get(key))
        except ValueError:
            return int(self._spec(key).default or 0)  # type: ignore[union-attr]

    def get_bool(self, key: str) -> bool:
        return self.get(key).strip().lower() == "true"

    def get_list(self, key: str) -> list[str]:
        return [item.strip() for item in self.get(key).split(",") if item.strip()]

    def set(self, key: str, value: str) -> None:
        """Set a value without any check (the station itself, e.g. a firmware version)."""
        spec = self._spec(key)
        if spec is None:
            raise KeyError(key)
        self._values[spec.name] = value

    def change(self, key: str, value: str) -> str:
        """ChangeConfiguration semantics: Accepted, Rejected, RebootRequired or NotSupported."""
        spec = self._spec(key)
        if spec is None:
            return "NotSupported"
        if spec.readonly or not _valid(spec, value):
            return "Rejected"
        self._values[spec.name] = value
        return "RebootRequired" if spec.reboot else "Accepted"

    def report(self, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """GetConfiguration answer: known keys with readonly flags, and the unknown ones."""
        known: list[dict[str, Any]] = []
        unknown: list[str] = []
        wanted = list(keys or [])
        pairs = [(k, self._spec(k)) for k in wanted] if wanted else list(self.specs.items())
        for key, spec in pairs:
            if spec is None or spec.hidden:
                if wanted:
                    unknown.append(key)
                continue
            value = self._values.get(spec.name, spec.default)
            known.append({"key": spec.name, "readonly": spec.readonly, "value": value})
        answer: dict[str, Any] = {"configurationKey": known}
        if unknown:
            answer["unknownKey"] = unknown
        return answer


_LOWER: dict[int, tuple[dict[str, KeySpec], dict[str, str]]] = {}


def _lower_names(specs: dict[str, KeySpec]) -> dict[str, str]:
    """Case-insensitive lookup table, built once per (shared) spec table."""
    cached = _LOWER.get(id(specs))
    if cached is None or cached[0] is not specs:
        cached = _LOWER[id(specs)] = (specs, {name.lower(): name for name in specs})
    return cached[1]


def _valid(spec: KeySpec, value: str) -> bool:
    if len(value) > 500:
        return False
    if spec.kind == "int":
        return value.strip().lstrip("-").isdigit() and int(value) >= 0
    if spec.kind == "bool":
        return value.strip().lower() in ("true", "false")
    if spec.kind == "csl":
        items = [item.strip() for item in value.split(",") if item.strip()]
        if spec.max_items and len(items) > spec.max_items:
            return False
        return all(item in MEASURANDS for item in items)
    return True
