"""``/api/v1/stations`` and ``/api/v1/outlets``: list, read, create, update, delete,
station OCPP passwords, and start/stop charging on an outlet by its UUID (SPEC §9.5)."""

from __future__ import annotations

from functools import partial
from typing import Any

from quart import Blueprint, request

from db.system.timezones import iso_utc
from db.topology.inventory import (
    add_outlet,
    find_outlet,
    list_outlets,
    list_stations,
    remove_outlet,
    station_in_scope,
)
from db.topology.nodes import create_station, move_station, remove_station
from db.topology.station_settings import (
    generate_station_password,
    set_station_password,
    update_outlet,
    update_station,
)
from db.topology.topology import running_transaction
from gateway.commands import RemoteStartTransaction, RemoteStopTransaction
from portal.access import STAFF_ROLES, guard
from portal.api.common import (
    ApiError,
    forbid_unless,
    in_scope,
    json_body,
    me,
    optional_int,
    page_json,
    paging,
)
from portal.configuration.control import send_station_password
from portal.configuration.deps import control_deps
from portal.context import get_gateway, get_store
from portal.live import station_state

__all__ = ["bp", "station_or_404"]

bp = guard(Blueprint("stations", __name__), STAFF_ROLES)

#: Support configures stations but does not build the topology (SPEC §2).
TOPOLOGY_ROLES = ("admin", "site-admin")
CONFIGURE_ROLES = ("admin", "site-admin", "support")


async def station_or_404(charge_box_id: str) -> dict[str, Any]:
    """The station in the principal's scope, else 404 (other sites' stations do not exist)."""
    return await in_scope(station_in_scope, charge_box_id, "station")


async def outlet_or_404(uuid: str) -> dict[str, Any]:
    return await in_scope(find_outlet, uuid, "outlet")


def _with_live(station: dict[str, Any]) -> dict[str, Any]:
    state = station_state(get_gateway(), station["chargeBoxId"])
    station["online"] = state["online"]
    station["colour"] = state["colour"]
    for outlet in station.get("outlets", []):
        outlet["colour"] = state["outlets"].get(str(outlet["connectorId"]), state["colour"])
    return station


def _own_site(site_id: Any) -> None:
    """A site administrator builds only inside his site."""
    scope = me().site_scope
    if scope is not None and site_id is not None and site_id != scope:
        raise ApiError(404, "not-found", "no such site")


# --- stations ------------------------------------------------------------------


@bp.get("/stations")
async def stations_list() -> Any:
    """Filters: siteId, floorId, q (charge box id or name), online=true|false."""
    limit, offset = paging()
    online = request.args.get("online", "")
    if online not in ("", "true", "false"):
        raise ApiError(400, "bad-request", "online is true or false", field="online")
    live = list(get_gateway().online_stations())
    query = partial(
        list_stations,
        me().site_scope,
        site_id=optional_int("siteId"),
        floor_id=optional_int("floorId"),
        q=request.args.get("q", ""),
        charge_box_ids=live if online == "true" else None,
        exclude_charge_box_ids=live if online == "false" else None,
        limit=limit,
        offset=offset,
    )
    items, total = await get_store().read(query)
    return page_json([_with_live(s) for s in items], total, limit, offset)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return iso_utc(value)  # stored UTC: ISO 8601 with Z
    return value


@bp.get("/stations/<cbid>")
async def station_read(cbid: str) -> Any:
    """One station with its outlets, live colour and the gateway's live snapshot
    (connector status, error code, running transaction, meter, power)."""
    station = _with_live(await station_or_404(cbid))
    snapshot = get_gateway().snapshot(cbid)
    station["live"] = snapshot.as_json() if snapshot is not None else None
    return station


