"""Taking a backup while the server runs: SQLite's backup API in steps, or ``pg_dump``.

The file is written under a temporary name in the target folder, checked, given a
``.sha256`` beside it and only then renamed to its final name: a name that exists is a
complete backup.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import peewee

from db.backup.files import backup_name, fsync_directory, sha256_of, write_checksum

__all__ = [
    "BackupCancelledError",
    "BackupError",
    "BackupResult",
    "copy_sqlite",
    "dump_postgres",
    "postgres_environment",
    "sqlite_path",
    "take_backup",
]


class BackupError(Exception):
    """The backup could not be taken; the message says why, for a person."""


class BackupCancelledError(BackupError):
    """The server is stopping: the partial file was removed."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    sha256: str
    seconds: float


def sqlite_path(database: peewee.Database) -> Path | None:
    """The file behind a SQLite database, None for an in-memory one or another engine."""
    if not isinstance(database, peewee.SqliteDatabase):
        return None
    name = str(database.database)
    if name in {"", ":memory:"} or "mode=memory" in name:
        return None
    return Path(name)


def copy_sqlite(
    source: Path,
    target: Path,
    *,
    pages: int = 2048,
    pause: float = 0.002,
    cancelled: Callable[[], bool] = lambda: False,
) -> None:
    """Copy the live database ``source`` into the new file ``target``, a step of ``pages``
    pages at a time with a short ``pause`` between steps (other threads and the writer run).

    A read transaction is held on ``source`` for the whole copy: in WAL mode it blocks no
    writer, the copy is the database as it was when it began (everything committed
    before is in it), and the steps never restart. Without it SQLite restarts the copy
    whenever another connection commits, which under a steady stream of meter values
    never finishes (measured: a 50 MB file with 5,000 commits/s beside it).
    """
    if not source.is_file():
        raise BackupError(f"no database file {source}")
    src = sqlite3.connect(str(source), isolation_level=None, timeout=30, check_same_thread=False)
    dst = sqlite3.connect(str(target), isolation_level=None, check_same_thread=False)

    def progress(_status: int, remaining: int, _total: int) -> None:
        if cancelled():
            raise BackupCancelledError("the backup was stopped before it finished")
        if remaining and pause > 0:  # (``backup``'s own sleep is only for a busy source)
            time.sleep(pause)

    try:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # pins the snapshot
        src.backup(dst, pages=pages, progress=progress)
        src.execute("COMMIT")
        # one self-contained file: no -wal beside the copy
        dst.execute("PRAGMA journal_mode = DELETE").fetchone()
        check = dst.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"the copy fails SQLite's check: {check[0] if check else '?'}")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {source}: {exc}") from exc
    finally:
        src.close()
        dst.close()


def postgres_environment(database: peewee.Database) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump / pg_restore / psql, the password in the
    environment (never on a command line others can read)."""
    params = dict(getattr(database, "connect_params", {}) or {})
    args = ["--dbname", str(database.database)]
    if params.get("host"):
        args += ["--host", str(params["host"])]
    if params.get("port"):
        args += ["--port", str(params["port"])]
    if params.get("user"):
        args += ["--username", str(params["user"])]
    env = dict(os.environ)
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    return args, env


def dump_postgres(database: peewee.Database, target: Path) -> None:
    """``pg_dump --format=custom`` (a consistent snapshot; writers are not blocked)."""
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupError(
            "pg_dump is not on the PATH, so this server cannot back up the PostgreSQL "
            "database itself: the database server's own backup applies (pg_dump or "
            "pg_basebackup there, or the provider's snapshots). Install the PostgreSQL "
            "client tools to let Charge Portal take its daily backup."
        )
    args, env = postgres_environment(database)
    done = subprocess.run(
        [program, "--format=custom", "--no-owner", "--file", str(target), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip() or done.returncode}")


def take_backup(
    database: peewee.Database,
    *,
    folder: Path | None = None,
    to: Path | None = None,
    now: dt.datetime | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    pages: int = 2048,
    pause: float = 0.002,
) -> BackupResult:
    """Back ``database`` up into ``folder`` (a UTC-stamped name) or exactly ``to``.

    Blocking: run it in a worker thread. Raises ``BackupError`` with a readable reason.
    """
    started = time.perf_counter()
    when = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    source = sqlite_path(database)
    is_postgres = isinstance(database, peewee.PostgresqlDatabase)
    if source is None and not is_postgres:
        raise BackupError("an in-memory database has nothing on disk to back up")
    if to is None:
        if folder is None:
            raise BackupError("no backup folder configured")
        to = folder / backup_name(when, "pgdump" if is_postgres else "sqlite3")
    to = to.resolve()
    if source is not None and to == source.resolve():
        raise BackupError("the backup cannot overwrite the database itself")
    try:
        to.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create the backup folder {to.parent}: {exc}") from exc
    partial = to.with_name(f".{to.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if source is not None:
            copy_sqlite(source, partial, pages=pages, pause=pause, cancelled=cancelled)
        else:
            dump_postgres(database, partial)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        digest = sha256_of(partial)
        size = partial.stat().st_size
        write_checksum(to, digest)
        os.replace(partial, to)  # the final name appears only now, complete
        fsync_directory(to.parent)
    except OSError as exc:
        raise BackupError(f"cannot write the backup {to}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(to, size, digest, time.perf_counter() - started)
