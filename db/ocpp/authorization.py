"""Id tag authorization (OCPP idTagInfo): status, expiry, parent tag, owning user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from db.engine import rawsql
from db.schema.models import IdTag, utcnow

__all__ = ["TagAuthorization", "authorize_id_tag", "status_now", "tag_authorization"]

_to_datetime = IdTag.expiry_date.python_value  # SQLite hands back text, PostgreSQL datetimes


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


def _expired(expiry: Any, now: dt.datetime) -> bool:
    return expiry is not None and expiry <= now


def status_now(
    status: str,
    expiry: dt.datetime | None,
    parent_tag: str | None,
    parent_status: str | None,
    parent_expiry: dt.datetime | None,
    now: dt.datetime,
) -> str:
    """A tag's status now from its row and its parent's: its own status, Expired past its
    expiry, else the status of a parent that is not Accepted or has expired."""
    if status == "Accepted" and _expired(expiry, now):
        status = "Expired"
    if status == "Accepted" and parent_tag is not None:
        if parent_status != "Accepted":
            status = str(parent_status)
        elif _expired(parent_expiry, now):
            status = "Expired"
    return status


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
    Accepted (or has expired) takes the parent's status. With ``check_concurrent`` a
    tag already in a running session (other than ``concurrent_except_session``, and
    not at station ``concurrent_unless_station``) is ConcurrentTx.
    """
    now = now or utcnow()
    row = rawsql.fetchone(
        'SELECT t."status", t."expiry_date", t."user_id", p."id_tag", p."status",'
        ' p."expiry_date", u."email"'
        ' FROM "id_tag" t LEFT OUTER JOIN "id_tag" p ON p."id" = t."parent_id"'
        ' LEFT OUTER JOIN "user" u ON u."id" = t."user_id"'
        ' WHERE t."id_tag" = ?',
        (id_tag,),
    )
    if row is None:
        return TagAuthorization("Invalid")
    status, expiry, user_id, parent_tag, parent_status, parent_expiry, email = row
    expiry = _to_datetime(expiry)
    parent_expiry = _to_datetime(parent_expiry)
    status = status_now(status, expiry, parent_tag, parent_status, parent_expiry, now)
    if status == "Accepted" and check_concurrent:
        sql = 'SELECT 1 FROM "charging_session" WHERE "id_tag" = ? AND "end_time" IS NULL'
        params: list[Any] = [id_tag]
        if concurrent_except_session is not None:
            sql += ' AND "id" <> ?'
            params.append(concurrent_except_session)
        if concurrent_unless_station is not None:
            sql += ' AND "charge_box_id" <> ?'
            params.append(concurrent_unless_station)
        if rawsql.fetchone(sql + " LIMIT 1", params) is not None:
            status = "ConcurrentTx"
    return TagAuthorization(status, expiry, parent_tag or "", user_id, email or "")


def authorize_id_tag(
    id_tag: str, charge_box_id: str, *, now: dt.datetime | None = None
) -> TagAuthorization:
    """The one rule for Authorize and StartTransaction: the tag's own status, and
    ConcurrentTx only while the tag is in a live session at *another* station.

    A session left open at this station (a lost StopTransaction, a reboot) never
    refuses the tag here: the station is the authority on what runs on it, and a new
    start there closes the stale session (``db.ocpp.stale_sessions``).
    """
    return tag_authorization(
        id_tag, now=now, check_concurrent=True, concurrent_unless_station=charge_box_id
    )
