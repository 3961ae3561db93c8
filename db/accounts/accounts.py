"""User accounts (SPEC §2, §7): queries and units of work for the portal's provisioning."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import peewee as pw

from db.accounts.api_tokens import revoke_tokens_of
from db.accounts.id_tag_text import ID_TAG_RULE, MAX_ID_TAG, id_tag_ok
from db.errors import Conflict, DomainError, Invalid
from db.schema.models import ROLES, ChargingSession, IdTag, Site, User, utcnow
from db.system.timezones import check_zone, iso_utc

__all__ = [
    "SORTABLE_USER_COLUMNS",
    "VISITOR_DAYS",
    "AccountError",
    "DuplicateEmailError",
    "DuplicateRfidError",
    "InvalidFieldError",
    "UserRow",
    "badge_id_tag",
    "check_user",
    "create_user",
    "delete_user",
    "get_user",
    "get_user_by_email",
    "list_users",
    "normalise_email",
    "normalise_rfid",
    "record_login",
    "same_email",
    "set_dashboard_panels",
    "set_email",
    "set_password_hash",
    "set_time_zone",
    "update_user",
    "visitors_since",
]

# --- errors: each names the form field that caused it -------------------------


class AccountError(DomainError):
    """Refused input for an account; ``field`` names the form field to show it next to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.field: str = field


class InvalidFieldError(AccountError, Invalid):
    """A field value that breaks a rule (format, length, missing, unknown site…)."""


class DuplicateEmailError(AccountError, Conflict):
    def __init__(self, email: str) -> None:
        super().__init__("email", f"{email} is already used by another account")


class DuplicateRfidError(AccountError, Conflict):
    def __init__(self, rfid: str) -> None:
        super().__init__("rfid", f"RFID {rfid} already belongs to another badge")


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HEX_SEPARATORS = re.compile(r"[\s:\-]")


def normalise_email(email: str) -> str:
    """The e-mail address trimmed, in the case it was typed in; raises when it does not
    look like one. Addresses compare without case (``same_email``): login too."""
    value = (email or "").strip()
    if not value:
        raise InvalidFieldError("email", "an e-mail address is required")
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidFieldError("email", f"{email.strip()!r} is not an e-mail address")
    return value


def same_email(email: str) -> Any:
    """The condition "the user's address is ``email``", ignoring case."""
    return pw.fn.LOWER(User.email) == (email or "").strip().lower()


def badge_id_tag(text: str) -> str:
    """A user's badge as given (any OCPP idTag, no conversion); "" removes it."""
    if not text.strip():
        return ""
    if not id_tag_ok(text):
        raise InvalidFieldError("rfid", ID_TAG_RULE)
    return text


def normalise_rfid(text: str) -> str:
    """A badge *number* typed in the provisioning form, as the decimal idTag it stands
    for; hex input is converted (the form shows the result before saving).

    Decimal digits are kept as typed (leading zeros matter to readers that send
    them). ``0x…``, text with hex letters, or bytes separated by ``:``/``-``/spaces
    (``04:A2:1B:…``) are read as hexadecimal and stored in decimal.
    """
    value = (text or "").strip()
    if not value:
        return ""
    if value.isdigit():
        decimal = value
    else:
        raw = value[2:] if value.lower().startswith("0x") else value
        raw = _HEX_SEPARATORS.sub("", raw)
        if not raw or not re.fullmatch(r"[0-9A-Fa-f]+", raw):
            raise InvalidFieldError(
                "rfid", f"{value!r} is neither a decimal number nor hexadecimal"
            )
        decimal = str(int(raw, 16))
    if len(decimal) > MAX_ID_TAG:
        raise InvalidFieldError("rfid", f"RFID {decimal} is longer than {MAX_ID_TAG} digits")
    return decimal


