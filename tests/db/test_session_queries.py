"""The sessions table: filters on every column, sorts, keyset pages, node and role scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from db import Store
from db.sessions.session_filters import FilterError, format_duration
from db.sessions.session_queries import (
    count_sessions,
    iter_sessions,
    page_sessions,
    session_detail,
    session_messages,
    session_meter_series,
)
from db.topology.scope import Node, Viewer
from portal.session_params import COLUMNS, filter_params, parse_duration, parse_filter
from tests.db.session_dataset import NOW, Dataset, build_dataset

ADMIN = Viewer(role="admin")


@pytest.fixture(name="data")
async def _data(store: Store) -> Dataset:
    return await store.write(build_dataset)


async def ids(
    store: Store,
    data: Dataset,
    params: dict[str, str] | None = None,
    viewer: Viewer = ADMIN,
    node: Node | None = None,
) -> list[str]:
    """Session names of every row the params select (walking all pages)."""
    names = {v: k for k, v in data.ids.items()}
    flt = parse_filter(params or {})
    out: list[str] = []
    while True:
        page = await store.read(lambda f=flt: page_sessions(f, viewer, node or Node(), now=NOW))
        out.extend(names[row["id"]] for row in page.rows)
        if page.next_cursor is None:
            return out
        flt = parse_filter({**(params or {}), "after": page.next_cursor})


async def test_default_order_is_newest_start_first(store: Store, data: Dataset) -> None:
    got = await ids(store, data)
    # s1 and s8 start at the same second: the higher id comes first
    assert got == ["s7", "s6", "s5", "s4", "s3", "s2", "s8", "s1"]


@pytest.mark.parametrize("column", sorted(COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
async def test_every_column_sorts_and_pages_without_gaps_or_repeats(
    store: Store, data: Dataset, column: str, descending: bool
) -> None:
    sort = ("-" if descending else "") + column
    everything = await store.read(
        lambda: page_sessions(parse_filter({"sort": sort, "limit": "100"}), ADMIN, now=NOW)
    )
    rows = everything.rows
    assert len(rows) == 8

    def key(row: dict[str, Any]) -> tuple[Any, int]:
        value = row[column]
        if column == "end" and value is None:
            value = dt.datetime.max  # running sessions have no end: after every end
        if column in ("duration", "energy", "meter") and row["running"]:
            value = float("inf")  # still growing: sorted after every finished session
        return (value, row["id"])

    assert [key(r) for r in rows] == sorted((key(r) for r in rows), reverse=descending)
    paged = await ids(store, data, {"sort": sort, "limit": "3"})
    names = {v: k for k, v in data.ids.items()}
    assert paged == [names[r["id"]] for r in rows]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"site": "solna"}, {"s1", "s2", "s3", "s6", "s7"}),  # contains, any case
        ({"station": "CP-B"}, {"s4", "s5", "s8"}),  # by identity
        ({"station": "garage"}, {"s1", "s2", "s6"}),  # by name
        ({"node": "a2"}, {"s3", "s7"}),
        ({"email": "ALICE"}, {"s1", "s4", "s7"}),
        ({"id_tag": "200"}, {"s3", "s6"}),
        ({"site": "%"}, set()),  # wildcards are literal
        ({"auth": "anonymous"}, {"s2", "s5", "s8"}),
        ({"auth": "1"}, {"s1", "s3", "s4", "s6", "s7"}),
        ({"state": "running"}, {"s7"}),
        ({"outlet": "2"}, {"s2"}),
        ({"outlet_min": "2"}, {"s2"}),
        ({"energy_min": "10", "energy_max": "46.5"}, {"s1", "s4", "s5"}),  # inclusive
        ({"energy_max": "2.5"}, {"s2", "s7", "s8"}),  # running: live energy 2.5 kWh
        ({"duration_min": "1h33m1s"}, {"s3", "s4", "s5"}),  # inclusive
        ({"duration_max": "30m"}, {"s2", "s8"}),
        ({"duration_min": "3600", "duration_max": "3600"}, {"s6", "s7"}),  # running: live
        ({"from": "2026-03-18", "to": "2026-03-20"}, {"s4", "s5"}),  # [from, to)
        ({"start_from": "2026-03-16T08:00:00"}, {f"s{i}" for i in range(1, 9)}),
        ({"end_to": "2026-03-16 10:06:04"}, {"s1", "s8"}),  # end is exclusive
        ({"end_from": "2026-03-20"}, {"s5", "s6"}),  # running sessions have no end
        ({"server_date_from": "2026-03-21 11:00:01"}, {"s7"}),
        ({"meter_min": "50"}, {"s5", "s6", "s7", "s8"}),  # meters count up: s1 < … < s8
        ({"site": "Solna", "auth": "rfid", "outlet": "1"}, {"s1", "s3", "s6", "s7"}),
    ],
)
async def test_filters_select_the_expected_sessions(
    store: Store, data: Dataset, params: dict[str, str], expected: set[str]
) -> None:
    assert set(await ids(store, data, params)) == expected
    flt = parse_filter(params)
    assert await store.read(lambda: count_sessions(flt, ADMIN, now=NOW)) == len(expected)


async def test_id_filter_finds_exactly_one_session(store: Store, data: Dataset) -> None:
    assert await ids(store, data, {"id": str(data.ids["s4"])}) == ["s4"]


async def test_running_session_shows_live_energy_and_duration(store: Store, data: Dataset) -> None:
    flt = parse_filter({"state": "running"})
    page = await store.read(lambda: page_sessions(flt, ADMIN, now=NOW))
    (row,) = page.rows
    assert row["running"] is True
    assert row["end"] is None
    assert row["energy"] == 2.5
    assert row["duration_text"] == "1hrs 0min 0sec"


async def test_finished_row_has_every_spec_field(store: Store, data: Dataset) -> None:
    flt = parse_filter({"id": str(data.ids["s3"])})
    (row,) = (await store.read(lambda: page_sessions(flt, ADMIN, now=NOW))).rows
    assert row["start"] == dt.datetime(2026, 3, 17, 15, 38, 36)
    assert row["end"] == dt.datetime(2026, 3, 17, 17, 11, 37)
    assert row["duration_text"] == "1hrs 33min 1sec"
    assert row["node"] == "CP-A2"
    assert row["station"] == "Solna Street"
    assert row["site"] == "Solna"
    assert row["energy"] == 4.8
    assert row["outlet"] == 1
    assert row["auth"] == "RFID"
    assert row["email"] == "bob@example.com"
    assert row["server_date"] == dt.datetime(2026, 3, 17, 15, 38, 37)
    assert row["meter"] > row["energy"]


@pytest.mark.parametrize(
    ("who", "node", "expected"),
    [
        ("sam", None, {"s1", "s2", "s3", "s6", "s7"}),
        ("sam", ("site", "Kista"), set()),  # another site: nothing, not even by node
        ("sam", ("station", "CP-A2"), {"s3", "s7"}),
        ("alice", None, {"s1", "s4", "s7"}),
        ("bob", None, {"s3", "s6"}),  # s6 through his tag only
        ("admin", ("floor", None), {"s1", "s2", "s6"}),
        ("admin", ("outlet", "CP-A1/2"), {"s2"}),
        ("admin", ("site", "Kista"), {"s4", "s5", "s8"}),
        ("support", None, {f"s{i}" for i in range(1, 9)}),
        ("stranger", None, set()),  # unknown role sees nothing
    ],
)
async def test_role_and_node_scope(
    store: Store, data: Dataset, who: str, node: tuple[str, Any] | None, expected: set[str]
) -> None:
    viewers = {
        "sam": Viewer("site-admin", data.users["sam"], data.sites["Solna"]),
        "alice": Viewer("ev-user", data.users["alice"]),
        "bob": Viewer("ev-user", data.users["bob"]),
        "admin": ADMIN,
        "support": Viewer("support", 99),
        "stranger": Viewer("guest", 98),
    }
    scope = Node()
    if node is not None:
        kind, name = node
        lookup = {"site": data.sites, "station": data.stations, "outlet": data.outlets}
        scope = Node(kind, data.floor if kind == "floor" else lookup[kind][name])
    assert set(await ids(store, data, viewer=viewers[who], node=scope)) == expected


async def test_iter_sessions_walks_every_row_in_chunks(store: Store, data: Dataset) -> None:
    flt = parse_filter({"sort": "energy"})
    rows = await store.read(lambda: list(iter_sessions(flt, ADMIN, chunk=3, now=NOW)))
    # the running session (2.5 kWh so far) sorts after the finished ones
    assert [r["energy"] for r in rows] == [1.5, 2.0, 4.8, 7.0, 10.0, 16.4, 46.5, 2.5]


async def test_details_meter_series_and_messages_are_scoped(store: Store, data: Dataset) -> None:
    s7 = data.ids["s7"]
    bob = Viewer("ev-user", data.users["bob"])
    alice = Viewer("ev-user", data.users["alice"])
    assert await store.read(session_detail, s7, bob) is None
    assert await store.read(session_meter_series, s7, bob) is None
    assert await store.read(session_messages, s7, bob) is None
    detail = await store.read(session_detail, s7, alice)
    assert detail is not None
    assert detail["meter_stop"] is None
    series = await store.read(session_meter_series, s7, alice)
    assert series is not None
    assert [s["measurand"] for s in series].count("Power.Active.Import") == 3
    messages = await store.read(session_messages, s7, alice)
    assert messages is not None
    assert [m["action"] for m in messages] == ["StartTransaction"]


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"energy_min": "lots"}, "energy_min"),
        ({"start_from": "yesterday"}, "start_from"),
        ({"sort": "colour"}, "sort"),
        ({"auth": "maybe"}, "auth"),
        ({"after": "garbage!"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"energy": "5"}, "energy"),
        ({"duration_min": "long"}, "duration_min"),
    ],
)
def test_bad_parameters_name_the_parameter(params: dict[str, str], bad: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(params)
    assert info.value.param == bad


def test_filter_survives_a_round_trip_through_the_url() -> None:
    params = {
        "site": "Solna",
        "energy_min": "2.5",
        "from": "2026-03-01 00:00:00",
        "duration_max": "1h",
        "auth": "rfid",
        "outlet": "2",
        "sort": "energy",
    }
    flt = parse_filter(params)
    assert parse_filter(filter_params(flt)) == flt


def test_duration_text_and_parsing() -> None:
    assert format_duration(5581) == "1hrs 33min 1sec"
    assert format_duration(364) == "0hrs 6min 4sec"
    assert parse_duration("1hrs 33min 1sec") == 5581
    assert parse_duration("90m") == 5400
    assert parse_duration("45") == 45
