"""Errors of the configuration queries: a readable message, and the field that caused it."""

from __future__ import annotations


class ConfigurationError(ValueError):
    """A configuration change that is refused; ``message`` is shown to the person."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(ConfigurationError):
    """The addressed site, floor, station, outlet or schedule does not exist."""
