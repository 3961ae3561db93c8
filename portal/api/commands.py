"""``POST /api/v1/stations/{cbid}/commands/{action}``: any command of the gateway's API."""

from __future__ import annotations

import math
from typing import Any

import trio
from quart import Blueprint, request

from db.certificate_requests import certificate_requests_of
from db.config_errors import ConfigurationError
from db.passwords import hash_station_password
from db.station_settings import check_station_password, set_password_hash_of
from db.timezones import iso_utc
from gateway import COMMAND_ACTIONS
from portal.access import STAFF_ROLES, guard
from portal.api.common import ApiError, forbid_unless, json_body
from portal.api.stations import station_or_404
from portal.configuration.control import is_password_key
from portal.context import get_gateway, get_store

__all__ = ["COMMANDS", "bp", "ocpp_action"]

bp = guard(Blueprint("commands", __name__), STAFF_ROLES)

#: OCPP 1.6 operations a central system initiates, the security extension's included
#: (``install-certificate``, ``get-log``, ``signed-update-firmware``…: kebab-case in the URL).
COMMANDS = tuple(sorted(COMMAND_ACTIONS))
_BY_KEBAB = {
    "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-"): name
    for name in COMMANDS
}


def ocpp_action(kebab: str) -> str | None:
    """``remote-start-transaction`` → ``RemoteStartTransaction`` (None if unknown)."""
    return _BY_KEBAB.get(kebab)


@bp.get("/stations/<cbid>/certificate-requests")
async def certificate_requests(cbid: str) -> Any:
    """The station's newest SignCertificate requests: Pending (waiting for an external
    CA), Signing, Installed, Rejected or Failed, with what happened in ``detail``."""
    station = await station_or_404(cbid)
    rows = await get_store().read(certificate_requests_of, int(station["id"]))
    return {"items": [{k: iso_utc(v) for k, v in row.items()} for row in rows]}


@bp.post("/stations/<cbid>/commands/<action>")
async def command(cbid: str, action: str) -> Any:
    """The body is the OCPP payload as on the wire; the answer is the station's CALLRESULT."""
    forbid_unless("admin", "site-admin", "support")
    name = ocpp_action(action)
    if name is None:
        raise ApiError(
            404,
            "unknown-action",
            f"unknown command {action!r}",
            commands=sorted(_BY_KEBAB),
        )
    await station_or_404(cbid)  # scope: other sites' stations do not exist
    payload = await json_body()
    timeout = command_timeout()
    if name == "ChangeConfiguration" and is_password_key(str(payload.get("key", ""))):
        return await _change_password(cbid, payload, timeout)
    return await get_gateway().call(cbid, name, payload, timeout=timeout)


#: The longest ``?timeout=`` a caller may ask for (seconds).
MAX_TIMEOUT = 300.0


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


async def _change_password(cbid: str, payload: dict[str, Any], timeout: float | None) -> Any:
    """AuthorizationKey is the station's password: stored (hashed) when the station
    accepts it, or the station would be refused at its next connection."""
    value = payload.get("value")
    try:
        check_station_password(value if isinstance(value, str) else "")
    except ConfigurationError as exc:
        raise ApiError(400, "invalid", exc.message, field="value") from None
    assert isinstance(value, str)
    password_hash = await trio.to_thread.run_sync(hash_station_password, value)
    answer = await get_gateway().call(cbid, "ChangeConfiguration", payload, timeout=timeout)
    if answer.get("status") in ("Accepted", "RebootRequired"):
        await get_store().write(set_password_hash_of, cbid, password_hash)
    return answer
