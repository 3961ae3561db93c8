"""An administrator lowers a station's stored security profile (database only, logged):
the gateway then accepts a weaker connection from it. Raising is ChangeConfiguration."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from db.errors import Conflict
from db.ocpp.security_profiles import PROFILE_NAMES, check_profile, log_profile_change
from db.schema.models import Station
from db.topology.nodes import get_station

__all__ = ["LowerChoice", "lower_choices", "lower_security_profile"]

RAISE_HINT = (
    "Raising a security profile is done with the Control tab's Security profile action"
    " (ChangeConfiguration SecurityProfile, sent only when the station's credentials for"
    " it are in place), not in the database."
)


@dataclass(frozen=True)
class LowerChoice:
    """A profile below the station's: whether it can be chosen, else why not."""

    profile: int
    name: str
    refused: str = ""


def _refusal(station: Station, wanted: int) -> str:
    if wanted in (1, 2) and not station.password_hash:
        return f"security profile {wanted} needs a station password: set one first"
    if wanted == 0 and station.password_hash:
        return (
            "profile 0 is a station without a password: clear its OCPP password instead"
            " (that lowers the profile to 0)"
        )
    return ""


def lower_choices(station_id: int) -> list[LowerChoice]:
    """The profiles below the station's, highest first."""
    station = get_station(station_id)
    return [
        LowerChoice(p, PROFILE_NAMES[p], _refusal(station, p))
        for p in range(station.security_profile - 1, -1, -1)
    ]


def lower_security_profile(
    station_id: int, value: Any, *, by: str, now: dt.datetime
) -> tuple[int, int]:
    """Store a lower profile (an upgrade in flight is dropped) and log who did it, from
    which profile to which; returns (previous, new). Conflict for the same or a
    higher profile, or one the station's password does not fit."""
    wanted = check_profile(value)
    station = get_station(station_id)
    current = station.security_profile
    cbid = station.charge_box_id
    if wanted == current:
        raise Conflict(f"{cbid} already has security profile {wanted}.", field="securityProfile")
    if wanted > current:
        raise Conflict(RAISE_HINT, field="securityProfile")
    refused = _refusal(station, wanted)
    if refused:
        raise Conflict(refused[:1].upper() + refused[1:] + ".", field="securityProfile")
    Station.update(security_profile=wanted, security_profile_pending=None).where(
        Station.id == station_id
    ).execute()
    log_profile_change(station, current, wanted, by, now)
    return current, wanted
