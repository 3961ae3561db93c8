"""Errors of the configuration queries: the domain's refusals under their older names."""

from __future__ import annotations

from db.errors import Conflict, DomainError, Invalid, NotFound

__all__ = ["ConfigurationError", "Conflict", "DomainError", "NotFoundError"]


class ConfigurationError(Invalid):
    """A configuration change that is refused; ``message`` is shown to the person."""


#: The addressed site, floor, station, outlet or schedule does not exist.
NotFoundError = NotFound
