"""Map tile servers for tests: one that accepts and never answers (an unreachable map on an
intranet, as a firewall that drops packets), counting the requests it got."""

from __future__ import annotations

import trio


class HangingTileServer:
    """Accepts HTTP connections, reads the request, never answers."""

    def __init__(self) -> None:
        self.requests = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{z}}/{{x}}/{{y}}.png"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._hang, listeners)

    async def _hang(self, stream: trio.SocketStream) -> None:
        try:
            if await stream.receive_some(4096):
                self.requests += 1
            await trio.sleep_forever()
        except trio.BrokenResourceError:
            pass
