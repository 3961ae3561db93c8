"""A large CSV export is written by two processes: the file is byte for byte the one a
single process writes, in any order; progress reaches the total; a stop ends both."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from db import Store
from db.demo.demo_data import generate_sessions
from db.sessions.session_export_rows import raw_chunks, split_cursor
from db.sessions.session_queries import count_sessions
from db.topology.scope import Node, Viewer
from portal.session_csv_file import write_csv_file
from portal.session_export import ExportCancelledError
from portal.session_params import parse_filter

ADMIN = Viewer("admin")
NOW = dt.datetime(2026, 4, 10, 12, 0, 0)


@pytest.fixture(name="demo")
async def _demo(store: Store) -> int:
    stats = await store.write(
        lambda: generate_sessions(store.database, 700, days=30, now=NOW, seed=4)
    )
    return stats.sessions


async def test_rows_up_to_the_split_and_after_it_are_every_row_once(
    store: Store, demo: int
) -> None:
    def halves(sort: str, rows: int) -> None:
        flt = parse_filter({"sort": sort})
        whole = [r[0] for c in raw_chunks(flt, ADMIN, Node(), chunk=61, now=NOW) for r in c]
        until = split_cursor(flt, ADMIN, Node(), rows, now=NOW)
        assert until is not None
        first = [
            r[0] for c in raw_chunks(flt, ADMIN, Node(), chunk=61, now=NOW, until=until) for r in c
        ]
        after = flt.__class__(**{**flt.__dict__, "after": until})
        rest = [r[0] for c in raw_chunks(after, ADMIN, Node(), chunk=61, now=NOW) for r in c]
        assert first + rest == whole, sort
        assert len(first) == rows

    for sort in ("-start", "start", "-energy", "station", "-duration", "id", "-id", "auth"):
        for rows in (1, 122, 350):
            await store.read(halves, sort, rows)
    assert await store.read(lambda: split_cursor(parse_filter({}), ADMIN, Node(), 10**6)) is None


def _one_and_two(tmp_path: Path, query: dict[str, str], zone: str | None) -> None:
    flt = parse_filter(query)
    total = count_sessions(flt, ADMIN, Node())
    files = {}
    for parallel_min in (10**9, 1):
        path = tmp_path / f"{parallel_min}.csv"
        progress: list[int] = []
        write_csv_file(
            path,
            flt,
            ADMIN,
            Node(),
            zone=zone,
            total=total,
            progress=progress.append,
            parallel_min=parallel_min,
            now=NOW,
        )
        assert progress[-1] == total
        assert progress == sorted(progress)
        files[parallel_min] = path.read_bytes()
    assert files[1] == files[10**9]
    assert files[1].count(b"\r\n") == total + 1
    # the second process's file is gone
    assert sorted(p.name for p in tmp_path.iterdir() if "sqlite3" not in p.name) == [
        "1.csv",
        f"{10**9}.csv",
    ]


async def test_two_processes_write_the_file_one_process_writes(
    store: Store, demo: int, tmp_path: Path
) -> None:
    await store.read(_one_and_two, tmp_path, {"sort": "-start"}, "Europe/Stockholm")
    await store.read(_one_and_two, tmp_path, {"sort": "energy"}, None)


async def test_a_stopped_export_stops_the_second_process(
    store: Store, demo: int, tmp_path: Path
) -> None:
    def stop(done: int) -> None:
        raise ExportCancelledError

    def write() -> None:
        write_csv_file(
            tmp_path / "x.csv",
            parse_filter({}),
            ADMIN,
            Node(),
            total=700,
            progress=stop,
            parallel_min=1,
        )

    with pytest.raises(ExportCancelledError):
        await store.read(write)
    assert not (tmp_path / "x.csv.second").exists()
