"""``/api/v1/sites`` and ``/api/v1/floors``: list, read, create, update, delete."""

from __future__ import annotations

from functools import partial
from typing import Any

from quart import Blueprint, request

from db.topology.inventory import find_floor, find_site, list_floors, list_sites
from db.topology.nodes import create_floor, create_site, remove_floor, remove_site
from db.topology.station_settings import update_floor, update_site, update_site_address
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
from portal.context import get_store

__all__ = ["bp"]

bp = guard(Blueprint("topology", __name__), STAFF_ROLES)

ADDRESS_KEYS = {
    "country": "country",
    "city": "city",
    "street": "street",
    "streetNumber": "street_number",
    "latitude": "latitude",
    "longitude": "longitude",
}


async def _site(site_id: int) -> dict[str, Any]:
    return await in_scope(find_site, site_id, "site")


async def _floor(floor_id: int) -> dict[str, Any]:
    return await in_scope(find_floor, floor_id, "floor")


@bp.get("/sites")
async def sites_list() -> Any:
    """Filter: q (name or city)."""
    limit, offset = paging()
    query = partial(
        list_sites, me().site_scope, request.args.get("q", ""), limit=limit, offset=offset
    )
    items, total = await get_store().read(query)
    return page_json(items, total, limit, offset)


@bp.get("/sites/<int:site_id>")
async def site_read(site_id: int) -> Any:
    return await _site(site_id)


@bp.post("/sites")
async def site_create() -> Any:
    forbid_unless("admin")
    body = await json_body()
    create = partial(
        create_site,
        str(body.get("name", "")),
        str(body.get("identification", "")),
        str(body.get("description", "")),
    )
    site_id = await get_store().write(create)
    address = {v: body[k] for k, v in ADDRESS_KEYS.items() if k in body}
    if address:
        await get_store().write(update_site_address, site_id, address)
    return await _site(site_id), 201


@bp.patch("/sites/<int:site_id>")
async def site_update(site_id: int) -> Any:
    forbid_unless("admin", "site-admin")
    site = await _site(site_id)
    body = await json_body()
    if any(k in body for k in ("name", "identification", "description")):
        change = partial(
            update_site,
            site_id,
            name=str(body.get("name", site["name"])),
            identification=str(body.get("identification", site["identification"])),
            description=str(body.get("description", site["description"])),
        )
        await get_store().write(change)
    address = {v: body.get(k, site[k]) for k, v in ADDRESS_KEYS.items()}
    if any(k in body for k in ADDRESS_KEYS):
        await get_store().write(update_site_address, site_id, address)
    return await _site(site_id)


@bp.delete("/sites/<int:site_id>")
async def site_delete(site_id: int) -> Any:
    forbid_unless("admin")
    await _site(site_id)
    await get_store().write(remove_site, site_id)
    return "", 204


@bp.get("/floors")
async def floors_list() -> Any:
    """Filter: siteId."""
    limit, offset = paging()
    query = partial(
        list_floors, me().site_scope, optional_int("siteId"), limit=limit, offset=offset
    )
    items, total = await get_store().read(query)
    return page_json(items, total, limit, offset)


@bp.get("/floors/<int:floor_id>")
async def floor_read(floor_id: int) -> Any:
    return await _floor(floor_id)


@bp.post("/floors")
async def floor_create() -> Any:
    forbid_unless("admin", "site-admin")
    body = await json_body()
    site_id = body.get("siteId", me().site_scope)
    if not isinstance(site_id, int):
        raise ApiError(400, "bad-request", "siteId (an integer) is required", field="siteId")
    await _site(site_id)
    floor_id = await get_store().write(create_floor, site_id, str(body.get("name", "")))
    return await _floor(floor_id), 201


@bp.patch("/floors/<int:floor_id>")
async def floor_update(floor_id: int) -> Any:
    forbid_unless("admin", "site-admin")
    floor = await _floor(floor_id)
    body = await json_body()
    change = partial(
        update_floor,
        floor_id,
        name=str(body.get("name", floor["name"])),
        plan_name=str(body.get("planName", floor["planName"])),
    )
    await get_store().write(change)
    return await _floor(floor_id)


@bp.delete("/floors/<int:floor_id>")
async def floor_delete(floor_id: int) -> Any:
    forbid_unless("admin", "site-admin")
    await _floor(floor_id)
    await get_store().write(remove_floor, floor_id)
    return "", 204
