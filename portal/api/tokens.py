"""``/api/v1/tokens``: administrators list, make and revoke API tokens."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from quart import Blueprint

from db.accounts.api_tokens import create_token, get_token, list_tokens, revoke_token
from db.errors import Invalid
from portal.access import ALL_ROLES, guard
from portal.api.common import ApiError, forbid_unless, json_body
from portal.context import get_store
from portal.timefmt import parse_local

__all__ = ["bp"]

bp = guard(Blueprint("tokens", __name__), ALL_ROLES)


def _expiry(body: dict[str, Any]) -> dt.datetime | None:
    raw = body.get("expiresAt")
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise ApiError(400, "invalid", "expiresAt is a date-time string", field="expiresAt")
    try:
        return parse_local(raw)
    except ValueError:
        raise ApiError(
            400, "invalid", "expiresAt is a date-time like 2027-01-31T12:00:00Z", field="expiresAt"
        ) from None


@bp.get("/tokens")
async def tokens_list() -> Any:
    """Every token with its state: active, revoked, expired, or disabled (its maker is
    no longer an administrator)."""
    forbid_unless("admin")
    rows = await get_store().read(list_tokens)
    return {"items": [row.public() for row in rows], "total": len(rows)}


@bp.post("/tokens")
async def token_create() -> Any:
    """Body: name, role, siteId (site administrator tokens), expiresAt (optional). The
    answer carries the secret once, in ``token``."""
    principal = forbid_unless("admin")
    body = await json_body()
    maker = principal.user_id
    if maker is None and principal.token_id is not None:  # a token makes one: same maker
        made_by = await get_store().read(get_token, principal.token_id)
        maker = made_by.created_by if made_by is not None else None
    site = body.get("siteId")
    try:
        token_id, secret = await get_store().write(
            partial(
                create_token,
                str(body.get("name") or ""),
                str(body.get("role") or ""),
                site if isinstance(site, int) and 0 < site < 2**63 else None,
                maker,
                _expiry(body),
            )
        )
    except Invalid as exc:
        field = {"expires_at": "expiresAt", "site_id": "siteId"}.get(exc.field or "", exc.field)
        raise ApiError(400, "invalid", exc.message, field=field) from None
    row = await get_store().read(get_token, token_id)
    assert row is not None
    return {**row.public(), "token": secret}, 201


@bp.delete("/tokens/<int:token_id>")
async def token_revoke(token_id: int) -> Any:
    forbid_unless("admin")
    if not await get_store().write(revoke_token, token_id):
        raise ApiError(404, "not-found", f"no token {token_id}")
    return "", 204
