"""The station General tab's "lower the security profile" form (administrators only)."""

from __future__ import annotations

from typing import Any

from quart import flash, request

from db.errors import DomainError, NotAllowed
from db.ocpp.profile_lowering import LowerChoice, lower_choices, lower_security_profile
from db.ocpp.security_profiles import PROFILE_NAMES
from db.schema.models import utcnow
from portal.access import current_principal
from portal.configuration import bp
from portal.configuration.deps import role
from portal.configuration.pages import back_to, node_in_scope, refused
from portal.context import get_store

__all__ = ["LOWER_ROLES", "lower_choices_for", "who"]

#: Lowering weakens what the gateway accepts: administrators only (support and site
#: administrators raise profiles with the Control action but do not lower them).
LOWER_ROLES = ("admin",)


def who() -> str:
    """The person (or API token) for the event log."""
    principal = current_principal()
    if principal is None:
        return "?"
    if principal.email:
        return principal.email
    return f"API token {principal.token_id}" if principal.token_id else principal.name or "?"


async def lower_choices_for(station_id: int) -> list[LowerChoice] | None:
    """The General tab's choices, None when the role may not lower."""
    if role() not in LOWER_ROLES:
        return None
    return await get_store().read(lower_choices, station_id)


@bp.post("/stations/<int:station_id>/security-profile")
async def station_security_profile(station_id: int) -> Any:
    node = await node_in_scope("station", station_id)
    if role() not in LOWER_ROLES:
        raise NotAllowed("Only an administrator lowers a station's security profile.")
    form = {k: v for k, v in (await request.form).items() if k != "csrf_token"}
    wanted = form.get("securityProfile", "")
    by = who()  # the request's principal, read here (the write runs in another thread)
    try:
        previous, now = await get_store().write(
            lambda: lower_security_profile(station_id, wanted, by=by, now=utcnow())
        )
    except DomainError as exc:
        return await refused("general", node, exc, form)
    await flash(
        f"Security profile lowered from {previous} ({PROFILE_NAMES[previous]}) to {now}"
        f" ({PROFILE_NAMES[now]}): the gateway now accepts a weaker connection from this"
        " station. Logged in the event log."
    )
    return back_to("general", node.key)
