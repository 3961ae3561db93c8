"""Configuration menu (SPEC §9): tabs that follow the Navigator level, station Control, files."""

from __future__ import annotations

from typing import Any

from quart import Blueprint

from db.config_errors import NotFoundError
from portal.access import STAFF_ROLES, MenuEntry, guard
from portal.configuration.pages import not_found_page

__all__ = ["TABS", "bp", "menu", "tabs_for"]

bp = guard(Blueprint("configuration", __name__, url_prefix="/configuration"), STAFF_ROLES)
menu = MenuEntry("Configuration", "configuration.index", roles=STAFF_ROLES, order=70, icon="⚙")

#: The tabs of each Navigator level, in order: (slug, label, roles).
TABS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "system": [
        ("general", "General", ("admin", "support")),
        ("topology", "Topology", ("admin", "support")),
        ("services", "Services", ("admin", "support")),
        ("files", "Firmware images", ("admin", "support")),
    ],
    "site": [
        ("general", "General", STAFF_ROLES),
        ("address", "Address", STAFF_ROLES),
        ("topology", "Floors and stations", STAFF_ROLES),
    ],
    "floor": [
        ("general", "General", STAFF_ROLES),
        ("positions", "Station positions", STAFF_ROLES),
    ],
    "station": [
        ("general", "General", STAFF_ROLES),
        ("address", "Address", STAFF_ROLES),
        ("control", "Control", STAFF_ROLES),
        ("ocpp", "OCPP configuration", STAFF_ROLES),
    ],
    "outlet": [("general", "General", STAFF_ROLES)],
}


def tabs_for(kind: str, role: str) -> list[tuple[str, str]]:
    return [(slug, label) for slug, label, roles in TABS.get(kind, []) if role in roles]


bp.register_error_handler(NotFoundError, not_found_page)


@bp.record_once
def _setup(state: Any) -> None:
    from portal.configuration.deps import setup_files

    setup_files(state.app)


# Views attach themselves to ``bp``.
import portal.configuration.views_backup  # noqa: E402
import portal.configuration.views_certificates  # noqa: E402
import portal.configuration.views_mail  # noqa: E402
import portal.configuration.views_nodes  # noqa: E402
import portal.configuration.views_security_profile  # noqa: E402
import portal.configuration.views_station  # noqa: E402
import portal.configuration.views_system  # noqa: E402, F401
