"""A station's installed certificates on the Control tab: the list it last reported, with
a Delete each (sent as the delete-certificate Control action)."""

from __future__ import annotations

from typing import Any

from quart import render_template

from db.errors import NotAllowed
from db.ocpp.installed_certificates import installed_certificates_of
from db.topology.nodes import get_station
from db.topology.station_settings import station_view
from portal.configuration import bp
from portal.configuration.control import ACTIONS
from portal.configuration.control_security import CERTIFICATE_USES
from portal.configuration.deps import role
from portal.configuration.pages import node_in_scope
from portal.context import get_gateway, get_store
from portal.live import station_state

__all__ = ["CERTIFICATE_ACTIONS", "may_manage_certificates", "station_certificates"]

#: Control actions after which the list changes (the page re-reads it).
CERTIFICATE_ACTIONS = frozenset(
    {"get-installed-certificate-ids", "delete-certificate", "install-certificate"}
)


def may_manage_certificates() -> bool:
    return role() in ACTIONS["delete-certificate"].roles


async def certificates_context(station_id: int) -> dict[str, Any]:
    """What ``configuration/_certificates.html`` shows."""
    return {
        "installed": await get_store().read(installed_certificates_of, station_id),
        "certificate_uses": CERTIFICATE_USES,
    }


@bp.get("/stations/<int:station_id>/certificates")
async def station_certificates(station_id: int) -> Any:
    """The list alone (re-read after a certificate action)."""
    node = await node_in_scope("station", station_id)
    if not may_manage_certificates():
        raise NotAllowed(f"The role {role()} may not manage certificates.")
    station = station_view(await get_store().read(get_station, station_id))
    return await render_template(
        "configuration/_certificates.html",
        station=station,
        node=node,
        state=station_state(get_gateway(), station["charge_box_id"]),
        **await certificates_context(station_id),
    )
