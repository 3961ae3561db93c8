"""Storage failures: the database's fault or not, the real cause, one log line per kind."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

import peewee

__all__ = ["FailureLog", "is_storage_failure", "real_error"]

#: errors of the database itself (disk full, I/O, read-only, gone), not of one unit's input
_STORAGE_ERRORS: tuple[type[BaseException], ...] = (
    peewee.OperationalError,
    peewee.InterfaceError,
    peewee.InternalError,
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
    sqlite3.InternalError,
)
_DATABASE_ERRORS = (peewee.DatabaseError, sqlite3.Error)


def real_error(exc: BaseException) -> BaseException:
    """The error that started a failed transaction.

    When SQLite rolls a transaction back by itself (disk full, I/O error), peewee's
    clean-up then fails too ("no such savepoint", "cannot rollback - no transaction is
    active") and that is what propagates; the first error is at the bottom of the
    ``__context__`` chain. Walks it while the errors are the database's own.
    """
    found = exc
    current = exc.__context__
    while current is not None and isinstance(found, _DATABASE_ERRORS):
        if not isinstance(current, _DATABASE_ERRORS):
            break
        if isinstance(current, peewee.DatabaseError) or not isinstance(found, peewee.DatabaseError):
            found = current  # prefer peewee's class over the sqlite3 one it wraps
        elif str(current) != str(found):
            found = current
        current = current.__context__
    return found


def is_storage_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the database's fault: any other unit would have failed the same way."""
    from db.engine.writer import WriterClosedError

    return isinstance(real_error(exc), (*_STORAGE_ERRORS, WriterClosedError))


def _kind(exc: BaseException) -> str:
    first_line = str(exc).split("\n", 1)[0][:80]
    return f"{type(exc).__name__}: {first_line}"


class FailureLog:
    """Logs the first failure of each kind at once, then at most one line per ``interval``
    telling how many more came meanwhile: a full disk costs a line a minute, not a
    traceback per write. Thread-safe (the writer thread and the event loop both report).
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = 60.0,
        level: int = logging.ERROR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._level = level
        self._clock = clock
        self._lock = threading.Lock()
        self._kinds: dict[str, tuple[float, int]] = {}  # kind -> (last logged, repeats since)
        self.reported = 0

    def report(self, what: str, exc: BaseException) -> None:
        cause = real_error(exc)
        kind = _kind(cause)
        now = self._clock()
        with self._lock:
            self.reported += 1
            last, repeats = self._kinds.get(kind, (None, 0))
            if last is not None and now - last < self._interval:
                self._kinds[kind] = (last, repeats + 1)
                return
            self._kinds[kind] = (now, 0)
            if len(self._kinds) > 1000:  # kinds whose messages vary: forget the oldest
                self._kinds.pop(next(iter(self._kinds)))
        more = (
            f" ({repeats} more like it in the last {now - last:.0f} s)"
            if last is not None and repeats
            else ""
        )
        self._logger.log(self._level, "%s: %s%s", what, kind, more)
