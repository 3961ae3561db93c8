"""Runs the commands other processes routed to this node, each recorded exactly once.

A command row is claimed by one node (``UPDATE … FOR UPDATE SKIP LOCKED``), sent to the
station through the local gateway with the sender's deadline, and finished in the same
unit of work that records the station's answer: the row says ``done`` exactly when the
outcome is recorded. Errors go back as rows too (``failed``, the error's class and
attributes). A station no longer here fails with ``StationMovedError`` before anything
is sent, and its sender routes the command again.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import trio

from db import Store
from db.system.cluster import ClaimedCommand, claim_commands, finish_command
from gateway.cluster.codec import decode_command, encode_error, encode_result
from gateway.commands import CommandResult
from gateway.errors import StationMovedError

if TYPE_CHECKING:
    from gateway.central import Gateway

__all__ = ["CommandAbandonedError", "CommandExecutor"]

log = logging.getLogger(__name__)


class CommandAbandonedError(Exception):
    """The sender gave the command up (its node seemed dead): record nothing."""


class CommandExecutor:
    """Claims and runs this node's queued commands (woken by NOTIFY; polls as a safety)."""

    def __init__(
        self, gateway: Gateway, store: Store, node_id: str, *, poll_every: float = 5.0
    ) -> None:
        self._gateway = gateway
        self._store = store
        self._node_id = node_id
        self._poll_every = poll_every
        self._wake = trio.Event()
        self.claimed = 0
        self.done = 0
        self.failed = 0
        self.moved = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                with trio.move_on_after(self._poll_every):
                    await self._wake.wait()
                self._wake = trio.Event()
                try:
                    claimed = await self._store.write(claim_commands, self._node_id)
                except Exception:
                    log.exception("claiming commands failed")
                    continue
                self.claimed += len(claimed)
                for command in claimed:
                    nursery.start_soon(self._execute, command)

    async def _execute(self, row: ClaimedCommand) -> None:
        gateway = self._gateway
        deadline = trio.current_time() + (row.deadline - time.time())

        def finish(result: CommandResult) -> None:
            if not finish_command(row.command_id, "done", encode_result(result)):
                raise CommandAbandonedError(f"command {row.command_id} was given up")

        try:
            command = decode_command(row.body)
            if not gateway.is_online(row.charge_box_id):
                self.moved += 1
                raise StationMovedError(
                    f"{row.charge_box_id} left this node before the command was sent: "
                    "nothing was sent."
                )
            await gateway.send_and_finish(
                row.charge_box_id, command, deadline=deadline, finish=finish
            )
            self.done += 1
        except CommandAbandonedError:
            log.warning(
                "%s: command %d answered after its sender gave it up",
                row.charge_box_id,
                row.command_id,
            )
        except Exception as exc:
            self.failed += 1
            try:
                await self._store.write(finish_command, row.command_id, "failed", encode_error(exc))
            except Exception:
                log.exception("recording the failure of command %d failed", row.command_id)

    def statistics(self) -> dict[str, int]:
        return {
            "claimed": self.claimed,
            "done": self.done,
            "failed": self.failed,
            "moved": self.moved,
        }
