"""SQL expressions that SQLite and PostgreSQL spell differently (dates, durations, min/max)."""

from __future__ import annotations

import sqlite3

import peewee
from peewee import SQL, NodeList, fn

from db.engine.connection import is_sqlite

Expr = peewee.ColumnBase

__all__ = [
    "SORT_KEYS",
    "Dialect",
    "dialect_for",
    "sort_key_sql",
]

#: Sort keys of the sessions table that are computed, written with literals only so that
#: an expression index (migration m0003) matches them. A running session (no end yet)
#: sorts as the largest value: after every finished one ascending, first descending.
SORT_KEYS: dict[str, dict[str, str]] = {
    "duration": {
        "sqlite": 'COALESCE((julianday("end_time") - julianday("start_time")) * 86400.0, 1e12)',
        "postgres": 'COALESCE(EXTRACT(EPOCH FROM ("end_time" - "start_time")), 1e12)',
    },
    "energy": {
        "sqlite": 'CASE WHEN "end_time" IS NULL THEN 1e15 ELSE "energy_wh" END',
        "postgres": 'CASE WHEN "end_time" IS NULL THEN 1e15 ELSE "energy_wh" END',
    },
    "meter": {
        engine: 'CASE WHEN "end_time" IS NULL THEN 1e15 '
        'ELSE COALESCE("meter_stop", "meter_start") END'
        for engine in ("sqlite", "postgres")
    },
}


def sort_key_sql(key: str, database: peewee.Database) -> str:
    """The SQL text of a computed sort key for this engine (see ``SORT_KEYS``)."""
    return SORT_KEYS[key]["sqlite" if is_sqlite(database) else "postgres"]


class Dialect:
    """Builds date buckets and time arithmetic for one database engine.

    Buckets come back as text (``YYYY-MM-DD``, ``YYYY-MM``) on both engines so that
    callers compare and chart them without caring which database answered.
    """

    def __init__(self, database: peewee.Database) -> None:
        self.sqlite = is_sqlite(database)

    # --- time arithmetic -------------------------------------------------------

    def seconds_between(self, start: Expr, end: Expr) -> Expr:
        """``end - start`` in seconds, as a float."""
        if self.sqlite:
            # julianday is a float of days: round away its representation error (ms precision)
            return fn.ROUND((fn.julianday(end) - fn.julianday(start)) * 86400.0, 3)
        return fn.EXTRACT(NodeList((SQL("EPOCH FROM"), NodeList((end, SQL("-"), start)))))

    def least(self, *values: Expr) -> Expr:
        return fn.MIN(*values) if self.sqlite else fn.LEAST(*values)

    def greatest(self, *values: Expr) -> Expr:
        return fn.MAX(*values) if self.sqlite else fn.GREATEST(*values)

    def timestamp(self, value: Expr) -> Expr:
        """A parameter or column usable as a timestamp in arithmetic."""
        if self.sqlite:
            return value
        return peewee.Cast(value, "timestamp")

    # --- buckets ------------------------------------------------------------------

    def day(self, column: Expr) -> Expr:
        if self.sqlite:
            return fn.date(column).coerce(False)
        return fn.to_char(column, "YYYY-MM-DD").coerce(False)

    def week(self, column: Expr) -> Expr:
        """The Monday that starts the ISO week of ``column``."""
        if self.sqlite:
            # 'weekday 1' moves forward to the next Monday (or stays); step back a week.
            return fn.date(column, "-6 days", "weekday 1").coerce(False)
        return fn.to_char(fn.date_trunc("week", column), "YYYY-MM-DD").coerce(False)

    def month(self, column: Expr) -> Expr:
        if self.sqlite:
            return fn.strftime("%Y-%m", column).coerce(False)
        return fn.to_char(column, "YYYY-MM").coerce(False)

    def hour(self, column: Expr) -> Expr:
        """Hour of day 0..23 as an integer."""
        if self.sqlite:
            return peewee.Cast(fn.strftime("%H", column), "INTEGER")
        return peewee.Cast(fn.date_part("hour", column), "INTEGER")

    def weekday(self, column: Expr) -> Expr:
        """ISO weekday 1 (Monday) .. 7 (Sunday) as an integer."""
        if self.sqlite:
            # %w: 0 = Sunday .. 6 = Saturday
            sunday_zero = peewee.Cast(fn.strftime("%w", column), "INTEGER")
            return peewee.Case(sunday_zero, [(0, 7)], sunday_zero)
        return peewee.Cast(fn.date_part("isodow", column), "INTEGER")

    def epoch_slot(self, column: Expr, seconds: int) -> Expr:
        """``floor(unix time / seconds)`` of a naive UTC column, as an integer: the UTC
        slot that ``db.system.timezones.fold_slots`` folds into local buckets."""
        if self.sqlite:
            # unixepoch() (SQLite 3.38+) is a quarter faster than strftime('%s'); both floor
            epoch = (
                fn.unixepoch(column)
                if sqlite3.sqlite_version_info >= (3, 38, 0)
                else peewee.Cast(fn.strftime("%s", column), "INTEGER")
            )
            return epoch / peewee.Value(int(seconds), converter=False)
        epoch = fn.EXTRACT(NodeList((SQL("EPOCH FROM"), column)))
        return peewee.Cast(fn.FLOOR(epoch / peewee.Value(int(seconds), converter=False)), "BIGINT")

    def bucket(self, column: Expr, unit: str) -> Expr:
        if unit == "day":
            return self.day(column)
        if unit == "week":
            return self.week(column)
        if unit == "month":
            return self.month(column)
        raise ValueError(f"unknown bucket unit {unit!r} (day, week, month)")


def dialect_for(database: peewee.Database) -> Dialect:
    return Dialect(database)
