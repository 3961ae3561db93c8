"""``POST /api/v1/stations/{cbid}/commands/{action}``: every command of the gateway's API.

The body is the OCPP payload as on the wire; it becomes the action's command object
(``gateway.commands``), which checks it, records the answer, and is the same object the
portal's forms send. The answer is the station's CALLRESULT.
"""

from __future__ import annotations

import math
from typing import Any

from quart import Blueprint, request

from db.ocpp.certificate_requests import certificate_requests_of
from db.ocpp.installed_certificates import installed_certificates_of
from db.ocpp.profile_lowering import lower_security_profile
from db.ocpp.security_profiles import security_of
from db.schema.models import utcnow
from db.system.timezones import iso_utc
from gateway.commands import BY_KEBAB, command_from_ocpp
from portal.access import STAFF_ROLES, guard
from portal.api.common import ApiError, forbid_unless, json_body
from portal.api.stations import station_or_404
from portal.configuration.views_security_profile import who
from portal.context import get_gateway, get_store

__all__ = ["COMMANDS", "MAX_TIMEOUT", "bp", "ocpp_action"]

bp = guard(Blueprint("commands", __name__), STAFF_ROLES)

#: Every central-system operation (OCPP 1.6 and its security extension), by OCPP name.
COMMANDS = tuple(sorted(cls.action for cls in BY_KEBAB.values()))

#: The longest ``?timeout=`` a caller may ask for (seconds).
MAX_TIMEOUT = 300.0


def ocpp_action(kebab: str) -> str | None:
    """``remote-start-transaction`` → ``RemoteStartTransaction`` (None if unknown)."""
    cls = BY_KEBAB.get(kebab)
    return cls.action if cls is not None else None


@bp.get("/stations/<cbid>/certificate-requests")
async def certificate_requests(cbid: str) -> Any:
    """The station's newest SignCertificate requests: Pending (waiting for an external
    CA), Signing, Installed, Rejected or Failed, with what happened in ``detail``."""
    station = await station_or_404(cbid)
    rows = await get_store().read(certificate_requests_of, int(station["id"]))
    return {"items": [{k: iso_utc(v) for k, v in row.items()} for row in rows]}


async def _security_json(station_id: int) -> dict[str, Any]:
    facts = await get_store().read(security_of, station_id)
    installed = await get_store().read(installed_certificates_of, station_id)
    return {
        **{k: iso_utc(v) for k, v in facts.items()},
        "installedCertificates": {
            use: {k: iso_utc(v) for k, v in listed.items()} for use, listed in installed.items()
        },
    }


@bp.get("/stations/<cbid>/security")
async def station_security(cbid: str) -> Any:
    """The station's OCPP security profile (0-3), an upgrade it accepted and has not yet
    reconnected with, its client certificate (subject, expiry), and the certificates it
    last listed per use (``installedCertificates``: ``readAt``, ``installedSince`` when
    one was installed after that, ``certificates`` with their hash data)."""
    station = await station_or_404(cbid)
    return await _security_json(int(station["id"]))


@bp.put("/stations/<cbid>/security")
async def station_security_lower(cbid: str) -> Any:
    """Lower the stored security profile (administrators; database only, logged in the
    event log): ``{"securityProfile": N}`` below the current one. The gateway then accepts
    a weaker connection from the station. 409 for the same or a higher profile (raising is
    the ``security-profile`` control action, sent when the credentials are in place)."""
    forbid_unless("admin")
    station = await station_or_404(cbid)
    body = await json_body()
    if "securityProfile" not in body:
        raise ApiError(400, "bad-request", "securityProfile is required", field="securityProfile")
    wanted, by = body["securityProfile"], who()  # read here: the write runs in a thread
    previous, _ = await get_store().write(
        lambda: lower_security_profile(int(station["id"]), wanted, by=by, now=utcnow())
    )
    return {**await _security_json(int(station["id"])), "previousSecurityProfile": previous}


@bp.post("/stations/<cbid>/commands/<action>")
async def command(cbid: str, action: str) -> Any:
    """The body is the OCPP payload as on the wire; the answer is the station's CALLRESULT.
    ``?timeout=SECONDS`` bounds the wait behind earlier commands, the send and the answer."""
    forbid_unless("admin", "site-admin", "support")
    name = ocpp_action(action)
    if name is None:
        raise ApiError(
            404, "unknown-action", f"unknown command {action!r}", commands=sorted(BY_KEBAB)
        )
    await station_or_404(cbid)  # scope: other sites' stations do not exist
    payload = await json_body()
    timeout = command_timeout()
    gateway = get_gateway()
    gateway.check_payload(name, payload)  # the wire schema first: errors name its rules
    result = await gateway.send(cbid, command_from_ocpp(name, payload), timeout=timeout)
    return result.answer


def command_timeout() -> float | None:
    """``?timeout=SECONDS`` (0 < SECONDS <= 300): the command's one deadline, covering
    the wait behind earlier commands, the send and the answer. None: the gateway's default."""
    raw = request.args.get("timeout", "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_TIMEOUT:
        raise ApiError(
            400,
            "bad-request",
            f"timeout is a number of seconds, above 0 and at most {MAX_TIMEOUT:g}",
            field="timeout",
        )
    return value
