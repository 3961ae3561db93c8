"""Cluster rows on PostgreSQL: nodes and their leases, station presence, routed commands.

Synchronous functions run inside one unit of work (``Store.write``/``read``). Times come
from the database's clock (``timezone('utc', now())``), so nodes on several machines
compare leases on one clock. ``pg_notify`` inside a unit is delivered at its commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from db.engine.connection import database_proxy

__all__ = [
    "ClaimedCommand",
    "NodeIdInUseError",
    "Routed",
    "claim_commands",
    "cluster_status",
    "command_state",
    "expire_command",
    "finish_command",
    "leave_cluster",
    "lose_command",
    "node_alive",
    "notify",
    "present_stations",
    "register_node",
    "release_stations",
    "renew_node",
    "route_command",
    "station_connected",
    "sweep",
]

NOW = "timezone('utc', now())"

#: NOTIFY channels: a command for a node (payload: node id), an answer (payload: command
#: id, with its state and result when short), a takeover (JSON: node, station, when),
#: live events (JSON), a resync request.
COMMAND_CHANNEL = "chargeportal_command"
ANSWER_CHANNEL = "chargeportal_answer"
TAKEOVER_CHANNEL = "chargeportal_takeover"
EVENT_CHANNEL = "chargeportal_events"
RESYNC_CHANNEL = "chargeportal_resync"
#: the advisory lock of the cluster's leader ("CPLEAD"; gateway.cluster.leader)
LEADER_LOCK = 0x43_50_4C_45_41_44
#: an answer's NOTIFY carries its state and result when they fit ("id state result")
MAX_ANSWER = 7_500


def _sql(sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
    return database_proxy.execute_sql(sql, params)


def notify(channel: str, payloads: list[str]) -> None:
    """Send each payload on ``channel`` (delivered when the unit commits)."""
    for payload in payloads:
        _sql("SELECT pg_notify(%s, %s)", (channel, payload))


class NodeIdInUseError(RuntimeError):
    """Another process holds this node id with a current lease."""

    def __init__(self, message: str, host: str, pid: int) -> None:
        super().__init__(message)
        self.host, self.pid = host, pid


def register_node(
    node_id: str, role: str, host: str, pid: int, lease: float = 15.0, *, force: bool = False
) -> None:
    """This process is node ``node_id`` (its lease starts now). Refused while another
    process holds that id with a current lease (two processes must never share one),
    unless ``force`` (the caller knows that process is gone: same host, pid not running)."""
    row = _sql(
        'SELECT "host", "pid" FROM "cluster_node" WHERE "node_id" = %s '
        f'AND "renewed_at" > {NOW} - make_interval(secs => %s) FOR UPDATE',
        (node_id, lease),
    ).fetchone()
    if not force and row is not None and (row[0], int(row[1])) != (host, pid):
        raise NodeIdInUseError(
            f"node id {node_id!r} is in use by pid {row[1]} on {row[0]} (its lease is "
            f"current): give each process its own --node-id, or wait {lease:g} s after it "
            "stopped",
            row[0],
            int(row[1]),
        )
    _sql(
        'INSERT INTO "cluster_node" ("node_id", "role", "host", "pid", "started_at", '
        f'"renewed_at") VALUES (%s, %s, %s, %s, {NOW}, {NOW}) '
        'ON CONFLICT ("node_id") DO UPDATE SET "role" = EXCLUDED."role", '
        '"host" = EXCLUDED."host", "pid" = EXCLUDED."pid", '
        '"started_at" = EXCLUDED."started_at", "renewed_at" = EXCLUDED."renewed_at"',
        (node_id, role, host, pid),
    )


def renew_node(node_id: str, online: list[str]) -> tuple[int, int]:
    """Renew the node's lease and its stations' leases; make the presence rows of this
    node match ``online`` (rows of stations gone are released, missing ones added unless
    another node holds the station). Returns (released, added)."""
    _sql(f'UPDATE "cluster_node" SET "renewed_at" = {NOW} WHERE "node_id" = %s', (node_id,))
    _sql(f'UPDATE "station_presence" SET "renewed_at" = {NOW} WHERE "node_id" = %s', (node_id,))
    cursor = _sql(
        'DELETE FROM "station_presence" WHERE "node_id" = %s AND NOT ("charge_box_id" = ANY(%s))',
        (node_id, online),
    )
    released = cursor.rowcount
    cursor = _sql(
        'INSERT INTO "station_presence" ("charge_box_id", "node_id", "connected_at", '
        f'"renewed_at") SELECT cbid, %s, {NOW}, {NOW} FROM unnest(%s::text[]) AS cbid '
        'ON CONFLICT ("charge_box_id") DO NOTHING',
        (node_id, online),
    )
    return released, cursor.rowcount


def station_connected(node_id: str, items: list[tuple[str, float]]) -> list[str]:
    """This node now holds these stations (charge box id, connected at as unix time).
    Another node that held one is told to close its socket (TAKEOVER_CHANNEL). Returns
    the stations taken over from another node. Two statements for any number."""
    if not items:
        return []
    since = dict(items)
    ids = list(since)
    previous = _sql(
        'SELECT "charge_box_id", "node_id" FROM "station_presence" '
        'WHERE "charge_box_id" = ANY(%s) AND "node_id" <> %s FOR UPDATE',
        (ids, node_id),
    ).fetchall()
    _sql(
        'INSERT INTO "station_presence" ("charge_box_id", "node_id", "connected_at", '
        f'"renewed_at") SELECT cbid, %s, {NOW}, {NOW} FROM unnest(%s::text[]) AS cbid '
        'ON CONFLICT ("charge_box_id") DO UPDATE SET "node_id" = EXCLUDED."node_id", '
        '"connected_at" = EXCLUDED."connected_at", "renewed_at" = EXCLUDED."renewed_at"',
        (node_id, ids),
    )
    notify(
        TAKEOVER_CHANNEL,
        [
            json.dumps({"node": old, "station": cbid, "since": since[cbid], "by": node_id})
            for cbid, old in previous
        ],
    )
    return [cbid for cbid, _ in previous]


def release_stations(node_id: str, charge_box_ids: list[str]) -> int:
    """These stations left this node (rows another node took over stay)."""
    cursor = _sql(
        'DELETE FROM "station_presence" WHERE "node_id" = %s AND "charge_box_id" = ANY(%s)',
        (node_id, charge_box_ids),
    )
    return int(cursor.rowcount)


def present_stations(lease: float) -> dict[str, str]:
    """Every station held by a node whose lease is current: charge box id → node id."""
    rows = _sql(
        'SELECT p."charge_box_id", p."node_id" FROM "station_presence" p '
        'JOIN "cluster_node" n ON n."node_id" = p."node_id" '
        f'WHERE n."renewed_at" > {NOW} - make_interval(secs => %s)',
        (lease,),
    ).fetchall()
    return {cbid: node for cbid, node in rows}


def node_alive(node_id: str, lease: float) -> bool:
    row = _sql(
        'SELECT 1 FROM "cluster_node" WHERE "node_id" = %s '
        f'AND "renewed_at" > {NOW} - make_interval(secs => %s)',
        (node_id, lease),
    ).fetchone()
    return row is not None


def sweep(lease: float, keep_days: float = 1.0) -> dict[str, int]:
    """Release what dead nodes held: their nodes and presence rows go, their queued
    commands fail (nothing was sent), their claimed ones are lost (the station may have
    received them; nobody will know). Old finished command rows are deleted."""
    dead = _sql(
        'DELETE FROM "cluster_node" '
        f'WHERE "renewed_at" <= {NOW} - make_interval(secs => %s) RETURNING "node_id"',
        (lease,),
    ).fetchall()
    counts = {"deadNodes": len(dead), **_release_orphans()}
    counts["deletedCommands"] = int(
        _sql(
            'DELETE FROM "cluster_command" WHERE "finished_at" IS NOT NULL '
            f'AND "finished_at" < {NOW} - make_interval(days => %s)',
            (int(keep_days),),
        ).rowcount
    )
    return counts


def leave_cluster(node_id: str) -> dict[str, int]:
    """A node stopping cleanly: its row, its stations' rows and its commands are released
    now rather than when its lease expires."""
    _sql('DELETE FROM "cluster_node" WHERE "node_id" = %s', (node_id,))
    return _release_orphans()


def _release_orphans() -> dict[str, int]:
    """Presence rows and unfinished commands of nodes that are no more."""
    presence = _sql(
        'DELETE FROM "station_presence" p WHERE NOT EXISTS (SELECT 1 FROM "cluster_node" n '
        'WHERE n."node_id" = p."node_id")'
    ).rowcount
    gone = json.dumps(
        {
            "type": "StationOfflineError",
            "module": "gateway.errors",
            "message": "the node holding the station stopped before the command was sent: "
            "nothing was sent.",
        }
    )
    failed = _sql(
        'UPDATE "cluster_command" c SET "state" = \'failed\', "result" = %s, '
        f'"finished_at" = {NOW} '
        'WHERE "state" = \'queued\' AND NOT EXISTS (SELECT 1 FROM "cluster_node" n '
        'WHERE n."node_id" = c."node_id") RETURNING "id"',
        (gone,),
    ).fetchall()
    lost = _sql(
        f'UPDATE "cluster_command" c SET "state" = \'lost\', "finished_at" = {NOW} '
        'WHERE "state" = \'claimed\' AND NOT EXISTS (SELECT 1 FROM "cluster_node" n '
        'WHERE n."node_id" = c."node_id") RETURNING "id"'
    ).fetchall()
    notify(ANSWER_CHANNEL, [str(row[0]) for row in (*failed, *lost)])
    return {
        "releasedStations": int(presence),
        "failedCommands": len(failed),
        "lostCommands": len(lost),
    }


@dataclass(frozen=True)
class Routed:
    """Where a command went: its row and the node holding the station (None: nobody)."""

    command_id: int | None
    node_id: str | None
    station_known: bool


def route_command(
    charge_box_id: str, action: str, body: str, deadline: float, lease: float
) -> Routed:
    """Queue a command for the node holding the station, and wake that node."""
    row = _sql(
        'SELECT p."node_id" FROM "station_presence" p JOIN "cluster_node" n '
        'ON n."node_id" = p."node_id" WHERE p."charge_box_id" = %s '
        f'AND n."renewed_at" > {NOW} - make_interval(secs => %s)',
        (charge_box_id, lease),
    ).fetchone()
    if row is None:
        known = _sql(
            'SELECT 1 FROM "station" WHERE "charge_box_id" = %s', (charge_box_id,)
        ).fetchone()
        return Routed(None, None, known is not None)
    node_id = row[0]
    command_id = _sql(
        'INSERT INTO "cluster_command" ("charge_box_id", "node_id", "action", "body", '
        f'"deadline", "state", "created_at") VALUES (%s, %s, %s, %s, %s, \'queued\', {NOW}) '
        'RETURNING "id"',
        (charge_box_id, node_id, action, body, deadline),
    ).fetchone()[0]
    notify(COMMAND_CHANNEL, [node_id])
    return Routed(int(command_id), node_id, True)


@dataclass(frozen=True)
class ClaimedCommand:
    command_id: int
    charge_box_id: str
    action: str
    body: str
    deadline: float


def claim_commands(node_id: str) -> list[ClaimedCommand]:
    """Every queued command for this node, now claimed by it (each exactly once)."""
    rows = _sql(
        f'UPDATE "cluster_command" SET "state" = \'claimed\', "claimed_at" = {NOW} '
        'WHERE "id" IN (SELECT "id" FROM "cluster_command" WHERE "node_id" = %s '
        'AND "state" = \'queued\' ORDER BY "id" FOR UPDATE SKIP LOCKED) '
        'RETURNING "id", "charge_box_id", "action", "body", "deadline"',
        (node_id,),
    ).fetchall()
    return [ClaimedCommand(int(r[0]), r[1], r[2], r[3], float(r[4])) for r in sorted(rows)]


def finish_command(command_id: int, state: str, result: str) -> bool:
    """Record a claimed command's end (``done`` or ``failed``) and wake its sender. False
    when it is no longer claimed (its sender gave it up as lost)."""
    cursor = _sql(
        f'UPDATE "cluster_command" SET "state" = %s, "result" = %s, "finished_at" = {NOW} '
        'WHERE "id" = %s AND "state" = \'claimed\'',
        (state, result, command_id),
    )
    carried = f"{command_id} {state} {result}"  # the sender need not read the row back
    fits = len(carried.encode()) < MAX_ANSWER
    notify(ANSWER_CHANNEL, [carried if fits and cursor.rowcount else str(command_id)])
    return bool(cursor.rowcount)


def expire_command(command_id: int) -> bool:
    """Give up a command no node has claimed yet (it will never be sent)."""
    cursor = _sql(
        f'UPDATE "cluster_command" SET "state" = \'expired\', "finished_at" = {NOW} '
        'WHERE "id" = %s AND "state" = \'queued\'',
        (command_id,),
    )
    return bool(cursor.rowcount)


def lose_command(command_id: int) -> bool:
    """Give up a claimed command whose node died (it may have reached the station)."""
    cursor = _sql(
        f'UPDATE "cluster_command" SET "state" = \'lost\', "finished_at" = {NOW} '
        'WHERE "id" = %s AND "state" = \'claimed\'',
        (command_id,),
    )
    return bool(cursor.rowcount)


def command_state(command_id: int) -> tuple[str, str | None, str]:
    """(state, result, node id) of a command row."""
    row = _sql(
        'SELECT "state", "result", "node_id" FROM "cluster_command" WHERE "id" = %s',
        (command_id,),
    ).fetchone()
    return str(row[0]), row[1], str(row[2])


@dataclass(frozen=True)
class NodeStatus:
    node_id: str
    role: str
    host: str
    pid: int
    renewed_ago: float  # seconds, on the database's clock
    stations: int
    leader: bool


def cluster_status(since_seconds: float = 3600) -> tuple[list[NodeStatus], dict[str, int], float]:
    """Every node (its stations, whether it leads), the commands of the last
    ``since_seconds`` per state, and the age of the oldest queued command (seconds)."""
    leaders = {
        str(name).removeprefix("cp-leader ")
        for (name,) in _sql(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (LEADER_LOCK >> 32, LEADER_LOCK & 0xFFFFFFFF),
        ).fetchall()
    }
    nodes = [
        NodeStatus(node_id, role, host, int(pid), float(ago), int(stations), node_id in leaders)
        for node_id, role, host, pid, ago, stations in _sql(
            'SELECT n."node_id", n."role", n."host", n."pid", '
            f'EXTRACT(EPOCH FROM ({NOW} - n."renewed_at")), '
            '(SELECT count(*) FROM "station_presence" p WHERE p."node_id" = n."node_id") '
            'FROM "cluster_node" n ORDER BY n."node_id"'
        ).fetchall()
    ]
    states = dict(
        _sql(
            'SELECT "state", count(*) FROM "cluster_command" '
            f'WHERE "created_at" > {NOW} - make_interval(secs => %s) GROUP BY "state"',
            (since_seconds,),
        ).fetchall()
    )
    oldest = _sql(
        f'SELECT EXTRACT(EPOCH FROM ({NOW} - min("created_at"))) FROM "cluster_command" '
        "WHERE \"state\" = 'queued'"
    ).fetchone()[0]
    return nodes, {k: int(v) for k, v in states.items()}, float(oldest or 0.0)