# --- rows handed to the portal (plain data: no lazy queries in the event loop) --


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    first_name: str
    last_name: str
    role: str
    site_id: int | None
    site_name: str
    email_at_alarm: bool
    dashboard_panels: tuple[str, ...]
    auth_version: int
    created_at: Any
    last_login_at: Any
    password_hash: str | None = field(default=None, repr=False)
    rfids: tuple[str, ...] = ()
    time_zone: str = ""  # display zone chosen in user settings; "" = the system zone
    visitor: bool = False  # listed for a site he charged at, not his own (read-only there)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def public(self) -> dict[str, Any]:
        """The JSON form (no password hash)."""
        return {
            "id": self.id,
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "role": self.role,
            "siteId": self.site_id,
            "site": self.site_name,
            "emailAtAlarm": self.email_at_alarm,
            "rfids": list(self.rfids),
            "createdAt": iso_utc(self.created_at),
            "lastLoginAt": iso_utc(self.last_login_at),
            "chargedHere": self.visitor,
        }


def _row(user: User, rfids: tuple[str, ...] = (), site_name: str = "") -> UserRow:
    return UserRow(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=user.role,
        site_id=user.site_id,
        site_name=site_name,
        email_at_alarm=bool(user.email_at_alarm),
        dashboard_panels=tuple(p for p in (user.dashboard_panels or "").split(",") if p),
        auth_version=user.auth_version,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        password_hash=user.password_hash,
        rfids=rfids,
        time_zone=user.time_zone or "",
    )


