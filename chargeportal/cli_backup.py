"""``chargeportal backup`` and ``chargeportal restore``: the operator's side of db.backup."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import peewee

from chargeportal.cli_common import fail
from db.backup.files import prune
from db.backup.inuse import DatabaseInUseError
from db.backup.records import claim_run, finish_run
from db.backup.restore import RestoreError, restore_backup
from db.backup.take import BackupError, take_backup
from db.engine.connection import DatabaseURLError, make_database
from db.engine.connection import database_proxy as _proxy

__all__ = ["add_backup_commands", "default_backup_dir"]


def default_backup_dir(url: str) -> str:
    """``$CHARGEPORTAL_BACKUP_DIR``, else ``backups/`` beside a SQLite file, else
    ``var/backups``."""
    configured = os.environ.get("CHARGEPORTAL_BACKUP_DIR")
    if configured is not None:
        return configured
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return str(Path(url[len("sqlite:///") :]).parent / "backups")
    return "var/backups"


def _database(url: str) -> peewee.Database:
    try:
        return make_database(url)
    except DatabaseURLError as exc:
        fail(str(exc))


def _recorded(database: peewee.Database) -> bool:
    """Runs are recorded when the database has the table (an older one is left as it is:
    a backup before an upgrade must not upgrade it)."""
    return bool(database.table_exists("backup_run"))


def cmd_backup(args: argparse.Namespace) -> None:
    database = _database(args.db)
    _proxy.initialize(database)
    database.connect()
    record = _recorded(database)
    run_id = None
    if record:
        with database.atomic():
            run_id = claim_run("manual")
    to = Path(args.to) if args.to else None
    folder = Path(args.dir if args.dir is not None else default_backup_dir(args.db))
    try:
        result = take_backup(database, folder=folder, to=to)
    except BackupError as exc:
        if run_id is not None:
            with database.atomic():
                finish_run(run_id, ok=False, message=str(exc))
        database.close()
        print(f"chargeportal: error: backup failed: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if run_id is not None:
        with database.atomic():
            finish_run(
                run_id,
                ok=True,
                path=str(result.path),
                size_bytes=result.size_bytes,
                sha256=result.sha256,
                message=f"{result.seconds:.1f} s",
            )
    database.close()
    print(f"backup {result.path} ({result.size_bytes} bytes, {result.seconds:.1f} s)")
    print(f"  sha256 {result.sha256} (in {result.path.name}.sha256)")
    if to is None and (args.keep_daily is not None or args.keep_weekly is not None):
        for path in prune(folder, daily=args.keep_daily or 0, weekly=args.keep_weekly or 0):
            print(f"  removed {path} (retention)")


def cmd_restore(args: argparse.Namespace) -> None:
    database = _database(args.db)
    try:
        result = restore_backup(database, Path(args.file))
    except DatabaseInUseError as exc:
        print(f"chargeportal: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except RestoreError as exc:
        fail(str(exc))
    print(f"restored {args.file} into {args.db}")
    line: Any = f"  schema version {result.backup_version}"
    if result.version != result.backup_version:
        line += f", migrated forward to {result.version}"
    print(line)
    if result.kept is not None:
        print(f"  the database it replaced is kept in {result.kept}")


def add_backup_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    backup = sub.add_parser(
        "backup", parents=[common], help="back the database up now (also while serving)"
    )
    backup.add_argument("--to", metavar="FILE", help="exactly this file (default: --dir)")
    backup.add_argument(
        "--dir",
        metavar="DIR",
        help="folder of UTC-stamped backups (default: $CHARGEPORTAL_BACKUP_DIR, else "
        "backups/ beside a SQLite file, else var/backups)",
    )
    backup.add_argument("--keep-daily", type=int, metavar="N", help="then keep N daily backups")
    backup.add_argument("--keep-weekly", type=int, metavar="M", help="and M weekly ones")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser(
        "restore",
        parents=[common],
        help="replace the database by a backup (no server may be running)",
    )
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(func=cmd_restore)
