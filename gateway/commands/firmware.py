"""OCPP 1.6 Firmware Management: firmware updates and diagnostics uploads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from gateway.commands.base import Command, Outcome, Target
from gateway.commands.core import at_least, text

__all__ = ["GetDiagnostics", "UpdateFirmware"]


@dataclass(frozen=True)
class UpdateFirmware(Command):
    """Download and install firmware from ``location`` (``image`` names it for people)."""

    action = "UpdateFirmware"
    times = ("retrieve_date",)
    location: str
    retrieve_date: dt.datetime
    retries: int | None = None
    retry_interval: int | None = None
    image: dict[str, Any] | None = field(default=None, metadata={"wire": False})

    def check(self) -> None:
        text(self.location, "location", 2000)
        at_least(self.retries, 0, "retries")
        at_least(self.retry_interval, 0, "retryInterval")

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        extra = {}
        if self.image is not None:
            extra = {"image": self.image.get("filename"), "version": self.image.get("version")}
        return Outcome("The station accepted the request; progress follows below.", True, extra)


@dataclass(frozen=True)
class GetDiagnostics(Command):
    """Upload a diagnostics file to ``location``."""

    action = "GetDiagnostics"
    times = ("start_time", "stop_time")
    location: str
    retries: int | None = None
    retry_interval: int | None = None
    start_time: dt.datetime | None = None
    stop_time: dt.datetime | None = None

    def check(self) -> None:
        text(self.location, "location", 2000)
        at_least(self.retries, 0, "retries")
        at_least(self.retry_interval, 0, "retryInterval")

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        name = answer.get("fileName")
        return Outcome(
            f"The station will upload {name}." if name else "No file to upload.",
            True,
            {"fileName": name},
        )
