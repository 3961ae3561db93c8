"""Several cluster nodes in one test process, on one PostgreSQL database (one Store)."""

from __future__ import annotations

from dataclasses import dataclass, field

import trio

from db import Store
from gateway import Gateway, GatewayConfig
from gateway.cluster.events import ClusterEventBus
from gateway.cluster.node import ClusterConfig, ClusterNode
from gateway.cluster.remote import ClusterGateway

NODE_CONFIG = GatewayConfig(
    import_configuration=False,
    check_own_replies=True,
    command_timeout=5.0,
    supervisor_interval=3600,
)


@dataclass
class Node:
    """A running node: its gateway (None: a portal), cluster duties and GatewayAPI."""

    name: str
    gateway: Gateway | None
    cluster: ClusterNode
    api: ClusterGateway
    port: int | None
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)

    def stop(self, *, crash: bool = True) -> None:
        """As if the process died (its tasks end, its connections close, its rows wait for
        its lease to expire) or, ``crash=False``, stopped cleanly (its rows released)."""
        self.cluster.release_on_stop = not crash
        self.scope.cancel()


async def start_node(
    nursery: trio.Nursery,
    store: Store,
    name: str,
    *,
    gateway: bool = True,
    lease: float = 2.0,
    config: GatewayConfig = NODE_CONFIG,
) -> Node:
    role = "gateway" if gateway else "portal"

    async def run(task_status: trio.TaskStatus[Node]) -> None:
        events = ClusterEventBus(name, window=0.02)
        local = Gateway(store, config=config, events=events) if gateway else None
        cluster = ClusterNode(
            store,
            ClusterConfig(
                name,
                role,
                lease=lease,
                renew_every=lease / 4,
                sweep_every=lease / 4,
                presence_refresh=0.2,
                answer_grace=1.0,
                leader_every=lease / 4,
            ),
            gateway=local,
            events=events,
        )
        if local is not None:
            local.supervisor.cluster = cluster
        node = Node(name, local, cluster, ClusterGateway(store, cluster, local), None)
        with node.scope:
            async with trio.open_nursery() as inner:
                await inner.start(cluster.run)
                if local is not None:
                    node.port = await inner.start(local.serve, "127.0.0.1", 0)
                task_status.started(node)

    node: Node = await nursery.start(run)
    return node


async def wait_until(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``check`` (state that changes when a NOTIFY or a table read arrives)."""
    with trio.fail_after(timeout):
        while True:
            if check():
                return
            await trio.sleep(0.02)
