"""A second process for a large CSV export: it writes the rows after a keyset cursor.

Python runs one thread at a time, and reading and formatting rows is Python work, so
a CSV export of many rows uses one core. ``start_second_half`` starts
``python -m db.sessions.session_export_split`` on its own connection to the same
database; it writes the CSV lines (no header) of the rows after ``split_cursor``'s
cursor to a file and reports its progress on stdout, one row count a line, while the
caller writes the rows up to that cursor. Only this module and the rows' modules are
imported there (not the portal), so it starts in a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import peewee

from db.engine.connection import database_proxy, make_database
from db.sessions.session_export_csv import csv_lines
from db.sessions.session_export_rows import raw_chunks
from db.sessions.session_filters import SessionFilter
from db.topology.scope import Node, Viewer

__all__ = ["SecondHalf", "database_spec", "start_second_half"]

_ROOT = Path(__file__).resolve().parents[2]


def database_spec(database: peewee.Database) -> dict[str, Any] | None:
    """How another process opens ``database`` (None: it cannot, an in-memory SQLite)."""
    if isinstance(database, peewee.SqliteDatabase):
        path = str(database.database)
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        return {"sqlite": str(Path(path).resolve())}
    if isinstance(database, peewee.PostgresqlDatabase):
        return {"postgres": database.database, "params": dict(database.connect_params)}
    return None


def _open(spec: dict[str, Any]) -> peewee.Database:
    if "sqlite" in spec:
        database = make_database(f"sqlite:///{spec['sqlite']}")
    else:
        database = peewee.PostgresqlDatabase(spec["postgres"], **spec["params"])
    database_proxy.initialize(database)
    database.connect()
    return database


@dataclass
class SecondHalf:
    """The running process, its output file and how many rows it has written so far."""

    process: subprocess.Popen[bytes]
    path: Path
    rows: int = 0
    _reader: threading.Thread | None = field(default=None, repr=False)

    def wait(self, timeout: float | None = None) -> bool:
        """True once the process has ended and every progress line was read."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        if self._reader is not None:
            self._reader.join()
        return True

    def check(self) -> None:
        """Raise when the process failed (its last line of stderr says why)."""
        if self.process.returncode:
            assert self.process.stderr is not None
            lines = self.process.stderr.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"CSV export's second process failed: {lines[-1:]}")

    def stop(self) -> None:
        """End the process if it still runs, and remove its file."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self._reader is not None:
            self._reader.join()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.path.unlink(missing_ok=True)


def start_second_half(
    spec: dict[str, Any],
    path: Path,
    flt: SessionFilter,
    viewer: Viewer,
    node: Node,
    columns: Sequence[str],
    *,
    after: tuple[Any, int],
    zone: str | None,
    now: dt.datetime,
) -> SecondHalf:
    """Start the process that writes the CSV lines of the rows after ``after`` to ``path``."""
    job = {
        "spec": spec,
        "path": str(path),
        "flt": replace(flt, after=after),
        "viewer": viewer,
        "node": node,
        "columns": list(columns),
        "zone": zone,
        "now": now,
    }
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "db.sessions.session_export_split"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=_ROOT,
        env=env,
    )
    assert process.stdin is not None
    process.stdin.write(pickle.dumps(job))
    process.stdin.close()
    half = SecondHalf(process, path)

    def read_progress(stdout: IO[bytes]) -> None:
        for line in stdout:
            if line.strip().isdigit():
                half.rows = int(line)

    assert process.stdout is not None
    half._reader = threading.Thread(
        target=read_progress, args=(process.stdout,), name="export-second-half", daemon=True
    )
    half._reader.start()
    return half


def _main() -> None:
    job = pickle.loads(sys.stdin.buffer.read())  # from start_second_half, our own parent
    database = _open(job["spec"])
    done = 0
    # no reading thread: the export's own process has the other core
    chunks = raw_chunks(job["flt"], job["viewer"], job["node"], now=job["now"])

    def counted() -> Any:
        nonlocal done
        for chunk in chunks:
            done += len(chunk)
            yield chunk

    with Path(job["path"]).open("wb") as out:
        for text in csv_lines(counted(), job["columns"], job["zone"]):
            out.write(text.encode())
            print(done, flush=True)  # rows written so far
    print(done, flush=True)
    database.close()


if __name__ == "__main__":
    _main()
