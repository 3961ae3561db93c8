"""Operator provisioning: stations with outlets, users, id tags (CLI, seed, portal)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from dataclasses import dataclass

import peewee

from db.accounts import accounts
from db.accounts.id_tag_text import ID_TAG_RULE, id_tag_ok
from db.accounts.passwords import (
    STATION_PASSWORD_RULE,
    check_policy,
    hash_password,
    station_password_ok,
)
from db.errors import Invalid
from db.schema.models import Floor, IdTag, Outlet, Site, Station, User
from db.topology import nodes
from db.topology.station_settings import set_station_password

ID_TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
_CBID = re.compile(r"^[A-Za-z0-9._\-:]{1,48}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ProvisioningError(Invalid):
    """Input an operator must correct; the message says what and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


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


def provision_station(
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
    """A station with ``outlets`` outlets (1–4) by the names an operator types: site and
    floor are created when new. The station itself is made by the one provisioning API
    (``db.topology.nodes.create_station``, as in the portal), its password set by
    ``db.topology.station_settings.set_station_password``."""
    if floor and not site:
        raise ProvisioningError("a floor needs its site (--site)")
    if mode not in ("OPEN", "RFID"):
        raise ProvisioningError(f"outlet mode is OPEN or RFID, not {mode!r}")
    if password:
        _check_station_password(password)
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
    station_id = nodes.create_station(
        charge_box_id,
        site_id=site_row.id if site_row is not None and floor_row is None else None,
        floor_id=floor_row.id if floor_row is not None else None,
        name=name,
        outlets=outlets,
        parent_required=False,
    )
    Outlet.update(connector_type=connector_type, mode=mode).where(
        Outlet.station == station_id
    ).execute()
    if password:
        set_station_password(station_id, password)
    return Created(Station.get_by_id(station_id), notes=tuple(notes))


def station_id_of(charge_box_id: str) -> int:
    """The station's id for a charge box id an operator typed (refused when unknown)."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    if station is None:
        raise ProvisioningError(f"no station {charge_box_id}")
    return int(station.id)


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
    """A user by the portal's rules (``db.accounts.accounts``); without ``password`` one is
    generated."""
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
    optional. No conversion: the rule of ``db.accounts.id_tag_text``, as in the JSON API."""
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
