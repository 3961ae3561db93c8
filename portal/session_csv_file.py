"""The CSV export's file, written by two processes when it is large (issue 19).

``write_csv_file`` writes the header and the rows up to the middle row itself while a
second process (``db.sessions.session_export_split``) writes the rest to a file beside
it; that file is appended at the end. Both read keyset chunks of the driver's tuples
and build the CSV column by column (``csv_from_raw_chunks``), so the bytes are those
of one process. Below ``PARALLEL_MIN`` rows, for an in-memory database, or when the
second process cannot start, one process writes everything.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from db.engine.connection import database_proxy
from db.schema.models import utcnow
from db.sessions.session_export_rows import raw_chunks, split_cursor
from db.sessions.session_export_split import SecondHalf, database_spec, start_second_half
from db.sessions.session_filters import SessionFilter
from db.topology.scope import Node, Viewer
from portal.session_export import EXPORT_COLUMNS, csv_from_raw_chunks

__all__ = ["PARALLEL_MIN", "write_csv_file"]

#: from this many rows a second process writes half (it costs about 0.3 s to start)
PARALLEL_MIN = 100_000


def write_csv_file(
    path: Path,
    flt: SessionFilter,
    viewer: Viewer,
    node: Node,
    columns: Sequence[str] = EXPORT_COLUMNS,
    *,
    zone: str | None = None,
    total: int = 0,
    progress: Callable[[int], None] | None = None,
    parallel_min: int = PARALLEL_MIN,
    now: dt.datetime | None = None,
) -> None:
    """Write every row ``flt`` selects to ``path`` as CSV (``total``: about how many;
    ``progress(rows written)`` after each chunk, it may raise to stop). Call it where
    ``store.read`` runs a function (a worker thread with a connection)."""
    now = now or utcnow()  # one 'now' for both halves: running sessions' durations agree
    report = progress or (lambda done: None)
    flt = flt.without_cursor()
    second: SecondHalf | None = None
    until = None
    spec = database_spec(database_proxy.obj)
    if total >= parallel_min and spec is not None and len(columns) >= 2:
        until = split_cursor(flt, viewer, node, total // 2, now=now)
    try:
        if until is not None:
            part = path.with_name(path.name + ".second")
            try:
                second = start_second_half(
                    spec or {}, part, flt, viewer, node, columns, after=until, zone=zone, now=now
                )
            except OSError:  # no second process: this one writes every row
                until = None
        # alone, a reading thread overlaps SQLite's own work with ours on the other core;
        # beside a second process there is no free core, and the handoffs cost CPU
        chunks = raw_chunks(flt, viewer, node, now=now, prefetch=second is None, until=until)
        done = 0

        def counted() -> Iterator[Any]:
            nonlocal done
            for chunk in chunks:
                yield chunk
                done += len(chunk)
                report(done + (second.rows if second else 0))

        with path.open("wb") as out:
            for data in csv_from_raw_chunks(counted(), columns=columns, zone=zone):
                out.write(data)
            if second is not None:
                while not second.wait(0.5):
                    report(done + second.rows)
                second.check()
                with second.path.open("rb") as rest:
                    shutil.copyfileobj(rest, out, 1 << 20)
                done += second.rows
        report(done)
    finally:
        if second is not None:
            second.stop()
