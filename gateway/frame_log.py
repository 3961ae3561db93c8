"""The station message log, gateway side: every OCPP-J frame and connection event is kept
in memory for a moment and written in batches, off the stations' answer path.

Recording a frame is a list append (no await, no database): an actor never waits for
the log. ``run`` writes what gathered every ``flush_interval`` seconds (sooner when
``flush_at`` frames wait) in one job of the database writer. The log is diagnostic, not
"persist before acknowledge": frames of the last moment before a crash are lost, and
when the database falls behind, frames beyond ``max_buffered`` are dropped and counted.
``clean`` (called by the supervisor) keeps each station's newest ``per_station`` frames
and nothing older than ``max_age_days``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import trio

from db import Store
from db.engine.failures import FailureLog
from db.ocpp.frame_log import (
    ConnectionRow,
    FrameRow,
    delete_older_than,
    stations_over,
    trim_stations,
    write_log,
)
from db.schema.models import utcnow
from gateway.config import GatewayConfig

__all__ = ["FrameLog", "frame_kind"]

log = logging.getLogger(__name__)

_KINDS = {2: "Call", 3: "CallResult", 4: "CallError"}


def frame_kind(message_type_id: int) -> str:
    return _KINDS.get(message_type_id, "Malformed")


class FrameLog:
    """Frames and connection events gathered in memory, written in batches, trimmed."""

    def __init__(self, store: Store, config: GatewayConfig) -> None:
        self._store = store
        self.enabled = config.frame_log
        self.per_station = config.frame_log_per_station
        self.max_age = dt.timedelta(days=config.frame_log_days)
        self.flush_interval = config.frame_log_flush_interval
        self.flush_at = 2000
        self.max_buffered = config.frame_log_max_buffered
        self.clean_interval = config.frame_log_clean_interval
        self._frames: list[FrameRow] = []
        self._connections: list[ConnectionRow] = []
        self._since_trim: dict[int, int] = {}  # frames written per station since its trim
        self._full = trio.Event()
        self._next_clean = 0.0
        self._swept = False  # stations over the cap found once after start
        self.failures = FailureLog(log, level=logging.WARNING)
        self.written = 0
        self.dropped = 0
        self.flushes = 0
        self.trimmed = 0
        self.aged_out = 0

    # -- recording (no await, no database) -------------------------------------------------

    def frame(
        self,
        station_id: int,
        charge_box_id: str,
        direction: str,
        message_type: str,
        unique_id: str,
        action: str,
        text: str,
    ) -> None:
        """Keep one frame as it went over the wire (``direction`` in | out)."""
        if not self.enabled:
            return
        if len(self._frames) >= self.max_buffered:
            self.dropped += 1
            return
        self._frames.append(
            (
                station_id,
                charge_box_id,
                utcnow(),
                direction,
                message_type,
                unique_id[:64],
                action[:48],
                text,
            )
        )
        if len(self._frames) >= self.flush_at:
            self._full.set()

    def connection(
        self, station_id: int, charge_box_id: str, kind: str, reason: str, remote: str
    ) -> None:
        """A connection opened (``connected``) or closed (``disconnected``, with why).
        Kept even when the frame log is off: the online intervals need them."""
        self._connections.append(
            (station_id, charge_box_id, utcnow(), kind, reason[:255], remote[:64])
        )

    # -- writing ---------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        try:
            while True:
                with trio.move_on_after(self.flush_interval):
                    await self._full.wait()
                self._full = trio.Event()
                await self.flush()
        finally:
            # what gathered up to the stop (the last disconnections among it): bounded
            with trio.CancelScope(shield=True), trio.move_on_after(5):
                await self.flush()

    async def flush(self) -> None:
        """Write what gathered, in one job; a failed write is counted and dropped."""
        if not (self._frames or self._connections):
            return
        frames, self._frames = self._frames, []
        connections, self._connections = self._connections, []
        self.flushes += 1
        try:
            await self._store.write(write_log, frames, connections)
        except Exception as exc:
            self.dropped += len(frames)
            self.failures.report(f"{len(frames)} logged frames could not be written", exc)
            return
        self.written += len(frames)
        since = self._since_trim
        for row in frames:
            since[row[0]] = since.get(row[0], 0) + 1

    # -- retention (the supervisor's tick) -------------------------------------------------

    async def clean(self, *, force: bool = False) -> None:
        """Every ``clean_interval``: trim the stations that wrote a tenth of their cap
        since their last trim, and delete what is older than ``max_age_days``."""
        now = trio.current_time()
        if not force and now < self._next_clean:
            return
        self._next_clean = now + self.clean_interval
        try:
            await self._clean()
        except Exception as exc:  # the supervisor's other duties go on
            self.failures.report("cleaning the station message log failed", exc)

    async def _clean(self) -> None:
        keep = self.per_station
        if not self._swept:  # counts start at zero: once, every station over the cap
            self._swept = True
            for station_id in await self._store.read(stations_over, keep):
                self._since_trim[station_id] = keep
        slack = max(keep // 10, 1)
        due = [sid for sid, n in self._since_trim.items() if n >= slack]
        for start in range(0, len(due), 50):  # short jobs: the writer serves stations too
            part = due[start : start + 50]
            self.trimmed += await self._store.write(trim_stations, part, keep)
            for station_id in part:
                self._since_trim.pop(station_id, None)
        cutoff = utcnow() - self.max_age
        while True:
            deleted = await self._store.write(delete_older_than, cutoff, 20_000)
            self.aged_out += deleted
            if deleted < 20_000:
                break

    def statistics(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "written": self.written,
            "dropped": self.dropped,
            "flushes": self.flushes,
            "buffered": len(self._frames),
            "trimmed": self.trimmed,
            "agedOut": self.aged_out,
        }
