"""Figures support asks for: sessions per day/hour/site, top stations, periods, MTTR,
online share from connection intervals, worst outlets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from portalclient.frames import _pandas

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "compare_periods",
    "online_intervals",
    "online_share",
    "per",
    "time_to_recovery",
    "top_stations",
    "worst_outlets",
]


def per(sessions: pd.DataFrame, by: str) -> pd.DataFrame:
    """Sessions and energy (kWh) per ``day``, ``hour``, ``weekday`` or a column (``site``)."""
    start = sessions["start"]
    keys = {"day": start.dt.date, "hour": start.dt.hour, "weekday": start.dt.day_name()}
    key = keys.get(by, sessions[by] if by in sessions.columns else None)
    if key is None:
        raise ValueError(f"per(): by is day, hour, weekday or a column, not {by!r}")
    grouped = sessions.groupby(key.rename(by))
    return grouped.agg(sessions=("id", "count"), energy_kwh=("energy", "sum")).reset_index()


def top_stations(sessions: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` stations that delivered the most energy, with their session counts."""
    figures = sessions.groupby("station").agg(
        sessions=("id", "count"), energy_kwh=("energy", "sum")
    )
    return figures.sort_values("energy_kwh", ascending=False).head(n).reset_index()


def compare_periods(
    sessions: pd.DataFrame, first: tuple[str, str], second: tuple[str, str]
) -> pd.DataFrame:
    """Sessions, energy and median duration in two periods (``[from, to)``, UTC dates)."""
    pd = _pandas()
    rows = {}
    for name, (since, until) in (("first", first), ("second", second)):
        lo, hi = pd.Timestamp(since, tz="UTC"), pd.Timestamp(until, tz="UTC")
        part = sessions[(sessions["start"] >= lo) & (sessions["start"] < hi)]
        rows[f"{name} {since} – {until}"] = {
            "sessions": len(part),
            "energy_kwh": float(part["energy"].sum()),
            "median_minutes": float(part["duration"].median() / 60) if len(part) else 0.0,
        }
    table = pd.DataFrame(rows).T
    table.loc["change %"] = (table.iloc[1] / table.iloc[0].where(table.iloc[0] != 0) - 1) * 100
    return table


def time_to_recovery(history: pd.DataFrame) -> pd.DataFrame:
    """Per alarm kind: how many cleared alarms, and the median and mean minutes to clear."""
    pd = _pandas()
    if history.empty:
        return pd.DataFrame(columns=["kind", "alarms", "median_minutes", "mean_minutes"])
    minutes = (history["cleared_at"] - history["raised_at"]).dt.total_seconds() / 60
    grouped = minutes.groupby(history["kind"])
    table = pd.DataFrame(
        {
            "alarms": grouped.count(),
            "median_minutes": grouped.median(),
            "mean_minutes": grouped.mean(),
        }
    )
    return table.sort_values("median_minutes", ascending=False).reset_index()


def online_intervals(
    connections: pd.DataFrame,
    stations: Iterable[str],
    since: pd.Timestamp,
    until: pd.Timestamp,
    *,
    online_now: Iterable[str] = (),
    last_seen: Mapping[str, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Per station, the intervals ``[start, end)`` it was connected within ``[since, until)``,
    from its connection events (``connections_frame``: ``at``, ``chargeBoxId``, ``kind``).

    A station whose first event in the window is a disconnection was connected from
    ``since``; one without events was connected throughout if it is in ``online_now``.
    A connection still open at the end lasts to ``until`` if the station is online now,
    else to its ``last_seen`` time (a gateway stopped without logging the disconnection).
    """
    pd = _pandas()
    online_now = set(online_now)
    last_seen = last_seen or {}
    by_station = {
        cbid: group.sort_values(["at", "id"] if "id" in group.columns else "at")
        for cbid, group in (connections.groupby("chargeBoxId") if len(connections) else [])
    }
    rows = []
    for cbid in stations:
        events = by_station.get(cbid)
        kinds = [] if events is None else list(zip(events["at"], events["kind"], strict=True))
        connected = kinds[0][1] == "disconnected" if kinds else cbid in online_now
        start = since if connected else None
        for at, kind in kinds:
            if kind == "connected" and start is None:
                start = max(at, since)
            elif kind == "disconnected" and start is not None:
                rows.append((cbid, start, min(at, until)))
                start = None
        if start is not None:
            end = until if cbid in online_now else last_seen.get(cbid, until)
            end = until if pd.isna(end) else min(max(end, start), until)
            rows.append((cbid, start, end))
    return pd.DataFrame(rows, columns=["chargeBoxId", "start", "end"])


def online_share(
    intervals: pd.DataFrame, stations: int, since: pd.Timestamp, until: pd.Timestamp
) -> pd.DataFrame:
    """Per day: the share of station-time inside connection intervals (``online_intervals``)
    out of ``stations`` x the part of the day within ``[since, until)`` (1.0: all online)."""
    pd = _pandas()
    days = pd.date_range(since.floor("D"), until.ceil("D"), freq="D", tz="UTC")
    up = pd.Series(0.0, index=days[:-1])
    span = pd.Series(0.0, index=days[:-1])
    for day in up.index:
        lo, hi = max(day, since), min(day + pd.Timedelta(days=1), until)
        span[day] = max((hi - lo).total_seconds(), 0.0)
        for start, end in zip(intervals["start"], intervals["end"], strict=True):
            overlap = min(end, hi) - max(start, lo)
            up[day] += max(overlap.total_seconds(), 0.0)
    share = up / (max(stations, 1) * span.where(span > 0))
    return pd.DataFrame({"day": up.index.date, "online_share": share.clip(0, 1).to_numpy()})


def worst_outlets(alarms: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` outlets (station, connector) with the most connector alarms."""
    pd = _pandas()
    per_outlet = alarms[alarms["connector_id"].fillna(0).astype(int) > 0] if len(alarms) else alarms
    if per_outlet.empty:
        return pd.DataFrame(columns=["charge_box_id", "connector_id", "alarms", "kinds"])
    grouped = per_outlet.groupby(["charge_box_id", "connector_id"])
    table = grouped.agg(alarms=("id", "count"), kinds=("kind", lambda k: ", ".join(sorted(set(k)))))
    return table.sort_values("alarms", ascending=False).head(n).reset_index()