@bp.post("/stations")
async def station_create() -> Any:
    forbid_unless(*TOPOLOGY_ROLES)
    body = await json_body()
    site_id, floor_id = body.get("siteId"), body.get("floorId")
    if me().site_scope is not None and site_id is None and floor_id is None:
        site_id = me().site_scope
    _own_site(site_id)
    if floor_id is not None:
        from db.topology.inventory import find_floor

        floor = await get_store().read(find_floor, int(floor_id), me().site_scope)
        if floor is None:
            raise ApiError(404, "not-found", "no such floor")
    create = partial(
        create_station,
        str(body.get("chargeBoxId", "")),
        site_id=site_id,
        floor_id=floor_id,
        name=str(body.get("name", "")),
        description=str(body.get("description", "")),
        node_type=str(body.get("nodeType", "station")),
        outlets=int(body.get("outlets", 1)),
        protocol=str(body.get("protocol", "1.6")),
    )
    await get_store().write(create)
    return await station_or_404(str(body.get("chargeBoxId", "")).strip()), 201


@bp.patch("/stations/<cbid>")
async def station_update(cbid: str) -> Any:
    forbid_unless(*CONFIGURE_ROLES)
    station = await station_or_404(cbid)
    body = await json_body()
    if any(k in body for k in ("name", "description", "chargeBoxId", "protocol")):
        change = partial(
            update_station,
            station["id"],
            name=str(body.get("name", station["name"])),
            description=str(body.get("description", station["description"])),
            charge_box_id=body.get("chargeBoxId"),
            protocol=body.get("protocol"),
        )
        await get_store().write(change)
    if "siteId" in body or "floorId" in body:
        forbid_unless(*TOPOLOGY_ROLES)
        site_id = body.get("siteId", station["siteId"] if "floorId" not in body else None)
        _own_site(site_id)
        if body.get("floorId") is not None:
            from db.topology.inventory import find_floor

            if await get_store().read(find_floor, int(body["floorId"]), me().site_scope) is None:
                raise ApiError(404, "not-found", "no such floor")
        move = partial(move_station, station["id"], site_id=site_id, floor_id=body.get("floorId"))
        await get_store().write(move)
    return _with_live(await station_or_404(str(body.get("chargeBoxId") or cbid)))


@bp.delete("/stations/<cbid>")
async def station_delete(cbid: str) -> Any:
    forbid_unless(*TOPOLOGY_ROLES)
    station = await station_or_404(cbid)
    await get_store().write(remove_station, station["id"])
    return "", 204


@bp.put("/stations/<cbid>/password")
async def station_password(cbid: str) -> Any:
    """Set the station's OCPP password (``{"password": …}``, or ``{"generate": true}``
    to get a new one back once). By default it is sent to the connected station first
    (ChangeConfiguration of AuthorizationKey) and stored only when the station accepts
    (409 offline, 409 ``not-accepted`` with its answer otherwise);
    ``"sendToStation": false`` sets it in the database only (a station not installed
    yet). ``{"password": null}`` removes it (database only)."""
    forbid_unless(*CONFIGURE_ROLES)
    station = await station_or_404(cbid)
    body = await json_body()
    send = body.get("sendToStation", True)
    if not isinstance(send, bool):
        raise ApiError(400, "bad-request", "sendToStation must be a boolean", field="sendToStation")
    password = generate_station_password() if body.get("generate") else body.get("password")
    if password is not None and not isinstance(password, str):
        raise ApiError(400, "bad-request", "password must be a string", field="password")
    answer: dict[str, Any] = {"chargeBoxId": cbid, "hasPassword": bool(password)}
    if send and password:
        result = await send_station_password(await control_deps(), cbid, password, role=me().role)
        if not result.extra.get("passwordStored"):
            raise ApiError(
                409,
                "not-accepted",
                result.message,
                field="password",
                stationAnswer=result.answer,
            )
        answer["stationAnswer"] = result.answer
    else:
        await get_store().write(set_station_password, station["id"], password)
    if body.get("generate"):
        answer["password"] = password
    return answer


