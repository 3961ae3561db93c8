"""``portalclient.frames``: the API's tables as pandas DataFrames (notebooks extra)."""

from __future__ import annotations

import pytest

pd = pytest.importorskip("pandas", reason="pandas comes with the [notebooks] extra")

from portalclient import frames  # noqa: E402
from tests.portalclient.conftest import Portal, blocking  # noqa: E402


async def test_stations_frame_has_a_row_per_station_in_scope(portal: Portal) -> None:
    frame = await blocking(frames.stations_frame, portal.client("solna-admin"))
    assert sorted(frame["chargeBoxId"]) == ["SOLNA-1", "SOLNA-2"]
    assert dict(zip(frame["chargeBoxId"], frame["outletCount"], strict=True)) == {
        "SOLNA-1": 2,
        "SOLNA-2": 1,
    }
    assert not frame["online"].any()


async def test_sessions_frame_streams_the_csv_export_with_filters(portal: Portal) -> None:
    client = portal.client("support")
    frame = await blocking(frames.sessions_frame, client)
    assert sorted(frame["station"]) == ["KISTA-1", "SOLNA-1"]
    assert sorted(frame["energy"]) == [5.0, 7.0]
    assert set(frame["duration"]) == {3600.0}
    assert str(frame["start"].dt.tz) == "UTC"
    kista = await blocking(lambda: frames.sessions_frame(client, station="KISTA-1"))
    assert list(kista["id"]) == [portal.world.kista_session]
    mine = await blocking(frames.sessions_frame, portal.client("solna-admin"))
    assert list(mine["station"]) == ["SOLNA-1"]


async def test_session_frames_come_page_by_page(portal: Portal) -> None:
    client = portal.client("admin")
    pages = await blocking(lambda: list(frames.iter_session_frames(client, page_size=1)))
    assert [len(p) for p in pages] == [1, 1]
    assert sorted(pd.concat(pages)["station"]) == ["KISTA-1", "SOLNA-1"]


async def test_alarm_and_event_frames_are_tables(portal: Portal) -> None:
    client = portal.client("support")
    for frame in (
        await blocking(frames.alarms_frame, client),
        await blocking(frames.alarms_frame, client, "cleared"),
        await blocking(frames.events_frame, client),
    ):
        assert isinstance(frame, pd.DataFrame)
