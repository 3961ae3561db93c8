"""The message log's reads by station over many id buckets (m0022): a station's newest
frames, paging, one action, trimming, removal, answered as a plain filter of the rows."""

from __future__ import annotations

import random
from functools import partial

from db import Store
from db.engine import rawsql
from db.ocpp.frame_log import (
    BUCKET_BITS,
    delete_station_frames,
    station_frames,
    stations_over,
    trim_stations,
)
from db.schema.models import utcnow

ACTIONS = ("Heartbeat", "MeterValues", "StatusNotification")


def _fill(rng: random.Random) -> dict[int, tuple[int, str]]:
    """Frames of 6 stations at ids spread over ~40 buckets (gaps, as trimming leaves);
    returns id -> (station, action)."""
    rows: dict[int, tuple[int, str]] = {}
    frame_id = 3
    for _ in range(700):
        frame_id += rng.choice((1, 2, 7, 300, (1 << BUCKET_BITS) // 2))
        rows[frame_id] = (rng.randint(1, 6), rng.choice(ACTIONS))
    now = utcnow()
    rawsql.insert_rows(
        'INSERT INTO "ocpp_frame" ("id", "station_id", "charge_box_id", "at", "direction",'
        ' "message_type", "unique_id", "action", "payload")',
        [
            (i, station, f"CP{station}", now, "in", "Call", str(i), action, f"[{i}]")
            for i, (station, action) in rows.items()
        ],
    )
    return rows


async def test_a_stations_frames_are_found_in_every_bucket(store: Store) -> None:
    rng = random.Random(4)
    rows = await store.write(_fill, rng)
    assert max(rows) >> BUCKET_BITS > 20

    def expected(station: int, limit: int, before: int | None, action: str | None) -> list[int]:
        ids = [
            i
            for i, (s, a) in sorted(rows.items())
            if s == station and (before is None or i < before) and action in (None, a)
        ]
        return ids[-limit:]

    for _ in range(40):
        station = rng.randint(1, 7)  # 7 has no frames
        limit = rng.choice((1, 5, 50, 1000))
        before = rng.choice((None, rng.choice(list(rows)), max(rows) + 5, 2))
        action = rng.choice((None, *ACTIONS))
        got = await store.read(
            partial(station_frames, station, limit, before=before, action=action)
        )
        assert [r["id"] for r in got] == expected(station, limit, before, action)
        assert all(r["payload"] == f"[{r['id']}]" and r["at"].year > 2000 for r in got)


async def test_trimming_and_removal_reach_every_bucket(store: Store) -> None:
    rows = await store.write(_fill, random.Random(5))
    per_station = {s: sorted(i for i, (t, _) in rows.items() if t == s) for s in range(1, 7)}
    keep = 30
    assert sorted(await store.read(stations_over, keep)) == sorted(
        s for s, ids in per_station.items() if len(ids) > keep
    )
    deleted = await store.write(trim_stations, [1, 2, 3], keep)
    assert deleted == sum(max(0, len(per_station[s]) - keep) for s in (1, 2, 3))
    for station in range(1, 7):
        got = [r["id"] for r in await store.read(station_frames, station, 1000)]
        assert got == (per_station[station][-keep:] if station <= 3 else per_station[station])
    assert await store.write(delete_station_frames, 4) == len(per_station[4])
    assert await store.read(station_frames, 4, 1000) == []
    assert len(await store.read(station_frames, 5, 1000)) == len(per_station[5])
