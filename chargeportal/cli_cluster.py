"""``chargeportal cluster status``: the nodes of a scaled-out system, as PostgreSQL sees them."""

from __future__ import annotations

import argparse

from chargeportal.cli_common import open_migrated
from db.engine.connection import is_sqlite
from db.system.cluster import cluster_status

__all__ = ["add_cluster_commands", "cmd_cluster_status"]

LEASE = 15.0  # gateway.cluster.node.ClusterConfig.lease


def cmd_cluster_status(args: argparse.Namespace) -> None:
    database = open_migrated(args)
    try:
        if is_sqlite(database):
            print("one process (SQLite): no cluster")
            return
        nodes, commands, oldest = cluster_status(args.since * 60)
    finally:
        database.close()
    print(f"{len(nodes)} node(s)")
    for node in nodes:
        flags = []
        if node.leader:
            flags.append("leader")
        if node.renewed_ago > LEASE:
            flags.append("LEASE EXPIRED")
        print(
            f"  {node.node_id}  {node.role:<7} {node.host} pid {node.pid}  "
            f"renewed {node.renewed_ago:.1f} s ago  {node.stations} station(s)"
            + (f"  [{', '.join(flags)}]" if flags else "")
        )
    if not any(node.leader for node in nodes) and any(n.role != "portal" for n in nodes):
        print("  no leader (a node with a gateway takes the lock within 5 s)")
    counts = ", ".join(f"{state} {count}" for state, count in sorted(commands.items()))
    print(f"commands in the last {args.since:g} min: {counts or 'none'}")
    if oldest:
        print(f"oldest queued command: {oldest:.1f} s")


def add_cluster_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """The ``cluster`` command group under the main parser."""
    cluster = sub.add_parser("cluster", help="nodes of a scaled-out system").add_subparsers(
        dest="cluster_command", required=True, metavar="ACTION"
    )
    status = cluster.add_parser(
        "status", parents=[common], help="nodes, leases, stations per node, leader, commands"
    )
    status.add_argument("--since", type=float, default=60.0, metavar="MINUTES")
    status.set_defaults(func=cmd_cluster_status)
