"""Multi-row statements come in a few shapes: any batch size reuses prepared statements."""

from __future__ import annotations

import ctypes
import ctypes.util
import random

import peewee
import pytest

from db import Store
from db.engine import rawsql
from db.engine.connection import is_sqlite


def test_any_number_of_rows_splits_into_a_few_statement_sizes() -> None:
    seen: set[int] = set()
    for count in range(1, 3001):
        sizes = rawsql.statement_sizes(count, 1000)
        assert sum(sizes) == count
        assert all(size <= 1000 for size in sizes)
        assert len(sizes) <= 5 * -(-count // 1000)  # one per base-4 digit per 1000
        seen.update(sizes)
    assert len(seen) <= 15  # k * 4**m, k = 1..3: texts prepared once, reused ever after
    assert rawsql.statement_sizes(1000, 1000) == [768, 192, 32, 8]
    assert rawsql.statement_sizes(7, 2) == [2, 2, 2, 1]


def test_an_in_list_is_padded_with_its_last_value_to_a_power_of_two() -> None:
    assert rawsql.in_list(["a"]) == ("(?)", ["a"])
    assert rawsql.in_list(["a", "b", "c"]) == ("(?, ?, ?, ?)", ["a", "b", "c", "c"])
    shapes = {rawsql.in_list(list(range(n)))[0] for n in range(1, 501)}
    assert len(shapes) == 10


def _rows_in_order(store: Store) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in rawsql.fetchall('SELECT "n", "s" FROM "shape_t" ORDER BY "id"')]


async def test_batches_of_many_sizes_keep_sqlite_memory_bounded(store: Store) -> None:
    """A 300-row INSERT prepared for every new batch size stayed in the driver's statement
    cache (128 per connection): tens of MB per connection. Every row is still written,
    in order."""
    if not is_sqlite(store.database):
        pytest.skip("SQLite's memory counter")
    path = ctypes.util.find_library("sqlite3")
    sqlite = ctypes.CDLL(path or "libsqlite3.so.0")
    sqlite.sqlite3_memory_used.restype = ctypes.c_int64
    database: peewee.Database = store.database

    def create() -> None:
        database.execute_sql(
            'CREATE TABLE "shape_t" ("id" INTEGER PRIMARY KEY, "n" INTEGER, "s" TEXT)'
        )

    def write(rows: list[tuple[int, str]]) -> int:
        rawsql.insert_rows('INSERT INTO "shape_t" ("n", "s")', rows)
        return int(sqlite.sqlite3_memory_used())

    await store.write(create)
    rng = random.Random(7)
    expected: list[tuple[int, str]] = []
    used = []
    for batch in range(80):
        rows = [(batch, "x" * 20)] * rng.randint(1, 600)
        expected.extend(rows)
        used.append(await store.write(write, rows))
    assert await store.read(_rows_in_order, store) == expected
    # page cache aside (a few hundred KB here), 80 sizes cost ~5 MB before, 0.7 MB now
    assert used[-1] - used[20] < 2_000_000
