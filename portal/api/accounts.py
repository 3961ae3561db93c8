"""``/api/v1/users``, ``/api/v1/id-tags`` and ``/api/v1/me``."""

from __future__ import annotations

from functools import partial
from typing import Any

import trio
from quart import Blueprint, request

from db.accounts.accounts import (
    create_user,
    delete_user,
    get_user,
    list_users,
    update_user,
    visitors_since,
)
from db.accounts.id_tags import (
    TAG_STATUSES,
    create_id_tag,
    delete_id_tag,
    find_id_tag,
    list_id_tags,
    update_id_tag,
)
from db.accounts.passwords import WeakPasswordError, check_policy, hash_password
from db.schema.models import ROLES
from portal.access import ALL_ROLES, guard
from portal.api.common import (
    ApiError,
    forbid_unless,
    in_scope,
    json_body,
    me,
    optional_int,
    page_json,
    paging,
)
from portal.context import get_store

__all__ = ["bp"]

bp = guard(Blueprint("accounts", __name__), ALL_ROLES)

_FIELDS = {
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "role": "role",
    "siteId": "site_id",
    "emailAtAlarm": "email_at_alarm",
    "rfid": "rfid",
}


async def _hash(body: dict[str, Any], required: bool) -> str | None:
    password = body.get("password")
    if password in (None, ""):
        if required:
            raise ApiError(400, "invalid", "a password is required", field="password")
        return None
    if not isinstance(password, str):
        raise ApiError(400, "invalid", "password must be a string", field="password")
    try:
        check_policy(password)
    except WeakPasswordError as exc:
        raise ApiError(400, "invalid", str(exc), field="password") from None
    return await trio.to_thread.run_sync(hash_password, password)


async def _user(user_id: int) -> Any:
    user = await in_scope(get_user, user_id, "user")
    return user


@bp.get("/me")
async def whoami() -> Any:
    principal = me()
    return {
        "role": principal.role,
        "userId": principal.user_id,
        "email": principal.email,
        "siteId": principal.site_id,
        "token": principal.token_id is not None,
    }


@bp.get("/users")
async def users_list() -> Any:
    """Filters: q (name, e-mail, site, RFID), role, sort (email, -email, role, site…).
    A site administrator gets his site's users and, with ``chargedHere``, the EV users of
    no site who charged at his site in the last 12 months."""
    principal = forbid_unless("admin", "site-admin")
    limit, offset = paging()
    role = request.args.get("role", "")
    if role and role not in ROLES:
        raise ApiError(400, "bad-request", f"role is one of {', '.join(ROLES)}", field="role")
    sort = request.args.get("sort", "email")
    query = partial(
        list_users,
        me().site_scope,
        q=request.args.get("q", ""),
        role=role,
        sort=sort.lstrip("-"),
        descending=sort.startswith("-"),
        limit=limit,
        offset=offset,
        visitors_since=visitors_since() if principal.site_scope is not None else None,
    )
    rows, total = await get_store().read(query)
    return page_json([u.public() for u in rows], total, limit, offset)


@bp.get("/users/<int:user_id>")
async def user_read(user_id: int) -> Any:
    forbid_unless("admin", "site-admin")
    return (await _user(user_id)).public()


@bp.post("/users")
async def user_create() -> Any:
    forbid_unless("admin")
    body = await json_body()
    data = {v: body[k] for k, v in _FIELDS.items() if k in body}
    data["password_hash"] = await _hash(body, True)
    user_id = await get_store().write(create_user, data)
    return (await _user(user_id)).public(), 201


@bp.patch("/users/<int:user_id>")
async def user_update(user_id: int) -> Any:
    principal = forbid_unless("admin")
    user = await _user(user_id)
    body = await json_body()
    if user_id == principal.user_id and body.get("role", user.role) != user.role:
        raise ApiError(409, "conflict", "you cannot change your own role", field="role")
    data = {v: body[k] for k, v in _FIELDS.items() if k in body}
    new_hash = await _hash(body, False)
    if new_hash:
        data["password_hash"] = new_hash
    await get_store().write(update_user, user_id, data)
    return (await _user(user_id)).public()


@bp.delete("/users/<int:user_id>")
async def user_delete(user_id: int) -> Any:
    principal = forbid_unless("admin")
    await _user(user_id)
    if user_id == principal.user_id:
        raise ApiError(409, "conflict", "you cannot delete your own account")
    await get_store().write(delete_user, user_id)
    return "", 204


# --- id tags -------------------------------------------------------------------


async def _tag(id_tag: str) -> dict[str, Any]:
    return await in_scope(find_id_tag, id_tag, "id tag")


@bp.get("/id-tags")
async def tags_list() -> Any:
    """Filters: status, userId, q."""
    forbid_unless("admin", "site-admin")
    limit, offset = paging()
    status = request.args.get("status", "")
    if status and status not in TAG_STATUSES:
        raise ApiError(400, "bad-request", f"status is one of {', '.join(TAG_STATUSES)}")
    query = partial(
        list_id_tags,
        me().site_scope,
        status=status,
        user_id=optional_int("userId"),
        q=request.args.get("q", ""),
        limit=limit,
        offset=offset,
    )
    rows, total = await get_store().read(query)
    return page_json(rows, total, limit, offset)


@bp.get("/id-tags/<id_tag>")
async def tag_read(id_tag: str) -> Any:
    forbid_unless("admin", "site-admin")
    return await _tag(id_tag)


@bp.post("/id-tags")
async def tag_create() -> Any:
    """Body: idTag (any OCPP idTag, stored as given), status, expiryDate, userId,
    parentIdTag, note."""
    forbid_unless("admin")
    body = await json_body()
    stored = await get_store().write(create_id_tag, body)
    return await _tag(stored), 201


@bp.route("/id-tags/<id_tag>", methods=["PATCH", "PUT"])
async def tag_update(id_tag: str) -> Any:
    forbid_unless("admin")
    await _tag(id_tag)
    body = await json_body()
    await get_store().write(update_id_tag, id_tag, body)
    return await _tag(id_tag)


@bp.delete("/id-tags/<id_tag>")
async def tag_delete(id_tag: str) -> Any:
    forbid_unless("admin")
    await _tag(id_tag)
    await get_store().write(delete_id_tag, id_tag)
    return "", 204
