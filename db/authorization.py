"""Id tag authorization (OCPP idTagInfo): status, expiry, parent tag, owning user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.models import ChargingSession, IdTag, User, utcnow

__all__ = ["TagAuthorization", "authorize_id_tag", "tag_authorization"]


@dataclass(frozen=True)
class TagAuthorization:
    """The verdict on one id tag, plus who owns it."""

    status: str  # Accepted | Blocked | Expired | Invalid | ConcurrentTx
    expiry_date: dt.datetime | None = None
    parent_id_tag: str = ""
    user_id: int | None = None
    user_email: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"


def tag_authorization(
    id_tag: str,
    *,
    now: dt.datetime | None = None,
    concurrent_unless_station: str | None = None,
    concurrent_except_session: int | None = None,
    check_concurrent: bool = False,
) -> TagAuthorization:
    """The status of ``id_tag`` now.

    Unknown tags are Invalid; an expired one Expired; a tag whose parent is not
    Accepted takes the parent's status. With ``check_concurrent`` a tag already in a
    running session (other than ``concurrent_except_session``, and not at station
    ``concurrent_unless_station``) is ConcurrentTx.
    """
    now = now or utcnow()
    tag = IdTag.select().where(IdTag.id_tag == id_tag).first()
    if tag is None:
        return TagAuthorization("Invalid")
    parent = IdTag.get_or_none(IdTag.id == tag.parent_id) if tag.parent_id else None
    email = ""
    if tag.user_id is not None:
        user = User.select(User.email).where(User.id == tag.user_id).first()
        email = user.email if user is not None else ""
    base = {
        "expiry_date": tag.expiry_date,
        "parent_id_tag": parent.id_tag if parent is not None else "",
        "user_id": tag.user_id,
        "user_email": email,
    }
    status = tag.status
    if status == "Accepted" and tag.expiry_date is not None and tag.expiry_date <= now:
        status = "Expired"
    if status == "Accepted" and parent is not None:
        if parent.status != "Accepted":
            status = parent.status
        elif parent.expiry_date is not None and parent.expiry_date <= now:
            status = "Expired"
    if status == "Accepted" and check_concurrent:
        running = ChargingSession.select(ChargingSession.id).where(
            (ChargingSession.id_tag == id_tag) & ChargingSession.end_time.is_null()
        )
        if concurrent_except_session is not None:
            running = running.where(ChargingSession.id != concurrent_except_session)
        if concurrent_unless_station is not None:
            running = running.where(ChargingSession.charge_box_id != concurrent_unless_station)
        if running.exists():
            status = "ConcurrentTx"
    return TagAuthorization(status, **base)


def authorize_id_tag(id_tag: str, charge_box_id: str) -> TagAuthorization:
    """Answer an Authorize: a tag already charging at another station is ConcurrentTx."""
    return tag_authorization(id_tag, check_concurrent=True, concurrent_unless_station=charge_box_id)
