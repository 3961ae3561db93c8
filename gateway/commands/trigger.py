"""OCPP 1.6 Remote Trigger: ask the station to send one of its messages now."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.commands.base import Command
from gateway.commands.core import at_least, one_of

__all__ = ["TRIGGERS", "TriggerMessage"]

TRIGGERS = (
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)


@dataclass(frozen=True)
class TriggerMessage(Command):
    action = "TriggerMessage"
    requested_message: str = "StatusNotification"
    connector_id: int | None = None

    def check(self) -> None:
        one_of(self.requested_message, TRIGGERS, "requestedMessage")
        at_least(self.connector_id, 1, "connectorId")
