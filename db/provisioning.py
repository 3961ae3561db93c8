"""Operator provisioning: stations with outlets, users, id tags (CLI, seed, portal)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from dataclasses import dataclass

import peewee

from db import accounts, nodes
from db.id_tag_text import ID_TAG_RULE, id_tag_ok
from db.models import Floor, IdTag, Outlet, Site, Station, User
from db.passwords import (
    STATION_PASSWORD_RULE,
    check_policy,
    hash_password,
    hash_station_password,
    station_password_ok,
)

ID_TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
_CBID = re.compile(r"^[A-Za-z0-9._\-:]{1,48}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ProvisioningError(ValueError):
    """Input an operator must correct; the message says what and why."""


@dataclass
class Created:
    """What a provisioning call made, for the caller to report."""

    obj: peewee.Model
    password: str | None = None  # a generated password, shown once
    notes: tuple[str, ...] = ()


def random_password(length: int = 16) -> str:
    """A random password that satisfies the SPEC §2 policy."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isalpha() for c in candidate) and any(c.isdigit() for c in candidate):
            return candidate


def parse_expiry(text: str | None) -> dt.datetime | None:
    """An ISO 8601 date-time as naive UTC (``Z``/offsets understood; naive means UTC)."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ProvisioningError(f"not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def get_or_create_site(name: str) -> tuple[Site, bool]:
    site = Site.get_or_none(Site.name == name)
    if site is not None:
        return site, False
    return Site.create(name=name), True


def get_or_create_floor(site: Site, name: str) -> tuple[Floor, bool]:
    floor = Floor.get_or_none((Floor.site == site) & (Floor.name == name))
    if floor is not None:
        return floor, False
    return Floor.create(site=site, name=name, plan_name=name), True


def create_station(
    charge_box_id: str,
    *,
    site: str | None = None,
    floor: str | None = None,
    outlets: int = 1,
    password: str | None = None,
    name: str = "",
    connector_type: str = "Type 2",
    mode: str = "RFID",
) -> Created:
    """A station with ``outlets`` outlets (1–4); site and floor are created when new."""
    if not _CBID.match(charge_box_id):
        raise ProvisioningError(
            f"charge box id {charge_box_id!r} must be 1-48 letters, digits or . _ - :"
        )
    if not 1 <= outlets <= 4:
        raise ProvisioningError(f"a station has 1 to 4 outlets, not {outlets}")
    if floor and not site:
        raise ProvisioningError("a floor needs its site (--site)")
    if mode not in ("OPEN", "RFID"):
        raise ProvisioningError(f"outlet mode is OPEN or RFID, not {mode!r}")
    if password:
        _check_station_password(password)
    if Station.get_or_none(Station.charge_box_id == charge_box_id) is not None:
        raise ProvisioningError(f"station {charge_box_id} already exists")
    notes = []
    site_row = floor_row = None
    if site:
        site_row, new = get_or_create_site(site)
        if new:
            notes.append(f"created site {site}")
    if floor and site_row is not None:
        floor_row, new = get_or_create_floor(site_row, floor)
        if new:
            notes.append(f"created floor {floor} in {site}")
    station = Station.create(
        charge_box_id=charge_box_id,
        name=name or charge_box_id,
        site=site_row,
        floor=floor_row,
        password_hash=hash_station_password(password) if password else None,
    )
    for connector_id in range(1, outlets + 1):
        Outlet.create(
            station=station, connector_id=connector_id, connector_type=connector_type, mode=mode
        )
    return Created(station, notes=tuple(notes))


def remove_station(charge_box_id: str) -> None:
    """Remove a station and its outlets; its history stays (``db.nodes.remove_station``)."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    if station is None:
        raise ProvisioningError(f"no station {charge_box_id}")
    nodes.remove_station(station.id)


def set_station_password(charge_box_id: str, password: str | None) -> None:
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    if station is None:
        raise ProvisioningError(f"no station {charge_box_id}")
    if password:
        _check_station_password(password)
    station.password_hash = hash_station_password(password) if password else None
    station.save(only=[Station.password_hash])


def _check_station_password(password: str) -> None:
    """The rule the JSON API and the portal apply, with the same sentence."""
    if not station_password_ok(password):
        raise ProvisioningError(STATION_PASSWORD_RULE)


def create_user(
    email: str,
    role: str,
    *,
    site: str | None = None,
    rfid: str | None = None,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email_at_alarm: bool = False,
) -> Created:
    """A user by the portal's rules (``db.accounts``); without ``password`` one is generated."""
    site_id = None
    if site:
        site_row = Site.get_or_none(Site.name == site)
        if site_row is None:
            raise ProvisioningError(f"no site named {site!r}")
        site_id = site_row.id
    generated = None
    if password is None:
        password = generated = random_password()
    try:
        check_policy(password)
    except ValueError as exc:
        raise ProvisioningError(str(exc)) from None
    try:
        user_id = accounts.create_user(
            {
                "email": email,
                "role": role,
                "site_id": site_id,
                "rfid": rfid or "",
                "first_name": first_name,
                "last_name": last_name,
                "email_at_alarm": email_at_alarm,
                "password_hash": hash_password(password),
            }
        )
    except accounts.AccountError as exc:
        hint = " (--site)" if exc.field == "site_id" else ""
        raise ProvisioningError(exc.message + hint) from None
    return Created(User.get_by_id(user_id), password=generated)


def set_user_password(email: str, password: str | None = None) -> str | None:
    """Set (or generate, returned) a user's password; ends his open browser sessions."""
    user = User.get_or_none(accounts.same_email(email))
    if user is None:
        raise ProvisioningError(f"no user {email}")
    generated = None
    if password is None:
        password = generated = random_password()
    try:
        check_policy(password)
    except ValueError as exc:
        raise ProvisioningError(str(exc)) from None
    user.password_hash = hash_password(password)
    user.auth_version += 1
    user.save(only=[User.password_hash, User.auth_version])
    return generated


def create_id_tag(
    tag: str,
    *,
    status: str = "Accepted",
    expires: str | None = None,
    parent: str | None = None,
    user: str | None = None,
) -> Created:
    """An id tag exactly as OCPP sends it (CiString20); status, expiry, parent and owner
    optional. No conversion: the rule of ``db.id_tag_text``, as in the JSON API."""
    if not id_tag_ok(tag):
        raise ProvisioningError(ID_TAG_RULE)
    if status not in ID_TAG_STATUSES:
        raise ProvisioningError(f"status must be one of {', '.join(ID_TAG_STATUSES)}")
    if IdTag.get_or_none(IdTag.id_tag == tag) is not None:
        raise ProvisioningError(f"id tag {tag} already exists")
    expiry = parse_expiry(expires)
    parent_row = None
    if parent:
        parent_row = IdTag.get_or_none(IdTag.id_tag == parent)
        if parent_row is None:
            raise ProvisioningError(f"no parent id tag {parent}")
    user_row = None
    if user:
        user_row = User.get_or_none(accounts.same_email(user))
        if user_row is None:
            raise ProvisioningError(f"no user {user}")
    row = IdTag.create(
        id_tag=tag, status=status, expiry_date=expiry, parent=parent_row, user=user_row
    )
    return Created(row)
