"""Schedule menu (SPEC §10): weekly power limits pushed to stations as charging profiles."""

from __future__ import annotations

from quart import Blueprint

from portal.access import STAFF_ROLES, MenuEntry, guard

__all__ = ["bp", "menu"]

bp = guard(Blueprint("schedule", __name__, url_prefix="/schedule"), STAFF_ROLES)
menu = MenuEntry("Schedule", "schedule.index", roles=STAFF_ROLES, order=45, icon="◷")

import portal.schedule.views  # noqa: E402, F401
