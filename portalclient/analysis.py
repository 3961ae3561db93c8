"""Figures support asks for: sessions per day/hour/site, top stations, periods, MTTR."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portalclient.frames import _pandas

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["compare_periods", "per", "time_to_recovery", "top_stations"]


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
