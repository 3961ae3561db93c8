"""Refused and fought-over connections, coalesced: a few rows per interval however many attempts.

Nothing a client sends before it has proved who it is may cost a database write of its
own. An unknown charge box id is refused at once and only counted in memory; every
``interval`` one unit of work raises (or counts up) one *Not registered* alarm per id,
its message telling the number of attempts and the last one. At most ``max_ids``
distinct ids are remembered (attempts beyond that are summed into one event row per
interval) and at most ``writes_per_flush`` ids are written per interval. Replacements
(two clients fighting over one id), refused station passwords and connections refused
for their security profile (a downgrade, a certificate naming another station) become
at most one event row per station per interval, with a count; TLS handshakes the TLS
layer refused (expired certificate, unknown CA: no station id known yet) one row per
address per interval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import trio

from db import Store
from db.schema.models import utcnow
from db.system.alarms import AlarmChange, log_event, raise_alarm
from gateway.events import EventBus, LiveEvent
from gateway.ocpp16.convert import format_datetime

__all__ = ["RefusalLog"]

log = logging.getLogger(__name__)


@dataclass
class _Attempts:
    """Attempts for one key since the last flush (and in total while remembered)."""

    pending: int = 0
    total: int = 0
    remote: str = ""
    last_seen: Any = None
    last_mono: float = 0.0
    station_id: int | None = None
    site_id: int | None = None
    detail: str = ""


@dataclass
class _Overflow:
    attempts: int = 0
    ids: set[str] = field(default_factory=set)


class RefusalLog:
    """Counts refusals in memory; ``run`` writes them coalesced every ``interval`` seconds."""

    def __init__(
        self,
        store: Store,
        events: EventBus,
        *,
        interval: float = 10.0,
        max_ids: int = 1000,
        writes_per_flush: int = 200,
        forget_after: float = 3600.0,
    ) -> None:
        self._store = store
        self._events = events
        self.interval = interval
        self.max_ids = max_ids
        self.writes_per_flush = writes_per_flush
        self.forget_after = forget_after
        self._unknown: dict[str, _Attempts] = {}
        self._overflow = _Overflow()
        self._replaced: dict[str, _Attempts] = {}
        self._bad_passwords: dict[str, _Attempts] = {}
        self._profiles: dict[str, _Attempts] = {}  # by charge box id
        self._tls: dict[str, _Attempts] = {}  # by peer address
        self.flushes = 0
        self.rows_written = 0

    # -- counting (no await, no database) -------------------------------------------

    def not_registered(self, charge_box_id: str, remote: str) -> None:
        entry = self._unknown.get(charge_box_id)
        if entry is None:
            if len(self._unknown) >= self.max_ids:
                self._overflow.attempts += 1
                if len(self._overflow.ids) < 10:  # a few examples for the event row
                    self._overflow.ids.add(charge_box_id[:64])
                return
            entry = self._unknown[charge_box_id] = _Attempts()
        self._count(entry, remote)

    def replaced(
        self, charge_box_id: str, station_id: int, site_id: int | None, remote: str
    ) -> None:
        entry = self._replaced.setdefault(charge_box_id, _Attempts())
        entry.station_id, entry.site_id = station_id, site_id
        self._count(entry, remote)

    def bad_password(
        self,
        charge_box_id: str,
        station_id: int | None,
        site_id: int | None,
        remote: str,
        detail: str,
    ) -> None:
        """A refused station password or throttled attempt: one security event per interval."""
        entry = self._bad_passwords.get(charge_box_id)
        if entry is None:
            if len(self._bad_passwords) >= self.max_ids:
                return  # still counted by the throttle's statistics
            entry = self._bad_passwords[charge_box_id] = _Attempts()
        if station_id is not None:
            entry.station_id, entry.site_id = station_id, site_id
        if detail:
            entry.detail = detail
        self._count(entry, remote)

    def security_refused(
        self, charge_box_id: str, station_id: int, site_id: int | None, remote: str, why: str
    ) -> None:
        """A connection below the station's security profile, or with a certificate that
        does not name it: one security event per station per interval."""
        entry = self._profiles.get(charge_box_id)
        if entry is None:
            if len(self._profiles) >= self.max_ids:
                return
            entry = self._profiles[charge_box_id] = _Attempts()
        entry.station_id, entry.site_id, entry.detail = station_id, site_id, why
        self._count(entry, remote)

    def tls_refused(self, remote: str, why: str) -> None:
        """A TLS handshake refused (bad client certificate, not TLS at all): by address."""
        address = remote.rpartition(":")[0] or remote
        entry = self._tls.get(address)
        if entry is None:
            if len(self._tls) >= self.max_ids:
                return
            entry = self._tls[address] = _Attempts()
        entry.detail = why
        self._count(entry, remote)

    @staticmethod
    def _count(entry: _Attempts, remote: str) -> None:
        entry.pending += 1
        entry.total += 1
        entry.remote = remote
        entry.last_seen = utcnow()
        entry.last_mono = trio.current_time()

    # -- writing ----------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        try:
            while True:
                await trio.sleep(self.interval)
                await self.flush()
        finally:
            with trio.move_on_after(5) as cleanup:
                cleanup.shield = True
                await self.flush()

    async def flush(self) -> None:
        """Write what was counted since the last flush (at most ``writes_per_flush`` ids)."""
        unknown = self._take(self._unknown)
        replaced = self._take(self._replaced)
        passwords = self._take(self._bad_passwords)
        profiles = self._take(self._profiles)
        handshakes = self._take(self._tls)
        overflow, self._overflow = self._overflow, _Overflow()
        self._forget()
        if not (unknown or replaced or passwords or profiles or handshakes or overflow.attempts):
            return
        now = utcnow()

        def unit() -> tuple[list[AlarmChange], int]:
            changes = []
            rows = 0
            for charge_box_id, entry, pending, _ in unknown:
                changes.append(
                    raise_alarm(
                        "Not registered",
                        charge_box_id,
                        message=f"{entry.total} connection attempt"
                        f"{'s' if entry.total > 1 else ''}, the last from {entry.remote}"
                        f" at {format_datetime(entry.last_seen)}",
                        count=pending,
                        now=now,
                    )
                )
                rows += 1
            if overflow.attempts:
                examples = ", ".join(sorted(overflow.ids))
                log_event(
                    "station.not_registered",
                    severity="warning",
                    message=f"{overflow.attempts} connection attempts with unknown ids beyond"
                    f" the {self.max_ids} remembered (e.g. {examples})"[:500],
                    now=now,
                )
                rows += 1
            for charge_box_id, entry, pending, _ in replaced:
                log_event(
                    "station.replaced",
                    charge_box_id,
                    station_id=entry.station_id,
                    site_id=entry.site_id,
                    severity="warning",
                    message=(
                        f"new connection from {entry.remote}"
                        if pending == 1
                        else f"replaced {pending} times in {self.interval:g} s,"
                        f" the last by {entry.remote}"
                    ),
                    now=now,
                )
                rows += 1
            security = [
                (charge_box_id, entry, f"{pending} refused password attempt"
                 f"{'s' if pending > 1 else ''}, the last from {entry.remote}{detail}")
                for charge_box_id, entry, pending, detail in passwords
            ] + [
                (charge_box_id, entry, f"{pending} connection{'s' if pending > 1 else ''}"
                 f" refused: {detail}; the last from {entry.remote}")
                for charge_box_id, entry, pending, detail in profiles
            ]  # fmt: skip
            for charge_box_id, entry, message in security:
                log_event(
                    "station.security",
                    charge_box_id,
                    station_id=entry.station_id,
                    site_id=entry.site_id,
                    severity="warning",
                    message=message[:500],
                    now=now,
                )
                rows += 1
            for address, _entry, pending, detail in handshakes:
                log_event(
                    "station.security",
                    severity="warning",
                    message=f"{pending} TLS handshake{'s' if pending > 1 else ''} refused from"
                    f" {address}: {detail}"[:500],
                    now=now,
                )
                rows += 1
            return changes, rows

        try:
            changes, rows = await self._store.write(unit)
        except Exception as exc:  # the database is down: the counts are lost, not the gateway
            log.warning("could not record refused connections: %s: %s", type(exc).__name__, exc)
            return
        self.flushes += 1
        self.rows_written += rows
        for change, (charge_box_id, *_) in zip(changes, unknown, strict=True):
            self._events.publish(
                LiveEvent(
                    "alarm.raised",
                    charge_box_id,
                    {"alarmId": change.alarm_id, "kind": "Not registered", "new": change.new},
                    now,
                    None,
                )
            )

    def _take(self, table: dict[str, _Attempts]) -> list[tuple[str, _Attempts, int, str]]:
        """Up to ``writes_per_flush`` keys with pending attempts (the oldest first)."""
        taken = []
        for key, entry in table.items():
            if entry.pending:
                taken.append((key, entry, entry.pending, entry.detail))
                entry.pending = 0
                entry.detail = ""
                if len(taken) >= self.writes_per_flush:
                    break
        return taken

    def _forget(self) -> None:
        """Drop keys not seen for ``forget_after`` seconds (their alarms stay in the database)."""
        horizon = trio.current_time() - self.forget_after
        for table in (
            self._unknown,
            self._replaced,
            self._bad_passwords,
            self._profiles,
            self._tls,
        ):
            stale: list[str] = [
                k for k, e in table.items() if not e.pending and e.last_mono < horizon
            ]
            for key in stale:
                del table[key]

    def statistics(self) -> dict[str, Any]:
        return {
            "unknownIds": len(self._unknown),
            "unknownAttempts": sum(e.total for e in self._unknown.values()),
            "untrackedAttempts": self._overflow.attempts,
            "flushes": self.flushes,
            "rowsWritten": self.rows_written,
        }