def _rfids_of(user_ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    if not user_ids:
        return {}
    for tag in IdTag.select(IdTag.user, IdTag.id_tag).where(IdTag.user.in_(user_ids)):
        found.setdefault(tag.user_id, []).append(tag.id_tag)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def _site_names() -> dict[int, str]:
    return {s.id: s.name for s in Site.select(Site.id, Site.name)}


def get_user(user_id: int, site_id: int | None = None) -> UserRow | None:
    """One user; with ``site_id``, only if he belongs to that site."""
    query = User.select().where(User.id == user_id)
    if site_id is not None:
        query = query.where(User.site == site_id)
    user = query.first()
    if user is None:
        return None
    site = Site.get_or_none(Site.id == user.site_id) if user.site_id else None
    return _row(user, _rfids_of([user.id]).get(user.id, ()), site.name if site else "")


def get_user_by_email(email: str) -> UserRow | None:
    user = User.get_or_none(same_email(email))
    return _row(user) if user else None


#: EV users of no site who charged at a site within this many days are its charging users
#: (a site administrator sees them, read-only)
VISITOR_DAYS = 365


def visitors_since(now: Any = None) -> Any:
    """The start of the window of ``VISITOR_DAYS`` (naive UTC)."""
    import datetime as dt

    return (now or utcnow()) - dt.timedelta(days=VISITOR_DAYS)


SORTABLE_USER_COLUMNS = ("email", "first_name", "last_name", "role", "site", "created_at")


def list_users(
    site_id: int | None = None,
    *,
    q: str = "",
    role: str = "",
    sort: str = "email",
    descending: bool = False,
    limit: int = 100,
    offset: int = 0,
    visitors_since: Any = None,
) -> tuple[list[UserRow], int]:
    """Users (of ``site_id`` when given) filtered by text and role; (page, total).

    With ``site_id`` and ``visitors_since`` (naive UTC), also the EV users of no site who
    charged at that site since then (``UserRow.visitor``); never users of another site.
    """
    query = User.select(User).join(Site, pw.JOIN.LEFT_OUTER, on=(User.site == Site.id))
    visitors = None
    if site_id is not None and visitors_since is not None:
        visitors = ChargingSession.select(ChargingSession.user).where(
            (ChargingSession.site == site_id)
            & (ChargingSession.start_time >= visitors_since)
            & ChargingSession.user.is_null(False)
        )
        query = query.where(
            (User.site == site_id)
            | (User.site.is_null() & (User.role == "ev-user") & User.id.in_(visitors))
        )
    elif site_id is not None:
        query = query.where(User.site == site_id)
    if role:
        query = query.where(User.role == role)
    if q:
        like = f"%{q.strip()}%"
        tagged = IdTag.select(IdTag.user).where(IdTag.id_tag**like)
        query = query.where(
            (User.email**like)
            | (User.first_name**like)
            | (User.last_name**like)
            | (Site.name**like)
            | (User.id.in_(tagged))
        )
    total = query.count()
    column: Any = {
        "email": User.email,
        "first_name": User.first_name,
        "last_name": User.last_name,
        "role": User.role,
        "site": Site.name,
        "created_at": User.created_at,
    }.get(sort, User.email)
    order = column.desc() if descending else column.asc()
    page = list(query.order_by(order, User.id).limit(limit).offset(offset))
    rfids = _rfids_of([u.id for u in page])
    names = _site_names()
    rows = [_row(u, rfids.get(u.id, ()), names.get(u.site_id, "")) for u in page]
    if visitors is not None:
        rows = [replace(r, visitor=r.site_id is None) for r in rows]
    return rows, total


# --- units of work (run through Store.write) -----------------------------------


def _check_names(data: dict[str, Any]) -> None:
    for key in ("first_name", "last_name"):
        if len(str(data.get(key, "") or "")) > 64:
            raise InvalidFieldError(key, "at most 64 characters")


def _check_role_and_site(role: str, site_id: int | None) -> int | None:
    if role not in ROLES:
        raise InvalidFieldError("role", f"role must be one of {', '.join(ROLES)}")
    if role == "site-admin" and not site_id:
        raise InvalidFieldError("site_id", "a site administrator needs a site")
    if role in ("admin", "support"):
        return None
    if site_id and Site.get_or_none(Site.id == site_id) is None:
        raise InvalidFieldError("site_id", "no such site")
    return site_id or None


def _set_rfid(user_id: int, rfid: str) -> None:
    """Make ``rfid`` the user's badge (replacing his previous one); '' removes it."""
    existing = IdTag.get_or_none(IdTag.id_tag == rfid) if rfid else None
    if existing is not None and existing.user_id != user_id:
        raise DuplicateRfidError(rfid)
    IdTag.delete().where((IdTag.user == user_id) & (IdTag.id_tag != rfid)).execute()
    if rfid and existing is None:
        IdTag.create(id_tag=rfid, user=user_id, status="Accepted")


def check_user(data: dict[str, Any], user_id: int | None = None) -> dict[str, str]:
    """Every field error of a create (``user_id`` None) or an update at once, field →
    message, so a form shows them all together (the unit of work checks again)."""
    errors: dict[str, str] = {}
    role = str(data.get("role", ""))
    checks: list[tuple[str, Any]] = [
        ("email", lambda: normalise_email(str(data.get("email", "")))),
        ("role", lambda: _check_role_and_site(role, data.get("site_id"))),
        ("names", lambda: _check_names(data)),
    ]
    if role == "ev-user":
        checks.append(("rfid", lambda: badge_id_tag(str(data.get("rfid", "") or ""))))
    values: dict[str, Any] = {}
    for name, check in checks:
        try:
            values[name] = check()
        except AccountError as exc:
            errors.setdefault(exc.field, exc.message)
    email = values.get("email")
    if email:
        other = User.get_or_none(same_email(email))
        if other is not None and other.id != user_id:
            errors.setdefault("email", str(DuplicateEmailError(email)))
    rfid = values.get("rfid")
    if rfid:
        tag = IdTag.get_or_none(IdTag.id_tag == rfid)
        if tag is not None and (user_id is None or tag.user_id != user_id):
            errors.setdefault("rfid", str(DuplicateRfidError(rfid)))
    return errors


def create_user(data: dict[str, Any]) -> int:
    """Create an account from validated-but-raw form data; returns the new id.

    ``data``: email, first_name, last_name, role, site_id, password_hash (already
    hashed: hashing is slow and must not run in the writer thread), email_at_alarm,
    rfid (EV users).
    """
    email = normalise_email(str(data.get("email", "")))
    role = str(data.get("role", ""))
    site_id = _check_role_and_site(role, data.get("site_id"))
    _check_names(data)
    rfid = badge_id_tag(str(data.get("rfid", "") or "")) if role == "ev-user" else ""
    if User.get_or_none(same_email(email)) is not None:
        raise DuplicateEmailError(email)
    if rfid and IdTag.get_or_none(IdTag.id_tag == rfid) is not None:
        raise DuplicateRfidError(rfid)
    user = User.create(
        email=email,
        first_name=str(data.get("first_name", "") or "").strip(),
        last_name=str(data.get("last_name", "") or "").strip(),
        role=role,
        site=site_id,
        password_hash=data.get("password_hash"),
        email_at_alarm=bool(data.get("email_at_alarm")) and role in ("admin", "site-admin"),
    )
    if rfid:
        IdTag.create(id_tag=rfid, user=user.id, status="Accepted")
    return int(user.id)


def update_user(user_id: int, data: dict[str, Any]) -> None:
    """Change the given fields; a new ``password_hash`` ends the user's other sessions."""
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise InvalidFieldError("id", "no such user")
    if "email" in data:
        email = normalise_email(str(data["email"]))
        other = User.get_or_none(same_email(email) & (User.id != user_id))
        if other is not None:
            raise DuplicateEmailError(email)
        user.email = email
    role = str(data.get("role", user.role))
    site_id = data.get("site_id", user.site_id)
    user.site = _check_role_and_site(role, site_id)
    user.role = role
    _check_names(data)
    for key in ("first_name", "last_name"):
        if key in data:
            setattr(user, key, str(data[key] or "").strip())
    if "email_at_alarm" in data:
        user.email_at_alarm = bool(data["email_at_alarm"]) and role in ("admin", "site-admin")
    if data.get("password_hash"):
        user.password_hash = data["password_hash"]
        user.auth_version = user.auth_version + 1
    user.save()
    if "rfid" in data:
        rfid = badge_id_tag(str(data["rfid"] or "")) if role == "ev-user" else ""
        _set_rfid(user_id, rfid)


def delete_user(user_id: int) -> bool:
    """Remove an account; his sessions stay, attributed to his e-mail; his badges go."""
    user = User.get_or_none(User.id == user_id)
    if user is None:
        return False
    (
        ChargingSession.update(user_email=user.email)
        .where((ChargingSession.user == user_id) & (ChargingSession.user_email == ""))
        .execute()
    )
    IdTag.delete().where(IdTag.user == user_id).execute()
    revoke_tokens_of(user_id)  # the API tokens he made go with his account
    user.delete_instance()
    return True


def record_login(user_id: int) -> None:
    User.update(last_login_at=utcnow()).where(User.id == user_id).execute()


def set_password_hash(user_id: int, password_hash: str) -> None:
    """New password; bumping ``auth_version`` ends every other logged-in session."""
    User.update(password_hash=password_hash, auth_version=User.auth_version + 1).where(
        User.id == user_id
    ).execute()


def set_email(user_id: int, email: str) -> str:
    value = normalise_email(email)
    if User.get_or_none(same_email(value) & (User.id != user_id)) is not None:
        raise DuplicateEmailError(value)
    User.update(email=value).where(User.id == user_id).execute()
    return value


def set_dashboard_panels(user_id: int, panels: list[str]) -> None:
    User.update(dashboard_panels=",".join(panels)).where(User.id == user_id).execute()


def set_time_zone(user_id: int, name: str) -> str:
    """Store the user's display zone (IANA name; "" = the system zone); returns it."""
    name = name.strip()
    if name:
        try:
            name = check_zone(name)
        except ValueError as exc:
            raise InvalidFieldError("time_zone", str(exc)) from None
    User.update(time_zone=name).where(User.id == user_id).execute()
    return name
