"""Live events across nodes: published locally as ever, forwarded coalesced over NOTIFY.

A node's ``ClusterEventBus`` fans out to its own subscribers and, when it forwards,
queues the event. Every ``window`` seconds the queue is coalesced (the newest
``connector.status`` / ``session.meter`` per station and connector wins) and sent as
compact JSON payloads under PostgreSQL's 8,000-byte limit, each station's snapshot once
per payload beside its events. Receivers inject the events into their own bus (never
forwarding them again) and keep the snapshots (``SnapshotMirror``) for the portal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import trio

from db import Store
from db.system.cluster import EVENT_CHANNEL, notify
from gateway.cluster.codec import decode_event, decode_snapshot, encode_event, encode_snapshot
from gateway.events import EventBus, LiveEvent
from gateway.snapshot import StationSnapshot

__all__ = ["MAX_PAYLOAD", "ClusterEventBus", "SnapshotMirror", "pack_events"]

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7_500  # bytes of one NOTIFY payload (PostgreSQL refuses 8,000 and more)
#: kinds whose newest event per station and connector stands for the ones before it
COALESCED = frozenset({"connector.status", "session.meter"})
#: kinds that change what a station's snapshot says (sent with the snapshot)
STATE_KINDS = frozenset(
    {
        "station.online",
        "station.offline",
        "station.replaced",
        "station.booted",
        "connector.status",
        "session.started",
        "session.stopped",
        "session.meter",
    }
)


def coalesce(events: list[LiveEvent]) -> list[LiveEvent]:
    """The events in order, older ``COALESCED`` ones of the same station and connector
    dropped (the newest keeps its place)."""
    newest: dict[tuple[str, str, Any], int] = {}
    for index, event in enumerate(events):
        if event.kind in COALESCED:
            newest[(event.kind, event.charge_box_id, event.data.get("connectorId"))] = index
    keep = set(newest.values())
    return [e for i, e in enumerate(events) if e.kind not in COALESCED or i in keep]


def _compact(item: dict[str, Any]) -> str:
    text = json.dumps(item, separators=(",", ":"), default=str)
    if len(text) > MAX_PAYLOAD // 2:  # an event with a huge body: its kind and station only
        item = {**item, "d": {"truncated": True}}
        text = json.dumps(item, separators=(",", ":"), default=str)
    return text


def pack_events(
    node_id: str,
    events: Iterable[LiveEvent],
    snapshot_of: Callable[[str], StationSnapshot | None] | None,
    *,
    extra_snapshots: Iterable[StationSnapshot] = (),
) -> list[str]:
    """NOTIFY payloads (each under MAX_PAYLOAD bytes): ``{"n": node, "e": [events],
    "s": {station: snapshot}}``."""
    payloads: list[str] = []
    head = '{"n":' + json.dumps(node_id) + ',"e":['
    parts_e: list[str] = []
    parts_s: list[str] = []
    size = len(head) + 10
    snapshots_in: set[str] = set()

    def flush() -> None:
        nonlocal parts_e, parts_s, size, snapshots_in
        if parts_e or parts_s:
            payloads.append(head + ",".join(parts_e) + '],"s":{' + ",".join(parts_s) + "}}")
        parts_e, parts_s, size, snapshots_in = [], [], len(head) + 10, set()

    def add_snapshot(snapshot: StationSnapshot) -> None:
        nonlocal size
        text = json.dumps(snapshot.charge_box_id) + ":" + _compact(encode_snapshot(snapshot))
        if size + len(text) + 1 > MAX_PAYLOAD:
            flush()
        parts_s.append(text)
        snapshots_in.add(snapshot.charge_box_id)
        size += len(text) + 1

    for event in events:
        text = _compact(encode_event(event))
        snapshot = None
        if snapshot_of is not None and event.kind in STATE_KINDS:
            snapshot = snapshot_of(event.charge_box_id)
        if size + len(text) + 1 > MAX_PAYLOAD:
            flush()
        if snapshot is not None and event.charge_box_id not in snapshots_in:
            add_snapshot(snapshot)
        parts_e.append(text)
        size += len(text) + 1
    for snapshot in extra_snapshots:
        add_snapshot(snapshot)
    flush()
    return payloads


class SnapshotMirror:
    """The newest snapshot of each station heard from other nodes.

    A station that moved from node A to node B: A's late "offline" snapshot must not
    replace B's online one (events of two nodes arrive in any order).
    """

    def __init__(self) -> None:
        self.snapshots: dict[str, StationSnapshot] = {}
        self.origins: dict[str, str] = {}

    def get(self, charge_box_id: str) -> StationSnapshot | None:
        return self.snapshots.get(charge_box_id)

    def put(self, snapshot: StationSnapshot, origin: str) -> bool:
        """Keep ``snapshot`` unless it is an offline one of a node that no longer holds
        the station; whether it was kept."""
        cbid = snapshot.charge_box_id
        current = self.snapshots.get(cbid)
        if (
            not snapshot.online
            and current is not None
            and current.online
            and self.origins.get(cbid) != origin
        ):
            return False
        self.snapshots[cbid] = snapshot
        self.origins[cbid] = origin
        return True


class ClusterEventBus(EventBus):
    """The in-process bus, also forwarding what is published here to the other nodes."""

    def __init__(
        self,
        node_id: str,
        *,
        forward: bool = True,
        window: float = 0.05,
        max_queued: int = 50_000,
    ) -> None:
        super().__init__()
        self.node_id = node_id
        self.forward = forward
        self.window = window
        self.max_queued = max_queued
        self.mirror = SnapshotMirror()
        self.on_remote: Callable[[LiveEvent, StationSnapshot | None, str], None] | None = None
        self._queued: list[LiveEvent] = []
        self._wake = trio.Event()
        self.sent_payloads = 0
        self.forwarded = 0
        self.not_forwarded = 0
        self.received = 0

    def publish(self, event: LiveEvent) -> None:
        super().publish(event)
        if self.forward:
            if len(self._queued) >= self.max_queued:
                self.not_forwarded += 1
                return
            self._queued.append(event)
            self._wake.set()

    def inject(self, event: LiveEvent) -> None:
        """An event from another node: to local subscribers only."""
        super().publish(event)

    def receive(self, payload: str) -> None:
        """A NOTIFY payload of EVENT_CHANNEL (ours are ignored)."""
        data = json.loads(payload)
        origin = str(data.get("n"))
        if origin == self.node_id:
            return
        snapshots = {
            cbid: decode_snapshot(cbid, item) for cbid, item in (data.get("s") or {}).items()
        }
        for snapshot in snapshots.values():
            self.mirror.put(snapshot, origin)
        for item in data.get("e") or ():
            event = decode_event(item)
            self.received += 1
            if self.on_remote is not None:
                self.on_remote(event, snapshots.get(event.charge_box_id), origin)
            self.inject(event)
        if self.on_remote is not None and not data.get("e"):
            for snapshot in snapshots.values():  # a resync: snapshots without events
                self.on_remote(
                    LiveEvent("station.snapshot", snapshot.charge_box_id), snapshot, origin
                )

    async def run_forwarder(
        self,
        store: Store,
        snapshot_of: Callable[[str], StationSnapshot | None] | None,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Send what was published, every ``window`` seconds at most, until cancelled."""
        task_status.started()
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            await trio.sleep(self.window)  # let a burst gather
            batch, self._queued = self._queued, []
            if not batch:
                continue
            payloads = pack_events(self.node_id, coalesce(batch), snapshot_of)
            try:
                await store.write(notify, EVENT_CHANNEL, payloads)
            except Exception:
                log.exception("forwarding %d live events failed", len(batch))
                continue
            self.forwarded += len(batch)
            self.sent_payloads += len(payloads)

    async def send_snapshots(self, store: Store, snapshots: list[StationSnapshot]) -> None:
        """Every given snapshot to the other nodes (a resync asked by a portal)."""
        payloads = pack_events(self.node_id, (), None, extra_snapshots=snapshots)
        await store.write(notify, EVENT_CHANNEL, payloads)

    def statistics(self) -> dict[str, int]:
        return {
            **super().statistics(),
            "forwarded": self.forwarded,
            "notForwarded": self.not_forwarded,
            "payloads": self.sent_payloads,
            "received": self.received,
            "mirrored": len(self.mirror.snapshots),
        }
