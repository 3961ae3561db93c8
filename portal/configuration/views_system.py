"""System level (SPEC §9.1): General settings, Topology, Services, firmware images; tab routing."""

from __future__ import annotations

from typing import Any

import trio
from quart import current_app, flash, request

from db.config_errors import ConfigurationError, NotFoundError
from db.errors import DomainError
from db.system.settings import SETTINGS, get_settings, update_settings
from db.topology.navigator import SMALL_TREE
from db.topology.nodes import (
    create_floor,
    create_site,
    create_station,
    get_floor,
    get_station,
    move_station,
    remove_floor,
    remove_site,
    remove_station,
    topology_tree,
)
from db.topology.services import ensure_default_services, list_services, set_service_enabled
from db.topology.station_files import delete_firmware, list_firmware, record_firmware
from db.topology.topology import SYSTEM, NodeRef, site_choices
from filestore.storage import FileNameError
from portal.access import current_principal
from portal.configuration import bp
from portal.configuration.deps import check_site, effective_settings, files_state
from portal.configuration.pages import (
    allowed,
    back_to,
    current_node,
    loader,
    refused,
    render_tab,
)
from portal.context import get_gateway, get_store
from portal.live import station_state
from portal.timefmt import forget_system_zone


@bp.get("/")
async def index() -> Any:
    return await render_tab(None)


@bp.get("/<tab>")
async def tab(tab: str) -> Any:
    return await render_tab(tab)


# --- General ----------------------------------------------------------------------


@loader("system", "general")
async def _general(node: NodeRef) -> dict[str, Any]:
    from portal.configuration.views_backup import backup_panel

    return {"specs": SETTINGS, "values": await effective_settings(), **await backup_panel()}


@bp.post("/system/general")
async def save_general() -> Any:
    allowed("admin")
    form = dict(await request.form)
    changes = {spec.key: form.get(spec.key, "") for spec in SETTINGS if spec.key in form}
    try:
        saved = await get_store().write(update_settings, changes)
    except DomainError as exc:
        return await refused("general", SYSTEM, exc, form)
    current_app.config["PORTAL_SYSTEM_NAME"] = saved["system.name"]
    forget_system_zone()  # the time zone applies from the next page on
    await flash("System settings saved.")
    return back_to("general", "system")


# --- Topology (system level: everything; site level: that site) ---------------------


#: A site's Topology tab lists this many stations a page (each with its move and remove
#: forms: 500 of them made a 500 KB page taking seconds).
TOPOLOGY_PAGE = 50


