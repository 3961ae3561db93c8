"""``portalclient.analysis``: the figures the notebooks plot, on small known tables."""

from __future__ import annotations

import pytest

pd = pytest.importorskip("pandas", reason="pandas comes with the [notebooks] extra")

from portalclient import analysis  # noqa: E402


def _t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


ALARMS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "kind": ["No network", "Hardware", "Hardware", "Fuse"],
        "charge_box_id": ["A", "A", "A", "B"],
        "connector_id": [None, 1, 1, 2],
        "raised_at": [
            _t("2026-01-01T00:00"),
            _t("2026-01-01T01:00"),
            _t("2026-01-02T00:00"),
            _t("2026-01-02T00:00"),
        ],
        "cleared_at": [
            _t("2026-01-01T12:00"),
            _t("2026-01-01T01:30"),
            _t("2026-01-02T02:00"),
            pd.NaT,
        ],
    }
)


def _events(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(1, len(rows) + 1),
            "at": [_t(at) for at, _, _ in rows],
            "chargeBoxId": [cbid for _, cbid, _ in rows],
            "kind": [kind for _, _, kind in rows],
        }
    )


CONNECTIONS = _events(
    ("2026-01-01T06:00", "A", "disconnected"),  # connected before the window
    ("2026-01-01T18:00", "A", "connected"),
    ("2026-01-01T20:00", "A", "connected"),  # a replacement: still one interval
    ("2026-01-02T12:00", "A", "disconnected"),
    ("2026-01-01T12:00", "B", "connected"),  # still connected, online now
    ("2026-01-02T06:00", "D", "connected"),  # never disconnected, offline now
)
SINCE, UNTIL = _t("2026-01-01"), _t("2026-01-03")


def test_online_intervals_follow_the_connection_events() -> None:
    intervals = analysis.online_intervals(
        CONNECTIONS,
        ["A", "B", "C", "D", "E"],
        SINCE,
        UNTIL,
        online_now=["B", "C"],
        last_seen={"D": _t("2026-01-02T09:00")},
    )
    assert intervals.values.tolist() == [
        ["A", SINCE, _t("2026-01-01T06:00")],
        ["A", _t("2026-01-01T18:00"), _t("2026-01-02T12:00")],
        ["B", _t("2026-01-01T12:00"), UNTIL],
        ["C", SINCE, UNTIL],  # no events in the window, online now: all along
        ["D", _t("2026-01-02T06:00"), _t("2026-01-02T09:00")],
    ]  # E: no events, offline now: never


def test_online_share_is_connected_station_time_per_day() -> None:
    intervals = analysis.online_intervals(CONNECTIONS, ["A", "B"], SINCE, UNTIL, online_now=["B"])
    share = analysis.online_share(intervals, 2, SINCE, UNTIL)
    # day 1: A 6 h + 6 h, B 12 h of 48 h; day 2: A 12 h, B 24 h of 48 h
    assert list(share["online_share"]) == [0.5, 0.75]
    half_day = analysis.online_share(intervals, 2, SINCE, _t("2026-01-01T12:00"))
    assert list(half_day["online_share"]) == [0.25]  # A 6 h of 2 x 12 h


def test_worst_outlets_rank_connector_alarms() -> None:
    worst = analysis.worst_outlets(ALARMS, 10)
    assert worst[["charge_box_id", "connector_id", "alarms"]].values.tolist() == [
        ["A", 1, 2],
        ["B", 2, 1],
    ]
    assert worst["kinds"].iloc[0] == "Hardware"


def test_time_to_recovery_per_kind_in_minutes() -> None:
    cleared = ALARMS.dropna(subset=["cleared_at"])
    mttr = analysis.time_to_recovery(cleared).set_index("kind")
    assert mttr.loc["No network", "median_minutes"] == 720
    assert mttr.loc["Hardware", "alarms"] == 2
    assert mttr.loc["Hardware", "median_minutes"] == 75


def test_two_periods_compared() -> None:
    sessions = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "start": [_t("2026-01-01T08:00"), _t("2026-01-02T08:00"), _t("2026-01-02T09:00")],
            "energy": [10.0, 5.0, 5.0],
            "duration": [3600.0, 1800.0, 1800.0],
        }
    )
    table = analysis.compare_periods(
        sessions, ("2026-01-01", "2026-01-02"), ("2026-01-02", "2026-01-03")
    )
    assert list(table["sessions"]) == [1, 2, 100.0]
    assert list(table["energy_kwh"]) == [10.0, 10.0, 0.0]
    assert analysis.per(sessions, "day")["sessions"].tolist() == [1, 2]
