"""Dashboard panels a user may choose in his settings (SPEC §3); the dashboard fills them.

The dashboard engineer owns this list: add ``key: label`` entries; settings offers
them, ``Principal.dashboard_panels`` holds a user's choice (four at most).
"""

from __future__ import annotations

__all__ = ["DEFAULT_PANELS", "MAX_PANELS", "PANELS"]

PANELS: dict[str, str] = {
    "station-status": "Live station status (by colour)",
    "energy-today": "Energy and sessions today vs. same day last week",
    "active-alarms": "Active alarms",
    "latest-sessions": "Latest charging sessions",
    "occupancy": "Current occupancy per site",
    "news": "Portal news",
}
MAX_PANELS = 4
DEFAULT_PANELS: tuple[str, ...] = ("station-status", "energy-today", "active-alarms", "news")
