"""CSV built column by column from raw rows: the same bytes as the csv writer over the
typed export tuples, in any zone and order, whatever the texts and times hold."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Sequence

import pytest

from db import Store
from db.demo.demo_data import generate_sessions
from db.schema.models import ChargingSession
from db.sessions.session_export_csv import csv_text
from db.sessions.session_export_rows import export_chunks, raw_chunks
from db.topology.scope import Node, Viewer
from portal.session_export import EXPORT_COLUMNS, csv_from_chunks, csv_from_raw_chunks
from portal.session_params import parse_filter

ADMIN = Viewer("admin")
NOW = dt.datetime(2026, 4, 10, 12, 0, 0)
ZONES = [None, "Europe/Stockholm", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]

#: texts a spreadsheet or a CSV reader would trip on
NASTY = [
    "=SUM(A1:A9)",
    "+46 8 123",
    "-minus",
    "@at",
    "\ttab first",
    "\rcarriage first",
    "Kista, Stockholm",
    'the "quoted" one',
    "two\nlines",
    "two\r\nlines",
    " spaced ",
    "ÅÄÖ åäö",
    "",
    "a\x1funit",
    "'already",
]


@pytest.fixture(name="demo")
async def _demo(store: Store) -> int:
    stats = await store.write(
        lambda: generate_sessions(store.database, 900, days=40, now=NOW, seed=11)
    )
    return stats.sessions


def _compare(sort: str, zone: str | None, columns: Sequence[str] = EXPORT_COLUMNS) -> int:
    flt = parse_filter({"sort": sort})
    typed = export_chunks(flt, ADMIN, Node(), columns, zone=zone, chunk=97, now=NOW)
    expected = b"".join(csv_from_chunks(typed, columns=columns, zone=zone))
    raw = raw_chunks(flt, ADMIN, Node(), chunk=97, now=NOW, prefetch=True)
    got = b"".join(csv_from_raw_chunks(raw, columns=columns, zone=zone))
    assert got == expected, (sort, zone)
    return expected.count(b"\n")


async def test_raw_csv_equals_the_typed_csv_in_every_zone_and_order(
    store: Store, demo: int
) -> None:
    for zone in ZONES:
        assert await store.read(_compare, "-start", zone) > 800
    for sort in ("energy", "station", "-duration", "id"):
        assert await store.read(_compare, sort, "Europe/Stockholm") > 800


async def test_raw_csv_equals_the_typed_csv_with_awkward_texts_and_times(
    store: Store, demo: int
) -> None:
    """Formula starts, commas, quotes, line breaks, empty and missing values, times with
    and without fractions of a second: each chunk mixes values that need care."""
    rng = random.Random(5)

    def spoil() -> None:
        ids = [s.id for s in ChargingSession.select(ChargingSession.id)]
        for session_id in rng.sample(ids, 300):
            session = ChargingSession.get_by_id(session_id)
            session.site_name = rng.choice(NASTY)
            session.station_name = rng.choice(NASTY)
            session.charge_box_id = rng.choice(NASTY) + str(session_id)
            session.user_email = rng.choice(NASTY)
            session.id_tag = rng.choice(NASTY)[:20]
            micro = rng.choice([0, 1, 999999, 123456, 50000])
            session.start_time = session.start_time.replace(microsecond=micro)
            session.server_date = session.server_date.replace(microsecond=rng.choice([0, 7]))
            session.save()

    await store.write(spoil)
    for zone in ZONES:
        assert await store.read(_compare, "-start", zone) > 800
    await store.read(_compare, "site", "America/New_York")
    await store.read(_compare, "-energy", None, ["email", "site", "meter", "state"])


async def test_raw_csv_of_few_columns_and_of_nothing(store: Store, demo: int) -> None:
    await store.read(_compare, "-start", "Europe/Stockholm", ["id_tag", "energy", "start"])
    await store.read(_compare, "-start", None, ["station"])  # one column: the csv writer's way

    def nothing() -> bytes:
        flt = parse_filter({"site": "no such site"})
        raw = raw_chunks(flt, ADMIN, Node(), now=NOW)
        return b"".join(csv_from_raw_chunks(raw))

    assert (await store.read(nothing)).decode("utf-8-sig").count("\r\n") == 1  # the header


def test_a_cell_is_written_as_the_csv_writer_writes_it() -> None:
    rng = random.Random(3)
    alphabet = ["a", "b", ",", '"', "\r", "\n", " ", "=", "+", "-", "@", "\t", "'", "é", "\x00"]
    values: list[object] = [None, 0, -3, 1.5, 12.0, True]
    values += ["".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(3000)]
    for value in values:
        buffer = io.StringIO()
        formula = isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r"))
        guarded = "'" + str(value) if formula else value
        csv.writer(buffer, lineterminator="\r\n").writerow(["x", guarded])
        assert buffer.getvalue() == "x," + csv_text(value) + "\r\n", repr(value)
