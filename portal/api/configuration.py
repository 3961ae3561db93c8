"""``/api/v1`` for configuration (SPEC §9): settings, services, firmware images, diagnostics,
floor plans and positions, station Control actions, the OCPP keys table, the local list.

Same role rules as the pages: settings and services are written by administrators;
firmware images by administrators and support; the rest by staff within their site.
"""

from __future__ import annotations

from typing import Any

import trio
from quart import Blueprint, Response, request, send_file

from db.errors import DomainError
from db.ocpp.config_keys import list_keys
from db.ocpp.local_list import plan_local_list, sent_entries
from db.system.settings import update_settings
from db.system.timezones import iso_utc
from db.topology.nodes import get_floor
from db.topology.services import ensure_default_services, list_services, set_service_enabled
from db.topology.station_files import (
    delete_firmware,
    list_diagnostics,
    list_firmware,
    record_firmware,
)
from db.topology.station_settings import (
    floor_plan,
    get_outlet,
    outlet_external_ids,
    set_floor_plan,
    set_outlet_external_ids,
    set_station_positions,
    update_station_address,
)
from filestore.jpeg import InvalidImageError
from filestore.storage import FileNameError
from portal.access import STAFF_ROLES, guard
from portal.api.common import ApiError, check_numbers, forbid_unless, json_body, me
from portal.api.stations import outlet_or_404, station_or_404
from portal.configuration.control import ACTIONS, run_action
from portal.configuration.deps import (
    control_deps,
    diagnostics_file,
    effective_settings,
    files_state,
)
from portal.context import get_store

__all__ = ["bp"]

bp = guard(Blueprint("configuration_api", __name__), STAFF_ROLES)


async def _body_bytes() -> bytes:
    raw = await request.get_data()
    return raw if isinstance(raw, bytes) else raw.encode()


def _iso(value: Any) -> Any:
    return iso_utc(value)  # stored UTC: ISO 8601 with Z


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) for k, v in row.items()}


# --- system ----------------------------------------------------------------------------


@bp.get("/settings")
async def settings_read() -> Any:
    """System settings: name, description, OCPP and FTP addresses (administrators, support)."""
    forbid_unless("admin", "support")
    return await effective_settings()


@bp.put("/settings")
async def settings_write() -> Any:
    """Change system settings (administrators); the body maps setting keys to values."""
    forbid_unless("admin")
    body = await json_body()
    return await get_store().write(update_settings, {k: str(v) for k, v in body.items()})


@bp.get("/services")
async def services_list() -> Any:
    """Third-party services and whether each is enabled (administrators, support)."""
    forbid_unless("admin", "support")
    await get_store().write(ensure_default_services)
    return {"items": await get_store().read(list_services)}


@bp.put("/services/<int:service_id>")
async def service_write(service_id: int) -> Any:
    """Enable or disable a service: ``{"enabled": true}`` (administrators only)."""
    forbid_unless("admin")
    body = await json_body()
    if not isinstance(body.get("enabled"), bool):
        raise ApiError(400, "bad-request", "enabled is true or false", field="enabled")
    return await get_store().write(set_service_enabled, service_id, body["enabled"])


# --- firmware images ---------------------------------------------------------------------


@bp.get("/firmware")
async def firmware_list() -> Any:
    """Uploaded firmware images (administrators, support)."""
    forbid_unless("admin", "support")
    return {"items": [_jsonable(r) for r in await get_store().read(list_firmware)]}


@bp.post("/firmware")
async def firmware_upload() -> Any:
    """Upload an image: the raw body, with ``?filename=…&version=…`` (administrators, support)."""
    principal = forbid_unless("admin", "support")
    filename = request.args.get("filename", "")
    version = request.args.get("version", "")
    data = await _body_bytes()
    if not filename or not version:
        raise ApiError(400, "bad-request", "filename and version are required", field="filename")
    try:
        stored = await trio.to_thread.run_sync(files_state().files.save_firmware, filename, data)
    except FileNameError as exc:
        raise ApiError(400, "bad-request", str(exc), field="filename") from None
    image_id = await get_store().write(
        lambda: record_firmware(
            stored.name,
            version=version,
            size=stored.size,
            sha256=stored.sha256,
            user_id=principal.user_id,
        )
    )
    response: dict[str, Any] = {
        "id": image_id,
        "filename": stored.name,
        "version": version,
        "size": stored.size,
        "sha256": stored.sha256,
    }
    return response, 201


