"""Station security profiles (OCPP 1.6 security whitepaper): the stored profile, upgrades
in flight, the station's client certificate, and certificates about to expire."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from db.config_errors import ConfigurationError
from db.errors import Conflict
from db.schema.models import Alarm, Station, utcnow
from db.system.alarms import AlarmChange, clear_alarms, log_event, raise_alarm
from db.topology.nodes import get_station

__all__ = [
    "CERTIFICATE_ALARM",
    "PROFILE_NAMES",
    "ProfileChange",
    "certificate_alarms_due",
    "check_certificate_expiry",
    "check_profile",
    "check_profile_change",
    "expiring_certificates",
    "log_profile_change",
    "record_profile_connection",
    "record_station_certificate",
    "security_of",
    "set_pending_profile",
    "set_security_profile",
]

PROFILE_NAMES = {
    0: "no authentication",
    1: "password (HTTP Basic)",
    2: "TLS + password",
    3: "TLS + client certificate",
}


def check_profile(value: Any) -> int:
    """A security profile 0–3 from a form, the API or the command line."""
    try:
        profile = int(str(value).strip())
    except ValueError:
        profile = -1
    if profile not in PROFILE_NAMES:
        raise ConfigurationError("The security profile is 0, 1, 2 or 3.", field="securityProfile")
    return profile


def set_security_profile(station_id: int, value: Any, *, by: str = "") -> int:
    """The operator sets the profile stored for a station (the lowest it may connect
    with); profiles 1 and 2 need the station's password first. With ``by`` (who), a
    change is logged in the event log."""
    profile = check_profile(value)
    station = get_station(station_id)
    if profile in (1, 2) and not station.password_hash:
        raise ConfigurationError(
            f"Security profile {profile} needs a station password: set one first.",
            field="securityProfile",
        )
    previous = station.security_profile
    station.security_profile = profile
    station.security_profile_pending = None
    station.save()
    if by and profile != previous:
        log_profile_change(station, previous, profile, by, utcnow())
    return profile


def log_profile_change(
    station: Station, previous: int, profile: int, by: str, now: dt.datetime
) -> None:
    """A profile set in the database (not by the station reconnecting): who, from, to."""
    cbid = station.charge_box_id
    if profile < previous:
        how = "lowered"
        effect = f"the gateway now accepts a weaker connection from {cbid}"
    else:
        how = "raised"
        effect = f"the gateway now refuses connections from {cbid} below it"
    log_event(
        "station.security",
        cbid,
        station_id=station.id,
        site_id=station.site_id,
        severity="warning" if profile < previous else "info",
        message=(
            f"security profile {how} from {previous} ({PROFILE_NAMES[previous]}) to {profile}"
            f" ({PROFILE_NAMES[profile]}) by {by}: {effect}"
        ),
        now=now,
    )


def check_profile_change(
    charge_box_id: str, wanted: int, offered: frozenset[int], now: dt.datetime
) -> None:
    """ChangeConfiguration SecurityProfile is sent only upwards, only for a profile this
    gateway serves, and only when the station's credentials for it are in place (a
    password for 1 and 2, a valid client certificate for 3): else Conflict, nothing sent."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    if station is None:
        return
    current = station.security_profile
    if wanted < current:
        raise Conflict(
            f"{charge_box_id} has security profile {current}: the OCPP security whitepaper"
            f" allows no downgrade to {wanted}.",
            field="value",
        )
    if wanted == current:
        raise Conflict(f"{charge_box_id} already has security profile {wanted}.", field="value")
    if wanted not in offered:
        needs = "TLS (serve --tls-cert)" if wanted == 2 else "serve --tls-client-ca"
        raise Conflict(
            f"This gateway does not serve security profile {wanted}: it needs {needs}.",
            field="value",
        )
    if wanted in (1, 2) and not station.password_hash:
        raise Conflict(
            f"Security profile {wanted} needs the station's password: set it first.",
            field="value",
        )
    expires = station.certificate_expires_at
    if wanted == 3 and (expires is None or expires <= now):
        raise Conflict(
            f"{charge_box_id} has no valid client certificate yet: have it request one"
            " (ExtendedTriggerMessage SignChargePointCertificate) first.",
            field="value",
        )


def set_pending_profile(station_id: int, profile: int | None) -> None:
    """The station accepted SecurityProfile ``profile``: stored once it reconnects with it."""
    Station.update(security_profile_pending=profile).where(Station.id == station_id).execute()


def record_station_certificate(station_id: int, subject: str, not_after: dt.datetime) -> None:
    Station.update(certificate_subject=subject[:255], certificate_expires_at=not_after).where(
        Station.id == station_id
    ).execute()


@dataclass(frozen=True)
class ProfileChange:
    """What a connection did to a pending upgrade: ``upgraded`` or fell back."""

    upgraded: bool
    profile: int
    wanted: int


