"""OCPP id tags (RFID badges): list, create and update with status and expiry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import JOIN

from db.accounts.accounts import AccountError, InvalidFieldError
from db.accounts.id_tag_text import ID_TAG_RULE, id_tag_ok
from db.errors import Conflict
from db.schema.models import IdTag, User

__all__ = [
    "TAG_STATUSES",
    "DuplicateIdTagError",
    "TagPage",
    "create_id_tag",
    "delete_id_tag",
    "find_id_tag",
    "list_id_tags",
    "page_id_tags",
    "update_id_tag",
]

TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")


class DuplicateIdTagError(AccountError, Conflict):
    def __init__(self, tag: str) -> None:
        super().__init__("idTag", f"id tag {tag} already exists")


def _json(tag: IdTag, email: str = "", site_id: int | None = None) -> dict[str, Any]:
    return {
        "idTag": tag.id_tag,
        "status": tag.status,
        "expiryDate": tag.expiry_date.isoformat() + "Z" if tag.expiry_date else None,
        "userId": tag.user_id,
        "userEmail": email,
        "parentIdTag": tag.parent.id_tag if tag.parent_id else None,
        "note": tag.note,
    }


def _scoped(query: Any, scope: int | None) -> Any:
    """A site administrator sees the badges of his site's users only."""
    if scope is None:
        return query
    return query.where(IdTag.user.in_(User.select(User.id).where(User.site == scope)))


def list_id_tags(
    scope: int | None,
    *,
    status: str = "",
    user_id: int | None = None,
    q: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    query = (
        IdTag.select(IdTag, User.email)
        .join(User, on=(IdTag.user == User.id), join_type=JOIN.LEFT_OUTER)
        .order_by(IdTag.id_tag)
    )
    query = _scoped(query, scope)
    if status:
        query = query.where(IdTag.status == status)
    if user_id is not None:
        query = query.where(IdTag.user == user_id)
    if q:
        query = query.where((IdTag.id_tag ** f"%{q}%") | (IdTag.note ** f"%{q}%"))
    total = query.count()
    rows = [
        _json(t, getattr(t, "email", "") or "") for t in query.limit(limit).offset(offset).objects()
    ]
    return rows, total


#: a search counts its matches up to this many ("1,000+ badges"): an exact count of a
#: rare match over 100,000 badges would scan them all once more for nothing
COUNT_CAP = 1000


@dataclass(frozen=True)
class TagPage:
    rows: list[dict[str, Any]]
    total: int
    capped: bool  # ``total`` is COUNT_CAP and there are more
    first: str | None  # the first and last id tag shown (keyset cursors)
    last: str | None
    has_previous: bool
    has_next: bool


def page_id_tags(
    scope: int | None,
    *,
    status: str = "",
    q: str = "",
    after: str = "",
    before: str = "",
    limit: int = 50,
) -> TagPage:
    """One page of badges in id tag order after (or before) a cursor, by the unique index
    on ``id_tag`` (keyset: page 2,000 costs what page 1 does). ``q`` is found in the RFID,
    the note or the owner's e-mail."""
    query = IdTag.select(IdTag, User.email).join(
        User, on=(IdTag.user == User.id), join_type=JOIN.LEFT_OUTER
    )
    query = _scoped(query, scope)
    if status:
        query = query.where(IdTag.status == status)
    q = q.strip()
    if q:
        like = f"%{q}%"
        query = query.where((IdTag.id_tag**like) | (IdTag.note**like) | (User.email**like))
    if before:
        window = query.where(IdTag.id_tag < before).order_by(IdTag.id_tag.desc())
    else:
        window = query.where(IdTag.id_tag > after) if after else query
        window = window.order_by(IdTag.id_tag)
    found = list(window.limit(limit + 1).objects())
    more = len(found) > limit
    found = found[:limit]
    if before:
        found.reverse()
    rows = [_json(t, getattr(t, "email", "") or "") for t in found]
    # a search counts up to the cap only; the whole table counts from the index
    total = query.select(IdTag.id).limit(COUNT_CAP + 1).count() if q else query.count()
    return TagPage(
        rows=rows,
        total=min(total, COUNT_CAP) if q else total,
        capped=bool(q) and total > COUNT_CAP,
        first=rows[0]["idTag"] if rows else None,
        last=rows[-1]["idTag"] if rows else None,
        has_previous=more if before else bool(after),
        has_next=bool(before) or more,
    )


def find_id_tag(id_tag: str, scope: int | None) -> dict[str, Any] | None:
    tag = _scoped(IdTag.select().where(IdTag.id_tag == id_tag), scope).first()
    if tag is None:
        return None
    user = User.get_or_none(User.id == tag.user_id) if tag.user_id else None
    return _json(tag, user.email if user else "")


def _expiry(raw: Any) -> dt.datetime | None:
    if raw in (None, ""):
        return None
    try:
        value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidFieldError("expiryDate", "expiryDate is an ISO 8601 date-time") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _apply(tag: IdTag, data: dict[str, Any]) -> None:
    if "status" in data:
        if data["status"] not in TAG_STATUSES:
            raise InvalidFieldError("status", f"status is one of {', '.join(TAG_STATUSES)}")
        tag.status = data["status"]
    if "expiryDate" in data:
        tag.expiry_date = _expiry(data["expiryDate"])
    if "userId" in data:
        user_id = data["userId"]
        if user_id is not None and User.get_or_none(User.id == user_id) is None:
            raise InvalidFieldError("userId", "no such user")
        tag.user = user_id
    if "parentIdTag" in data:
        parent = data["parentIdTag"]
        if parent:
            found = IdTag.get_or_none(IdTag.id_tag == str(parent))
            if found is None:
                raise InvalidFieldError("parentIdTag", "no such parent id tag")
            tag.parent = found.id
        else:
            tag.parent = None
    if "note" in data:
        tag.note = str(data["note"] or "")[:255]


def create_id_tag(data: dict[str, Any]) -> str:
    """A new id tag, stored exactly as given (any OCPP idTag); returns the stored tag."""
    tag_value = data.get("idTag")
    if not isinstance(tag_value, str) or not id_tag_ok(tag_value):
        raise InvalidFieldError("idTag", ID_TAG_RULE)
    if IdTag.get_or_none(IdTag.id_tag == tag_value) is not None:
        raise DuplicateIdTagError(tag_value)
    tag = IdTag(id_tag=tag_value, status="Accepted")
    _apply(tag, data)
    tag.save()
    return tag_value


def update_id_tag(id_tag: str, data: dict[str, Any]) -> None:
    tag = IdTag.get_or_none(IdTag.id_tag == id_tag)
    if tag is None:
        raise InvalidFieldError("idTag", "no such id tag")
    _apply(tag, data)
    tag.save()


def delete_id_tag(id_tag: str) -> bool:
    return bool(IdTag.delete().where(IdTag.id_tag == id_tag).execute())