def _page_of(tree: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    """Keep in ``tree`` the stations of page ``wanted`` (floor by floor, then those directly
    under the site); each floor and site remembers its full count (``count``)."""
    groups = [floor for site in tree for floor in site["floors"]] + tree
    total = sum(len(group["stations"]) for group in groups)
    pages = max(1, -(-total // TOPOLOGY_PAGE))
    page = min(max(int(wanted), 1), pages) if wanted.isdigit() and len(wanted) < 8 else 1
    start = (page - 1) * TOPOLOGY_PAGE
    seen = 0
    for group in groups:
        stations = group["stations"]
        group["count"] = len(stations)
        group["stations"] = stations[max(0, start - seen) : max(0, start + TOPOLOGY_PAGE - seen)]
        seen += len(stations)
    return {
        "page": page,
        "pages": pages,
        "first": start + 1,
        "last": min(total, start + TOPOLOGY_PAGE),
    }


async def _topology(node: NodeRef) -> dict[str, Any]:
    principal = current_principal()
    assert principal is not None
    site_id = node.id if node.kind == "site" else principal.site_scope
    store = get_store()
    tree = await store.read(topology_tree, site_id)
    total = sum(
        len(site["stations"]) + sum(len(f["stations"]) for f in site["floors"]) for site in tree
    )
    # a whole fleet: the system level lists sites and floors, each site its stations
    compact = node.kind == "system" and total > SMALL_TREE
    paging = None
    if not compact and total > TOPOLOGY_PAGE:
        paging = _page_of(tree, request.args.get("page", ""))
    gateway = get_gateway()
    live = {}
    for site in tree:
        stations = list(site["stations"])
        for floor in site["floors"]:
            stations.extend(floor["stations"])
        for station in stations:
            live[station["charge_box_id"]] = station_state(gateway, station["charge_box_id"])
    sites = await store.read(site_choices, site_id)
    return {
        "tree": tree,
        "compact": compact,
        "station_total": total,
        "paging": paging,
        "topology_live": live,  # not "live": that is the frame's Navigator colours
        "site_options": sites,
        "site_level": node.kind == "site",
    }


loader("system", "topology")(_topology)
loader("site", "topology")(_topology)


def _int(form: dict[str, Any], key: str) -> int | None:
    raw = str(form.get(key) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{key} is a number.", field=key) from None


def _row_id(form: dict[str, Any], key: str) -> int | None:
    """A site or floor id from a form; 404 for one that cannot exist (SQLite would raise
    OverflowError past 2**63 instead of finding nothing)."""
    value = _int(form, key)
    if value is not None and not 0 < value < 2**63:
        raise NotFoundError(f"There is no {key.removesuffix('_id')} {value}.")
    return value


async def _parent_site(form: dict[str, Any]) -> tuple[int | None, int | None]:
    """(site id, floor id) from a form, each checked against the principal's site."""
    store = get_store()
    site_id, floor_id = _row_id(form, "site_id"), _row_id(form, "floor_id")
    if floor_id is not None:
        floor = await store.read(get_floor, floor_id)
        check_site(floor.site_id)
        site_id = site_id or floor.site_id
    if site_id is not None:
        check_site(site_id)
    return site_id, floor_id


#: Support configures stations but does not build the topology (the API's rule too).
BUILD_ROLES = ("admin", "site-admin")


def _topology_node(form: dict[str, Any]) -> NodeRef:
    allowed(*BUILD_ROLES)
    node = current_node()
    return node if node.kind in ("system", "site") else SYSTEM


@bp.post("/topology/sites")
async def topology_create_site() -> Any:
    allowed("admin")
    form = dict(await request.form)
    try:
        await get_store().write(
            create_site, form.get("name", ""), form.get("identification", ""), ""
        )
    except DomainError as exc:
        return await refused("topology", SYSTEM, exc, form)
    await flash(f"Site {form.get('name', '').strip()} created.")
    return back_to("topology", "system")


@bp.post("/topology/sites/<int:site_id>/remove")
async def topology_remove_site(site_id: int) -> Any:
    allowed("admin")
    try:
        await get_store().write(remove_site, site_id)
    except NotFoundError:
        raise
    except DomainError as exc:
        return await refused("topology", SYSTEM, exc, {})
    await flash("Site removed.")
    return back_to("topology", "system")


@bp.post("/topology/floors")
async def topology_create_floor() -> Any:
    form = dict(await request.form)
    node = _topology_node(form)
    try:
        site_id, _ = await _parent_site(form)
        await get_store().write(create_floor, site_id, form.get("name", ""))
    except DomainError as exc:
        return await refused("topology", node, exc, form)
    await flash(f"Floor {form.get('name', '').strip()} created.")
    return back_to("topology", node.key)


@bp.post("/topology/floors/<int:floor_id>/remove")
async def topology_remove_floor(floor_id: int) -> Any:
    node = _topology_node({})
    floor = await get_store().read(get_floor, floor_id)
    check_site(floor.site_id)
    try:
        await get_store().write(remove_floor, floor_id)
    except DomainError as exc:
        return await refused("topology", node, exc, {})
    await flash(f"Floor {floor.name} removed.")
    return back_to("topology", node.key)


@bp.post("/topology/stations")
async def topology_create_station() -> Any:
    form = dict(await request.form)
    node = _topology_node(form)
    kind, _, raw = str(form.get("parent", "")).partition(":")
    if kind in ("site", "floor") and raw.isdigit():
        form[f"{kind}_id"] = raw
    try:
        site_id, floor_id = await _parent_site(form)
        outlets = _int(form, "outlets") or 1
        await get_store().write(
            lambda: create_station(
                form.get("charge_box_id", ""),
                site_id=site_id,
                floor_id=floor_id,
                name=form.get("name", ""),
                node_type=form.get("node_type", "station"),
                outlets=outlets,
                protocol=form.get("protocol", "1.6"),
            )
        )
    except DomainError as exc:
        return await refused("topology", node, exc, form)
    await flash(f"Station {form.get('charge_box_id', '').strip()} created.")
    return back_to("topology", node.key)


@bp.post("/topology/stations/<int:station_id>/remove")
async def topology_remove_station(station_id: int) -> Any:
    node = _topology_node({})
    station = await get_store().read(get_station, station_id)
    check_site(station.site_id)
    cbid = await get_store().write(remove_station, station_id)
    note = (
        " It is still connected; its next connection will be refused."
        if get_gateway().is_online(cbid)
        else ""
    )
    await flash(f"Station {cbid} removed.{note}")
    return back_to("topology", node.key)


@bp.post("/topology/stations/<int:station_id>/move")
async def topology_move_station(station_id: int) -> Any:
    form = dict(await request.form)
    node = _topology_node(form)
    station = await get_store().read(get_station, station_id)
    check_site(station.site_id)
    target = str(form.get("target", ""))
    kind, _, raw = target.partition(":")
    try:
        if kind not in ("site", "floor") or not raw.isdigit():
            # no field: the move form of a row has no place for it, the notice says it
            raise ConfigurationError("Choose the site or floor to move to.")
        fields: dict[str, Any] = {"site_id": None, "floor_id": None}
        fields[f"{kind}_id"] = int(raw)
        site_id, floor_id = await _parent_site(fields)
        await get_store().write(
            lambda: move_station(station_id, site_id=site_id, floor_id=floor_id)
        )
    except DomainError as exc:
        return await refused("topology", node, exc, form)
    await flash(f"Station {station.charge_box_id} moved.")
    return back_to("topology", node.key)


# --- Services ---------------------------------------------------------------------


@loader("system", "services")
async def _services(node: NodeRef) -> dict[str, Any]:
    store = get_store()
    await store.write(ensure_default_services)
    services = await store.read(list_services)
    selected = request.args.get("service", type=int)
    chosen = next((s for s in services if s["id"] == selected), services[0] if services else None)
    return {"services": services, "chosen": chosen}


@bp.post("/services/<int:service_id>")
async def service_enable(service_id: int) -> Any:
    allowed("admin")
    form = await request.form
    enabled = form.get("enabled") == "1"
    service = await get_store().write(set_service_enabled, service_id, enabled)
    await flash(f"{service['name']} {'enabled' if enabled else 'disabled'}.")
    return back_to("services", "system")


# --- Firmware images --------------------------------------------------------------


@loader("system", "files")
async def _files(node: NodeRef) -> dict[str, Any]:
    state = files_state()
    settings = await get_store().read(get_settings)
    base = settings.get("files.http_base") or request.host_url.rstrip("/")
    return {
        "images": await get_store().read(list_firmware),
        "http_base": base,
        "ftp_running": state.ftp is not None,
        "ftp_port": state.ftp.port if state.ftp else None,
    }


@bp.post("/files/firmware")
async def firmware_upload() -> Any:
    allowed("admin", "support")
    form = dict(await request.form)
    files = await request.files
    upload = files.get("file")
    principal = current_principal()
    assert principal is not None
    try:
        if upload is None or not upload.filename:
            raise ConfigurationError("Choose the image file to upload.", field="file")
        data = upload.read()
        version = str(form.get("version", "")).strip()
        if not version:
            raise ConfigurationError(
                "Say which firmware version the image installs.", field="version"
            )
        state = files_state()
        try:
            stored = await trio.to_thread.run_sync(state.files.save_firmware, upload.filename, data)
        except FileNameError as exc:
            raise ConfigurationError(str(exc), field="file") from None
        await get_store().write(
            lambda: record_firmware(
                stored.name,
                version=version,
                size=stored.size,
                sha256=stored.sha256,
                user_id=principal.user_id,
            )
        )
    except DomainError as exc:
        return await refused("files", SYSTEM, exc, form)
    await flash(f"Firmware image {stored.name} ({stored.size} bytes) stored.")
    return back_to("files", "system")


@bp.post("/files/firmware/<int:image_id>/delete")
async def firmware_delete(image_id: int) -> Any:
    allowed("admin", "support")
    name = await get_store().write(delete_firmware, image_id)
    await trio.to_thread.run_sync(files_state().files.remove_firmware, name)
    await flash(f"Firmware image {name} deleted.")
    return back_to("files", "system")
