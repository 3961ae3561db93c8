"""What every JSON API module shares: the API error, body and paging helpers, role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from quart import request
from werkzeug.exceptions import Forbidden

from portal.access import Principal, current_principal
from portal.context import get_store

__all__ = [
    "ApiError",
    "check_numbers",
    "forbid_unless",
    "in_scope",
    "json_body",
    "me",
    "optional_int",
    "page_json",
    "paging",
]

MAX_LIMIT = 500
#: The largest whole number a query parameter may carry (SQLite's INTEGER).
MAX_INT = 2**63 - 1


class ApiError(Exception):
    """An answer other than success: status, a machine code, a readable message."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


def me() -> Principal:
    principal = current_principal()
    if principal is None:  # the guard answered already; this is for the type checker
        raise ApiError(401, "unauthenticated", "log in or send a bearer token")
    return principal


T = TypeVar("T")


async def in_scope(find: Callable[[Any, int | None], T | None], key: Any, what: str) -> T:
    """``find(key, site_scope)`` for the principal, else 404: what lies in other sites does
    not exist for a site administrator."""
    found = await get_store().read(find, key, me().site_scope)
    if found is None:
        raise ApiError(404, "not-found", f"no {what} {key}")
    return found


def forbid_unless(*roles: str) -> Principal:
    """The principal, when his role is one of ``roles``; otherwise 403."""
    principal = me()
    if principal.role not in roles:
        raise Forbidden(f"the role {principal.role} may not do this")
    return principal


async def json_body() -> dict[str, Any]:
    """The request body as a JSON object (400 otherwise, and for a number too big to
    be any id, count or amount of ours)."""
    data = await request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad-request", "the body must be a JSON object")
    check_numbers(data)
    return data


def check_numbers(data: Any, where: str = "") -> None:
    """400 naming the field when ``data`` holds an integer beyond ±``MAX_INT``."""
    if isinstance(data, dict):
        for key, value in data.items():
            check_numbers(value, f"{where}.{key}" if where else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            check_numbers(value, f"{where}[{index}]")
    elif isinstance(data, int) and not isinstance(data, bool) and abs(data) > MAX_INT:
        raise ApiError(400, "bad-request", f"{where or 'the body'} is out of range", field=where)


def optional_int(name: str) -> int | None:
    raw = request.args.get(name, "")
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad-request", f"{name} must be an integer", field=name) from None
    if abs(value) > MAX_INT:  # no id, count or offset of ours is that big
        raise ApiError(400, "bad-request", f"{name} is out of range", field=name)
    return value


def paging() -> tuple[int, int]:
    """``limit`` (1–500, default 50) and ``offset`` (default 0) from the query string."""
    limit = optional_int("limit")
    offset = optional_int("offset")
    limit = 50 if limit is None else limit
    offset = 0 if offset is None else offset
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, "bad-request", f"limit is 1 to {MAX_LIMIT}", field="limit")
    if offset < 0:
        raise ApiError(400, "bad-request", "offset is 0 or more", field="offset")
    return limit, offset


def page_json(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}