@bp.delete("/firmware/<int:image_id>")
async def firmware_delete(image_id: int) -> Any:
    """Delete an image (administrators, support)."""
    forbid_unless("admin", "support")
    name = await get_store().write(delete_firmware, image_id)
    await trio.to_thread.run_sync(files_state().files.remove_firmware, name)
    return {"deleted": name}


# --- diagnostics ------------------------------------------------------------------------


@bp.get("/stations/<cbid>/diagnostics")
async def diagnostics_list(cbid: str) -> Any:
    """Log files the station uploaded (GetDiagnostics), newest first."""
    station = await station_or_404(cbid)
    files = await get_store().read(list_diagnostics, station["id"])
    return {"items": [_jsonable(f) for f in files]}


@bp.get("/diagnostics/<int:file_id>")
async def diagnostics_download(file_id: int) -> Any:
    """Download one uploaded log file."""
    view, path = await diagnostics_file(file_id)
    return await send_file(path, as_attachment=True, attachment_filename=view["filename"])


# --- floors -----------------------------------------------------------------------------


async def _floor_in_scope(floor_id: int) -> None:
    floor = await get_store().read(get_floor, floor_id)
    scope = me().site_scope
    if scope is not None and floor.site_id != scope:
        raise ApiError(404, "not-found", f"no floor {floor_id}")


@bp.get("/floors/<int:floor_id>/plan")
async def floor_plan_read(floor_id: int) -> Any:
    """The floor plan JPEG."""
    await _floor_in_scope(floor_id)
    data = await get_store().read(floor_plan, floor_id)
    if data is None:
        raise ApiError(404, "not-found", "this floor has no plan")
    return Response(data, mimetype="image/jpeg")


@bp.put("/floors/<int:floor_id>/plan")
async def floor_plan_write(floor_id: int) -> Any:
    """Replace the floor plan: the body is a JPEG of at most 2 MB (checked by content)."""
    await _floor_in_scope(floor_id)
    data = await _body_bytes()
    try:
        await get_store().write(set_floor_plan, floor_id, data)
    except InvalidImageError as exc:
        raise ApiError(400, "invalid-image", str(exc), field="plan") from None
    return {"floorId": floor_id, "size": len(data)}


@bp.put("/floors/<int:floor_id>/positions")
async def floor_positions(floor_id: int) -> Any:
    """Place stations on the plan: ``{"positions": {"<station id>": [x, y] | null}}``, 0..1."""
    await _floor_in_scope(floor_id)
    body = await json_body()
    raw = body.get("positions")
    if not isinstance(raw, dict):
        raise ApiError(400, "bad-request", "positions is an object", field="positions")
    try:
        positions = {
            int(k): (None if v is None else (float(v[0]), float(v[1]))) for k, v in raw.items()
        }
    except (TypeError, ValueError, IndexError):
        raise ApiError(400, "bad-request", "a position is [x, y]", field="positions") from None
    await get_store().write(set_station_positions, floor_id, positions)
    return {"saved": len(positions)}


# --- outlets ----------------------------------------------------------------------------


@bp.get("/outlets/<uuid>/external-ids")
async def external_ids_read(uuid: str) -> Any:
    """The outlet's identifier on each active service."""
    outlet = await outlet_or_404(uuid)
    return {"items": await get_store().read(outlet_external_ids, outlet["id"])}