# --- outlets -------------------------------------------------------------------


@bp.get("/outlets")
async def outlets_list() -> Any:
    """Filters: chargeBoxId, mode (OPEN | RFID)."""
    limit, offset = paging()
    query = partial(
        list_outlets,
        me().site_scope,
        charge_box_id=request.args.get("chargeBoxId", ""),
        mode=request.args.get("mode", ""),
        limit=limit,
        offset=offset,
    )
    items, total = await get_store().read(query)
    return page_json(items, total, limit, offset)


@bp.get("/outlets/<uuid>")
async def outlet_read(uuid: str) -> Any:
    outlet = await outlet_or_404(uuid)
    state = station_state(get_gateway(), outlet["chargeBoxId"])
    outlet["colour"] = state["outlets"].get(str(outlet["connectorId"]), state["colour"])
    return outlet


@bp.post("/stations/<cbid>/outlets")
async def outlet_create(cbid: str) -> Any:
    forbid_unless(*TOPOLOGY_ROLES)
    station = await station_or_404(cbid)
    body = await json_body()
    create = partial(
        add_outlet,
        station["id"],
        int(body.get("connectorId", 0)),
        str(body.get("connectorType", "Type 2")),
        str(body.get("mode", "RFID")),
    )
    uuid = await get_store().write(create)
    return await outlet_or_404(uuid), 201


@bp.patch("/outlets/<uuid>")
async def outlet_update(uuid: str) -> Any:
    forbid_unless(*CONFIGURE_ROLES)
    outlet = await outlet_or_404(uuid)
    body = await json_body()
    change = partial(
        update_outlet,
        outlet["id"],
        connector_type=str(body.get("connectorType", outlet["connectorType"])),
        parking=str(body.get("parking", outlet["parking"])),
        mode=str(body.get("mode", outlet["mode"])),
    )
    await get_store().write(change)
    return await outlet_or_404(uuid)


@bp.delete("/outlets/<uuid>")
async def outlet_delete(uuid: str) -> Any:
    forbid_unless(*TOPOLOGY_ROLES)
    await outlet_or_404(uuid)
    await get_store().write(remove_outlet, uuid)
    return "", 204


@bp.post("/outlets/<uuid>/start")
async def outlet_start(uuid: str) -> Any:
    """Start charging on this outlet for ``idTag`` (RemoteStartTransaction)."""
    forbid_unless(*CONFIGURE_ROLES)
    outlet = await outlet_or_404(uuid)
    body = await json_body()
    id_tag = body.get("idTag")
    if not isinstance(id_tag, str) or not id_tag:
        raise ApiError(400, "bad-request", "idTag is required", field="idTag")
    command = RemoteStartTransaction(id_tag=id_tag, connector_id=outlet["connectorId"])
    result = await get_gateway().send(outlet["chargeBoxId"], command)
    return {"outlet": uuid, "chargeBoxId": outlet["chargeBoxId"], "answer": result.answer}


@bp.post("/outlets/<uuid>/stop")
async def outlet_stop(uuid: str) -> Any:
    """Stop the session running on this outlet (RemoteStopTransaction); 409 when none runs."""
    forbid_unless(*CONFIGURE_ROLES)
    outlet = await outlet_or_404(uuid)
    gateway = get_gateway()
    snapshot = gateway.snapshot(outlet["chargeBoxId"])
    live = snapshot.connector(outlet["connectorId"]) if snapshot is not None else None
    transaction_id = live.transaction_id if live is not None else None
    if transaction_id is None:
        transaction_id = await get_store().read(running_transaction, outlet["id"])
    if transaction_id is None:
        raise ApiError(409, "no-session", "no charging session is running on this outlet")
    command = RemoteStopTransaction(transaction_id=int(transaction_id))
    result = await gateway.send(outlet["chargeBoxId"], command)
    return {"outlet": uuid, "transactionId": transaction_id, "answer": result.answer}
