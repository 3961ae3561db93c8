"""The portal's refusals as exceptions: status, machine code and readable message."""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PortalError",
    "Unauthorized",
    "Unavailable",
    "error_for",
]


class PortalError(Exception):
    """An answer other than success from the portal's JSON API."""

    def __init__(self, status: int, code: str, message: str, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body


class BadRequest(PortalError):  # noqa: N818 - named for the HTTP answer
    """400: the request (a filter, a payload field) is wrong; ``body["field"]`` names it."""


class Unauthorized(PortalError):  # noqa: N818 - named for the HTTP answer
    """401: no token, an unknown token or a revoked one."""


class Forbidden(PortalError):  # noqa: N818 - named for the HTTP answer
    """403: the token's role may not do this."""


class NotFound(PortalError):  # noqa: N818 - named for the HTTP answer
    """404: no such thing in the token's scope (other sites' stations do not exist)."""


class Conflict(PortalError):  # noqa: N818 - named for the HTTP answer
    """409: e.g. the station is offline (``code == "offline"``) or refused."""


class Unavailable(PortalError):  # noqa: N818 - named for the HTTP answer
    """503 (and other 5xx): the portal or the station cannot answer now."""


_BY_STATUS: dict[int, type[PortalError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


def error_for(status: int, body: Any, text: str = "") -> PortalError:
    """The exception for an HTTP error answer (the API's JSON body, or its text)."""
    data: dict[str, Any] = body if isinstance(body, dict) else {}
    code = str(data.get("error") or f"http-{status}")
    message = str(data.get("message") or text.strip()[:200] or "no message")
    kind = _BY_STATUS.get(status, Unavailable if status >= 500 else PortalError)
    return kind(status, code, message, data)
