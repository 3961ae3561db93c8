"""Wake one Trio task from another thread through an eventfd, one scheduling round sooner.

``TrioToken.run_sync_soon`` runs its callback in Trio's entry-queue task: the loop's I/O
poll wakes that task, it runs in the next round and sets the waiter's event, and the
waiter runs in the round after. When the event loop is busy a round takes tens of
milliseconds. A task waiting in ``wait_readable`` on an eventfd is woken by the poll
itself and runs in the next round. Linux only (``os.eventfd``); elsewhere ``create``
returns None and the caller keeps its event.
"""

from __future__ import annotations

import os
import threading

import trio

__all__ = ["FdWaker"]


class FdWaker:
    """One wake-up: ``fire()`` from any thread, ``await wait()`` in the Trio task.

    The descriptor is closed by whichever side is last: the task after it was woken, or
    ``fire`` when the task stopped waiting (cancelled) before it came, so a descriptor
    number is never written to after it was closed (and perhaps reused).
    """

    __slots__ = ("_abandoned", "_fd", "_fired", "_lock")

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._fired = False
        self._abandoned = False

    @classmethod
    def create(cls) -> FdWaker | None:
        make = getattr(os, "eventfd", None)
        if make is None:
            return None
        try:
            return cls(make(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC))
        except OSError:  # out of descriptors: the caller waits the usual way
            return None

    def fire(self) -> None:
        with self._lock:
            if self._abandoned:
                os.close(self._fd)
                return
            os.eventfd_write(self._fd, 1)
            self._fired = True

    async def wait(self) -> None:
        try:
            await trio.lowlevel.wait_readable(self._fd)
        except BaseException:
            with self._lock:
                if not self._fired:
                    self._abandoned = True  # fire() closes it
                    raise
            os.close(self._fd)
            raise
        os.close(self._fd)
