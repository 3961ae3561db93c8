"""System settings (SPEC §9.1 General): name, description, server addresses, file transfer."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from db.config_errors import ConfigurationError
from db.schema.models import Setting
from db.system.timezones import check_zone, server_zone_name


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    default: str
    help: str = ""


#: Every system setting, in the order the General tab shows them.
SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("system.name", "System name", "Charge Portal"),
    SettingSpec("system.description", "Description", ""),
    SettingSpec(
        "system.time_zone",
        "Time zone",
        server_zone_name(),
        "IANA name (e.g. Europe/Stockholm): the portal shows times in it and reads schedules "
        "in it, unless a user chooses another zone for display or a site has its own.",
    ),
    SettingSpec(
        "ocpp16.url",
        "OCPP 1.6 WebSocket address",
        "ws://127.0.0.1:9000/Ocpp/websocket",
        "Stations append their charge box id to this address.",
    ),
    SettingSpec(
        "ocpp15.url",
        "OCPP 1.5 SOAP address",
        "http://127.0.0.1:8000/Ocpp/CentralSystemService15",
    ),
    SettingSpec(
        "ftp.mode",
        "FTP server",
        "embedded",
        "embedded: the portal's own FTP server; external: the server below.",
    ),
    SettingSpec(
        "ftp.url",
        "FTP server address",
        "ftp://127.0.0.1:2121",
        "Address stations upload logs to and download images from "
        "(external: ftp://user:password@host/path).",
    ),
    SettingSpec(
        "files.http_base",
        "HTTP address of firmware images",
        "",
        "Base URL stations download firmware from, e.g. http://portal.example:8000 "
        "(empty: the address the portal is reached at).",
    ),
    SettingSpec(
        "map.tile_url",
        "Map tile URL",
        "",
        "The tile server of the Address tabs' map, as a template such as "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png (check its usage policy); "
        "empty: no map, latitude and longitude are typed (an intranet without Internet).",
    ),
    SettingSpec(
        "alarms.not_registered_hours",
        "Not registered after (hours)",
        "24",
        "A station configured here that has not connected within this many hours raises "
        "the Not registered alarm; 0: never.",
    ),
)
_BY_KEY = {spec.key: spec for spec in SETTINGS}


def get_settings(defaults: dict[str, str] | None = None) -> dict[str, str]:
    """Every setting, stored value or default; ``defaults`` replaces built-in defaults
    (the addresses of the running system, which the built-in ones only guess)."""
    values = {spec.key: spec.default for spec in SETTINGS}
    values.update({k: v for k, v in (defaults or {}).items() if k in values})
    for row in Setting.select():
        if row.key in values:
            values[row.key] = row.value
    return values


def get_setting(key: str) -> str:
    row = Setting.get_or_none(Setting.key == key)
    return row.value if row is not None else _BY_KEY[key].default


def _check(key: str, value: str) -> str:
    value = value.strip()
    if key == "system.name" and not value:
        raise ConfigurationError("The system needs a name.", field=key)
    if key == "system.time_zone":
        try:
            return check_zone(value)
        except ValueError as exc:
            raise ConfigurationError(str(exc), field=key) from None
    if key == "alarms.not_registered_hours":
        try:
            hours = float(value.replace(",", "."))
        except ValueError:
            hours = -1.0
        if not 0 <= hours <= 24 * 365:
            raise ConfigurationError("A number of hours from 0 (never) to 8760.", field=key)
        return f"{hours:g}"
    if key == "ftp.mode" and value not in {"embedded", "external"}:
        raise ConfigurationError("FTP server is 'embedded' or 'external'.", field=key)
    schemes = {
        "ocpp16.url": {"ws", "wss"},
        "ocpp15.url": {"http", "https"},
        "ftp.url": {"ftp", "ftps"},
        "files.http_base": {"http", "https"},
        "map.tile_url": {"http", "https"},
    }.get(key)
    if schemes and value:
        parsed = urlparse(value)
        if parsed.scheme not in schemes or not parsed.hostname:
            wanted = " or ".join(sorted(f"{s}://" for s in schemes))
            raise ConfigurationError(f"Not an address starting with {wanted}: {value!r}", field=key)
    if key == "map.tile_url" and value and not all(p in value for p in ("{z}", "{x}", "{y}")):
        raise ConfigurationError(
            "A tile URL names {z}, {x} and {y}, e.g. https://tile.example/{z}/{x}/{y}.png",
            field=key,
        )
    if key in {"ocpp16.url", "ocpp15.url", "ftp.url"} and not value:
        raise ConfigurationError("Stations need this address; it cannot be empty.", field=key)
    return value


def update_settings(changes: dict[str, str]) -> dict[str, str]:
    """Validate then store ``changes`` (all or nothing); returns every setting."""
    unknown = sorted(set(changes) - set(_BY_KEY))
    if unknown:
        raise ConfigurationError(f"Unknown setting(s): {', '.join(unknown)}")
    checked = {key: _check(key, str(value)) for key, value in changes.items()}
    for key, value in checked.items():
        Setting.insert(key=key, value=value).on_conflict(
            conflict_target=[Setting.key], update={Setting.value: value}
        ).execute()
    return get_settings()
