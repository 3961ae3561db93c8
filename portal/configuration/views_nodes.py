"""Site, floor and outlet levels (SPEC §9.2, §9.3, §9.5): general, address, plan, positions."""

from __future__ import annotations

from typing import Any

from quart import Response, flash, jsonify, request

from db.config_errors import ConfigurationError
from db.errors import DomainError
from db.system.settings import get_settings
from db.topology.nodes import get_floor, get_site
from db.topology.station_settings import (
    CONNECTOR_TYPES,
    OUTLET_MODES,
    floor_plan,
    floor_stations,
    floor_view,
    get_outlet,
    outlet_external_ids,
    outlet_view,
    set_floor_plan,
    set_outlet_external_ids,
    set_station_positions,
    site_view,
    update_floor,
    update_outlet,
    update_site,
    update_site_address,
)
from db.topology.topology import NodeRef
from filestore.jpeg import InvalidImageError
from portal.access import not_found
from portal.configuration import bp
from portal.configuration.pages import back_to, loader, node_in_scope, refused
from portal.context import get_gateway, get_store
from portal.live import station_state


async def _site_node(site_id: int) -> NodeRef:
    return await node_in_scope("site", site_id)


# --- site ---------------------------------------------------------------------------


@loader("site", "general")
async def _site_general(node: NodeRef) -> dict[str, Any]:
    assert node.id is not None
    return {"site": site_view(await get_store().read(get_site, node.id))}


@loader("site", "address")
async def _site_address(node: NodeRef) -> dict[str, Any]:
    assert node.id is not None
    settings = await get_store().read(get_settings)
    return {
        "site": site_view(await get_store().read(get_site, node.id)),
        "tile_url": settings.get("map.tile_url", ""),
    }


@bp.post("/sites/<int:site_id>/general")
async def site_general(site_id: int) -> Any:
    node = await _site_node(site_id)
    form = dict(await request.form)
    try:
        await get_store().write(
            lambda: update_site(
                site_id,
                name=form.get("name", ""),
                identification=form.get("identification", ""),
                description=form.get("description", ""),
                time_zone=form.get("time_zone"),
            )
        )
    except DomainError as exc:
        return await refused("general", node, exc, form)
    await flash("Site saved.")
    return back_to("general", node.key)


ADDRESS_KEYS = ("country", "city", "street", "street_number", "latitude", "longitude")


@bp.post("/sites/<int:site_id>/address")
async def site_address(site_id: int) -> Any:
    node = await _site_node(site_id)
    form = dict(await request.form)
    values = {k: form.get(k, "") for k in ADDRESS_KEYS if k in form}
    try:
        await get_store().write(update_site_address, site_id, values)
    except DomainError as exc:
        return await refused("address", node, exc, form)
    await flash("Address saved.")
    return back_to("address", node.key)


# --- floor --------------------------------------------------------------------------


async def _floor_node(floor_id: int) -> NodeRef:
    return await node_in_scope("floor", floor_id)


@loader("floor", "general")
async def _floor_general(node: NodeRef) -> dict[str, Any]:
    assert node.id is not None
    return {"floor": floor_view(await get_store().read(get_floor, node.id))}


@loader("floor", "positions")
async def _floor_positions(node: NodeRef) -> dict[str, Any]:
    assert node.id is not None
    floor = floor_view(await get_store().read(get_floor, node.id))
    stations = await get_store().read(floor_stations, node.id)
    gateway = get_gateway()
    for station in stations:
        station["state"] = station_state(gateway, station["charge_box_id"])
    return {"floor": floor, "stations": stations}


@bp.post("/floors/<int:floor_id>/general")
async def floor_general(floor_id: int) -> Any:
    node = await _floor_node(floor_id)
    form = dict(await request.form)
    files = await request.files
    upload = files.get("plan")
    try:
        await get_store().write(
            lambda: update_floor(
                floor_id, name=form.get("name", ""), plan_name=form.get("plan_name", "")
            )
        )
        if upload is not None and upload.filename:
            data = upload.read()
            await get_store().write(set_floor_plan, floor_id, data)
        elif form.get("remove_plan") == "1":
            await get_store().write(set_floor_plan, floor_id, None)
    except InvalidImageError as exc:
        return await refused("general", node, ConfigurationError(str(exc), field="plan"), form)
    except DomainError as exc:
        return await refused("general", node, exc, form)
    await flash("Floor saved.")
    return back_to("general", node.key)


@bp.get("/floors/<int:floor_id>/plan.jpg")
async def floor_plan_image(floor_id: int) -> Any:
    await _floor_node(floor_id)
    data = await get_store().read(floor_plan, floor_id)
    if data is None:
        raise not_found("this floor has no plan")
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.post("/floors/<int:floor_id>/positions")
async def floor_positions(floor_id: int) -> Any:
    """JSON ``{"positions": {station_id: [x, y] | null}}`` from the drag-and-drop page."""
    await _floor_node(floor_id)
    body = await request.get_json(force=True, silent=True) or {}
    raw = body.get("positions") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        response = jsonify(error="invalid", message="positions must be an object")
        response.status_code = 400
        return response
    try:
        positions = {
            int(k): (None if v is None else (float(v[0]), float(v[1]))) for k, v in raw.items()
        }
        await get_store().write(set_station_positions, floor_id, positions)
    except (ValueError, TypeError, IndexError):
        response = jsonify(error="invalid", message="a position is [x, y] between 0 and 1")
        response.status_code = 400
        return response
    except DomainError as exc:
        response = jsonify(error="invalid", message=exc.message)
        response.status_code = 400
        return response
    return jsonify(saved=len(positions), message="Positions saved.")


# --- outlet -------------------------------------------------------------------------


async def _outlet_node(outlet_id: int) -> tuple[NodeRef, dict[str, Any]]:
    node = await node_in_scope("outlet", outlet_id)
    return node, outlet_view(await get_store().read(get_outlet, outlet_id))


@loader("outlet", "general")
async def _outlet_general(node: NodeRef) -> dict[str, Any]:
    assert node.id is not None
    _, outlet = await _outlet_node(node.id)
    return {
        "outlet": outlet,
        "external_ids": await get_store().read(outlet_external_ids, node.id),
        "connector_types": CONNECTOR_TYPES,
        "modes": OUTLET_MODES,
    }


@bp.post("/outlets/<int:outlet_id>/general")
async def outlet_general(outlet_id: int) -> Any:
    node, _ = await _outlet_node(outlet_id)
    form = dict(await request.form)
    try:
        await get_store().write(
            lambda: update_outlet(
                outlet_id,
                connector_type=form.get("connector_type", ""),
                parking=form.get("parking", ""),
                mode=form.get("mode", ""),
            )
        )
        external = {
            int(key.split("_", 2)[2]): value
            for key, value in form.items()
            if key.startswith("external_id_") and key.split("_", 2)[2].isdigit()
        }
        if external:
            await get_store().write(set_outlet_external_ids, outlet_id, external)
    except DomainError as exc:
        return await refused("general", node, exc, form)
    await flash("Outlet saved.")
    return back_to("general", node.key)