@bp.put("/outlets/<uuid>/external-ids")
async def external_ids_write(uuid: str) -> Any:
    """Set identifiers: ``{"<service id>": "<external id>"}`` (active services only)."""
    outlet = await outlet_or_404(uuid)
    body = await json_body()
    try:
        values = {int(k): str(v) for k, v in body.items()}
    except ValueError:
        raise ApiError(400, "bad-request", "keys are service ids") from None
    await get_store().read(get_outlet, outlet["id"])
    await get_store().write(set_outlet_external_ids, outlet["id"], values)
    return {"items": await get_store().read(outlet_external_ids, outlet["id"])}


# --- station control and configuration ------------------------------------------------------


@bp.post("/stations/<cbid>/control/<action>")
async def station_control(cbid: str, action: str) -> Any:
    """A Control action as in the portal (reset, remote-start, update-firmware, send-local-list,
    get-diagnostics, …): builds the OCPP request, sends it, returns the station's answer.
    409 when the station is offline (nothing sent)."""
    await station_or_404(cbid)
    if action not in ACTIONS:
        raise ApiError(404, "not-found", f"unknown action {action!r}; one of {sorted(ACTIONS)}")
    body = await request.get_json(force=True, silent=True)
    params = body if isinstance(body, dict) else {}
    check_numbers(params)
    result = await run_action(await control_deps(), cbid, action, params, role=me().role)
    return result.public()


@bp.put("/stations/<cbid>/address")
async def station_address(cbid: str) -> Any:
    """The station's own address (when not on a floor): country, city, street,
    streetNumber, latitude, longitude; missing fields are left as they are."""
    station = await station_or_404(cbid)
    body = await json_body()
    names = {
        "country": "country",
        "city": "city",
        "street": "street",
        "streetNumber": "street_number",
        "latitude": "latitude",
        "longitude": "longitude",
    }
    values = {names[k]: v for k, v in body.items() if k in names}
    await get_store().write(update_station_address, station["id"], values)
    from db.topology.nodes import get_station
    from db.topology.station_settings import station_view

    view = station_view(await get_store().read(get_station, station["id"]))
    return {camel: view[snake] for camel, snake in names.items()}


@bp.get("/stations/<cbid>/configuration")
async def configuration_read(cbid: str) -> Any:
    """The station's OCPP configuration keys as last read (readonly and risky flags)."""
    station = await station_or_404(cbid)
    keys = await get_store().read(list_keys, station["id"])
    return {"items": [_jsonable(k) for k in keys]}


@bp.put("/stations/<cbid>/configuration/<key>")
async def configuration_write(cbid: str, key: str) -> Any:
    """ChangeConfiguration: ``{"value": "…"}``; the answer is Accepted, Rejected,
    RebootRequired or NotSupported. Read-only keys are refused here (400)."""
    await station_or_404(cbid)
    body = await json_body()
    params = {"key": key, "value": str(body.get("value", ""))}
    result = await run_action(
        await control_deps(), cbid, "change-configuration", params, role=me().role
    )
    return result.public()


@bp.post("/stations/<cbid>/configuration/reload")
async def configuration_reload(cbid: str) -> Any:
    """Re-read every key from the station (GetConfiguration) and return the table."""
    station = await station_or_404(cbid)
    await run_action(await control_deps(), cbid, "get-configuration", {}, role=me().role)
    keys = await get_store().read(list_keys, station["id"])
    return {"items": [_jsonable(k) for k in keys]}


@bp.get("/stations/<cbid>/local-list")
async def local_list(cbid: str) -> Any:
    """The local list: version, what the station holds, what a differential would send."""
    station = await station_or_404(cbid)
    store = get_store()
    try:
        plan = await store.read(plan_local_list, station["id"], "Differential")
    except DomainError as exc:
        raise ApiError(400, "invalid", exc.message) from None
    held = await store.read(sent_entries, station["id"])
    return {
        "version": plan.version - 1,
        "held": sorted(held),
        "wanted": len(plan.wanted),
        "differential": {
            "changed": [e.id_tag for e in plan.entries],
            "removed": list(plan.removed),
        },
    }
