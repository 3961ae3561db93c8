"""Export rows: raw keyset chunks give exactly the table's rows, in any zone, prefetched."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from db import Store
from db.demo.demo_data import generate_sessions
from db.sessions.session_export_rows import _prefetched, export_chunks
from db.sessions.session_filters import SessionFilter
from db.sessions.session_queries import iter_sessions
from db.topology.scope import Node, Viewer
from portal.session_export import EXPORT_COLUMNS, typed_rows
from portal.session_params import parse_filter

ADMIN = Viewer("admin")
#: the demo's 'now': 40 days back cross the EU, US and Lord Howe (30 min) DST changes
NOW = dt.datetime(2026, 4, 10, 12, 0, 0)
ZONES = [None, "Europe/Stockholm", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]


@pytest.fixture(name="demo")
async def _demo(store: Store) -> int:
    stats = await store.write(
        lambda: generate_sessions(store.database, 1200, days=40, now=NOW, seed=7)
    )
    return stats.sessions


async def test_export_chunks_equal_the_table_rows_in_every_zone_and_order(
    store: Store, demo: int
) -> None:
    columns = list(EXPORT_COLUMNS)

    def compare(sort: str, zone: str | None) -> int:
        flt = parse_filter({"sort": sort})
        table = list(typed_rows(iter_sessions(flt, ADMIN, Node(), now=NOW), columns, zone))
        chunks = list(
            export_chunks(flt, ADMIN, Node(), columns, zone=zone, chunk=97, now=NOW, prefetch=True)
        )
        assert all(0 < len(c) <= 97 for c in chunks)
        assert [row for chunk in chunks for row in chunk] == table, (sort, zone)
        return len(table)

    for zone in ZONES:
        assert await store.read(compare, "-start", zone) >= 1000
    for sort in ("energy", "station", "-duration"):
        assert await store.read(compare, sort, "Europe/Stockholm") >= 1000


async def test_export_chunks_pick_the_columns_asked_for(store: Store, demo: int) -> None:
    columns = ["id_tag", "energy", "start", "state"]
    flt = parse_filter({"sort": "id"})

    def both() -> tuple[list[Any], list[Any]]:
        table = list(typed_rows(iter_sessions(flt, ADMIN, Node(), now=NOW), columns))
        rows = [r for c in export_chunks(flt, ADMIN, Node(), columns, now=NOW) for r in c]
        return table, rows

    table, rows = await store.read(both)
    assert rows == table
    assert all(len(r) == 4 for r in rows)


async def test_a_reader_that_stops_early_stops_the_prefetch_thread(store: Store, demo: int) -> None:
    def first_chunk() -> int:
        chunks = export_chunks(
            SessionFilter(), ADMIN, Node(), EXPORT_COLUMNS, chunk=50, prefetch=True
        )
        size = len(next(chunks))
        chunks.close()
        return size

    assert await store.read(first_chunk) == 50
    assert not [t for t in threading.enumerate() if t.name == "export-prefetch"]


def test_an_error_while_prefetching_reaches_the_reader() -> None:
    def failing() -> Any:
        yield [1]
        raise RuntimeError("disk gone")

    chunks = _prefetched(failing())
    assert next(chunks) == [1]
    with pytest.raises(RuntimeError, match="disk gone"):
        next(chunks)
