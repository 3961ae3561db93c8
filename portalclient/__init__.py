"""A client for a running portal's JSON API, for notebooks and scripts (no server imports)."""

from portalclient.client import PortalClient, kebab
from portalclient.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PortalError,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PortalClient",
    "PortalError",
    "Unauthorized",
    "Unavailable",
    "kebab",
]