def record_profile_connection(
    station_id: int,
    charge_box_id: str,
    site_id: int | None,
    achieved: int,
    pending: int | None,
    certificate: tuple[str, dt.datetime] | None,
    now: dt.datetime,
) -> ProfileChange | None:
    """A connection was admitted with profile ``achieved``: keep the certificate it showed,
    and settle a pending upgrade: reached -> the new profile is stored (lower ones are
    refused from now on); not reached -> the station fell back (the whitepaper: it returns
    to its previous profile when it cannot connect with the new one), the upgrade is
    dropped. Either way an event says so."""
    if certificate is not None:
        record_station_certificate(station_id, *certificate)
    if pending is None:
        return None
    change = ProfileChange(achieved >= pending, achieved, pending)
    fields: dict[Any, Any] = {Station.security_profile_pending: None}
    if change.upgraded:
        fields[Station.security_profile] = pending
        message = f"security profile {pending} ({PROFILE_NAMES[pending]}) in use"
    else:
        message = (
            f"upgrade to security profile {pending} failed: the station reconnected with"
            f" profile {achieved} ({PROFILE_NAMES[achieved]}); the upgrade was dropped"
        )
    Station.update(fields).where(Station.id == station_id).execute()
    log_event(
        "station.security",
        charge_box_id,
        station_id=station_id,
        site_id=site_id,
        severity="info" if change.upgraded else "warning",
        message=message,
        now=now,
    )
    return change


def security_of(station_id: int) -> dict[str, Any]:
    """The station's profile, upgrade in flight and certificate, for the portal and API."""
    station = get_station(station_id)
    return {
        "securityProfile": station.security_profile,
        "securityProfileName": PROFILE_NAMES.get(station.security_profile, "?"),
        "securityProfilePending": station.security_profile_pending,
        "hasPassword": bool(station.password_hash),
        "certificateSubject": station.certificate_subject,
        "certificateExpiresAt": station.certificate_expires_at,
    }


def expiring_certificates(horizon: dt.datetime) -> list[tuple[int, str, int | None, dt.datetime]]:
    """(station id, charge box id, site id, expiry) of certificates expiring before ``horizon``."""
    query = Station.select(
        Station.id, Station.charge_box_id, Station.site, Station.certificate_expires_at
    ).where(
        Station.certificate_expires_at.is_null(False) & (Station.certificate_expires_at < horizon)
    )
    return [(s.id, s.charge_box_id, s.site_id, s.certificate_expires_at) for s in query]


CERTIFICATE_ALARM = "Certificate expiring"


def _alarm_plan(
    now: dt.datetime, warn_days: float
) -> tuple[dict[str, tuple[int, int | None, dt.datetime]], set[str]]:
    """(stations to alarm: id, site, expiry; charge box ids whose alarm to clear)."""
    horizon = now + dt.timedelta(days=warn_days)
    expiring = {cbid: (sid, site, when) for sid, cbid, site, when in expiring_certificates(horizon)}
    alarmed = {
        a.charge_box_id
        for a in Alarm.select(Alarm.charge_box_id).where(
            (Alarm.kind == CERTIFICATE_ALARM) & Alarm.cleared_at.is_null()
        )
    }
    raise_ = {cbid: facts for cbid, facts in expiring.items() if cbid not in alarmed}
    return raise_, alarmed - set(expiring)


def certificate_alarms_due(now: dt.datetime, warn_days: float) -> bool:
    """Whether ``check_certificate_expiry`` would change anything (a read, no write)."""
    raise_, clear = _alarm_plan(now, warn_days)
    return bool(raise_ or clear)


def check_certificate_expiry(now: dt.datetime, warn_days: float) -> list[tuple[str, AlarmChange]]:
    """Raise "Certificate expiring" for each station whose client certificate expires
    within ``warn_days`` (once: not counted up on every check), and clear it for those
    renewed since."""
    changes: list[tuple[str, AlarmChange]] = []
    raise_, clear = _alarm_plan(now, warn_days)
    for cbid, (station_id, site_id, when) in raise_.items():
        days = (when - now).total_seconds() / 86400
        text = (
            f"the client certificate expired on {when:%Y-%m-%d %H:%M} UTC"
            if days <= 0
            else f"the client certificate expires on {when:%Y-%m-%d %H:%M} UTC"
            f" (in {days:.0f} days): have the station request a new one"
        )
        change = raise_alarm(
            CERTIFICATE_ALARM, cbid, station_id=station_id, site_id=site_id, message=text, now=now
        )
        changes.append((cbid, change))
    for cbid in clear:
        changes += [(cbid, c) for c in clear_alarms(cbid, [CERTIFICATE_ALARM], now=now)]
    return changes
