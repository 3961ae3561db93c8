"""The domain's refusals: NotFound, Conflict, Invalid(field), NotAllowed, Unavailable.

Raised where the problem is known (db/, and the command objects of gateway/); each kind
becomes an HTTP status in exactly one place per surface (``portal.errors``), never by
reading the message. ``message`` is for a person; ``field`` names the input at fault.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Conflict", "DomainError", "Invalid", "NotAllowed", "NotFound", "Unavailable"]


class DomainError(ValueError):
    """A request the domain refuses; ``message`` says why, ``field`` which input,
    ``details`` what else a program may want (the JSON API adds it to its answer)."""

    def __init__(
        self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}


class NotFound(DomainError):  # noqa: N818 - the kinds are named for what they say
    """The addressed thing (site, station, image, session…) does not exist."""


class Conflict(DomainError):  # noqa: N818
    """The request clashes with the current state (a duplicate, something still in use,
    nothing running to stop)."""


class Invalid(DomainError):  # noqa: N818
    """An input breaks a rule (format, range, length, missing)."""


class NotAllowed(DomainError):  # noqa: N818
    """The person's role may not do this."""


class Unavailable(DomainError):  # noqa: N818
    """Something the request needs is not running (the embedded FTP server…)."""
