"""What every ``chargeportal`` command shares: one-line errors, the database, one
transaction per command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import peewee

from db.engine.connection import DatabaseURLError, open_database
from db.errors import DomainError
from db.schema.migrate import migrate

__all__ = ["PROG", "fail", "in_transaction", "open_migrated"]

PROG = "chargeportal"


def fail(message: str) -> NoReturn:
    """One line on stderr, exit status 2 (bad arguments or input)."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def open_migrated(args: argparse.Namespace) -> peewee.Database:
    try:
        database = open_database(args.db)
    except DatabaseURLError as exc:
        fail(str(exc))
    try:
        migrate(database)
    except peewee.OperationalError as exc:
        fail(f"cannot open database {args.db}: {exc}")
    return database


def in_transaction(args: argparse.Namespace, work: Callable[[], Any]) -> Any:
    """Run ``work`` in one transaction: when the domain refuses it, nothing is written."""
    database = open_migrated(args)
    try:
        with database.atomic():
            return work()
    except DomainError as exc:
        fail(exc.message)
    finally:
        database.close()
