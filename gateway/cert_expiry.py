"""Station client certificates about to expire: a "Certificate expiring" alarm 30 days before."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from db.ocpp.security_profiles import (
    CERTIFICATE_ALARM,
    certificate_alarms_due,
    check_certificate_expiry,
)
from db.schema.models import utcnow
from gateway.events import LiveEvent

if TYPE_CHECKING:
    from gateway.central import Gateway

__all__ = ["CertificateWatch"]

log = logging.getLogger(__name__)


class CertificateWatch:
    """Checks every ``certificate_check_interval`` seconds (and at start)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self.checks = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await self.check()
            await trio.sleep(self._gateway.config.certificate_check_interval)

    async def check(self) -> None:
        """One pass: raise new alarms, clear those of renewed certificates (never raises)."""
        gateway = self._gateway
        now = utcnow()
        days = gateway.config.certificate_warning_days
        try:  # a read first: most checks change nothing and write nothing
            if not await gateway.store.read(lambda: certificate_alarms_due(now, days)):
                self.checks += 1
                return
            changes = await gateway.store.write(lambda: check_certificate_expiry(now, days))
        except Exception as exc:  # the database is down: try again next time
            log.warning("certificate expiry check failed: %s: %s", type(exc).__name__, exc)
            return
        self.checks += 1
        for charge_box_id, change in changes:
            kind = "alarm.raised" if change.raised else "alarm.cleared"
            data = {"alarmId": change.alarm_id, "kind": CERTIFICATE_ALARM, "connectorId": 0}
            if change.raised:
                data["message"] = change.message
            gateway.events.publish(LiveEvent(kind, charge_box_id, data, now, None))
