"""Station level (SPEC §9.4): General, Address, Control (live), OCPP configuration; diagnostics."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from quart import Response, flash, render_template, request, send_file

from db.config_errors import ConfigurationError
from db.errors import DomainError, NotAllowed
from db.ocpp.certificate_requests import certificate_requests_of
from db.ocpp.config_keys import is_risky_key, list_keys
from db.ocpp.local_list import wanted_entries
from db.ocpp.security_profiles import PROFILE_NAMES
from db.ocpp.station_control import reservations_of, running_transactions
from db.topology.nodes import PROTOCOLS, get_station
from db.topology.station_files import list_diagnostics, list_firmware
from db.topology.station_settings import (
    generate_station_password,
    set_station_password,
    station_outlets,
    station_view,
    update_station,
    update_station_address,
)
from db.topology.topology import NodeRef
from portal.configuration import bp
from portal.configuration.control import (
    ACTIONS,
    OCPP16_ONLY,
    PASSWORD_DOINGS,
    TRIGGERS,
    ActionResult,
    run_action,
    send_station_password,
)
from portal.configuration.control_security import CERTIFICATE_USES, EXTENDED_TRIGGERS
from portal.configuration.deps import control_deps, diagnostics_file, role
from portal.configuration.pages import back_to, loader, node_in_scope, refused, render_tab
from portal.configuration.views_certificates import (
    CERTIFICATE_ACTIONS,
    certificates_context,
    may_manage_certificates,
)
from portal.configuration.views_security_profile import lower_choices_for
from portal.context import get_gateway, get_store
from portal.errors import REFUSALS, page_error
from portal.live import station_state
from portal.timefmt import display_zone


async def _station_node(station_id: int) -> tuple[NodeRef, dict[str, Any]]:
    node = await node_in_scope("station", station_id)
    return node, station_view(await get_store().read(get_station, station_id))


@loader("station", "general")
async def _general(node: NodeRef) -> dict[str, Any]:
    assert node.id is not None
    _, station = await _station_node(node.id)
    return {
        "station": station,
        "protocols": PROTOCOLS,
        "profile_names": PROFILE_NAMES,
        "state": station_state(get_gateway(), station["charge_box_id"]),
        "lower_choices": await lower_choices_for(node.id),
    }


@loader("station", "address")
async def _address(node: NodeRef) -> dict[str, Any]:
    from db.system.settings import get_settings

    assert node.id is not None
    _, station = await _station_node(node.id)
    settings = await get_store().read(get_settings)
    return {"station": station, "tile_url": settings.get("map.tile_url", "")}


def _accepted_hint(station_id: int) -> dict[str, Any]:
    """Up to 200 badges for the Remote start field's suggestions (not every badge)."""
    return wanted_entries(station_id, accepted_first=200)


@loader("station", "control")
async def _control(node: NodeRef) -> dict[str, Any]:
    assert node.id is not None
    _, station = await _station_node(node.id)
    store = get_store()
    cbid = station["charge_box_id"]
    listed = may_manage_certificates() and station.get("protocol") != "1.5"
    certificates = await certificates_context(node.id) if listed else {"installed": None}
    return {
        **certificates,
        "station": station,
        "state": station_state(get_gateway(), cbid),
        "outlets": await store.read(station_outlets, node.id),
        "running": await store.read(running_transactions, cbid),
        "reservations": await store.read(reservations_of, cbid),
        "images": await store.read(list_firmware),
        "diagnostics": await store.read(list_diagnostics, node.id),
        "certificate_requests": await store.read(certificate_requests_of, node.id, 3),
        "known_tags": [
            e.id_tag
            for e in (await store.read(_accepted_hint, node.id)).values()
            if e.status == "Accepted"
        ],
        "triggers": TRIGGERS,
        "extended_triggers": EXTENDED_TRIGGERS,
        "certificate_uses": CERTIFICATE_USES,
        "profile_names": PROFILE_NAMES,
        "actions": {name: spec for name, spec in ACTIONS.items() if role() in spec.roles},
        # buttons of commands the station's protocol lacks: disabled, with the reason
        "not_in_protocol": OCPP16_ONLY if station.get("protocol") == "1.5" else frozenset(),
    }


@loader("station", "ocpp")
async def _ocpp(node: NodeRef) -> dict[str, Any]:
    assert node.id is not None
    _, station = await _station_node(node.id)
    return {
        "station": station,
        "state": station_state(get_gateway(), station["charge_box_id"]),
        "keys": await get_store().read(list_keys, node.id),
    }


# --- General / Address ----------------------------------------------------------------


@bp.post("/stations/<int:station_id>/general")
async def station_general(station_id: int) -> Any:
    node, station = await _station_node(station_id)
    form = dict(await request.form)
    try:
        result = await get_store().write(
            lambda: update_station(
                station_id,
                name=form.get("name", ""),
                description=form.get("description", ""),
                charge_box_id=form.get("charge_box_id", station["charge_box_id"]),
                protocol=form.get("protocol", station["protocol"]),
                soap_endpoint=form.get("soap_endpoint"),
            )
        )
    except DomainError as exc:
        return await refused("general", node, exc, form)
    if result["charge_box_id_changed"]:
        await flash(
            f"Charge box id changed from {result['previous_charge_box_id']} to "
            f"{result['charge_box_id']}: configure the same id in the station, or it can no "
            "longer connect."
        )
    else:
        await flash("Station saved.")
    return back_to("general", node.key)


@bp.post("/stations/<int:station_id>/password")
async def station_password(station_id: int) -> Any:
    """Change the OCPP password: sent to the connected station first (ChangeConfiguration
    of AuthorizationKey, OCA TC_073) and stored only when it accepts; or, for a station
    not installed yet, set in the database only (``do=database``); or cleared."""
    node, station = await _station_node(station_id)
    form = dict(await request.form)
    do = str(form.get("do") or "send")
    if do not in PASSWORD_DOINGS:
        return await refused(
            "general", node, ConfigurationError("Unknown password action.", field="password"), {}
        )
    generated = None
    password = str(form.get("password", ""))
    if do.startswith("generate"):
        password = generated = generate_station_password()
    if do in ("send", "generate-send"):
        try:
            result = await send_station_password(
                await control_deps(), station["charge_box_id"], password, role=role()
            )
        except NotAllowed:
            raise  # the 403 page
        except REFUSALS as exc:
            status, message = page_error(exc)
            return await render_tab(
                "general",
                node=node,
                errors={"password": message},
                notice=message,
                notice_kind="error",
                status=status,
            )
        if not result.extra.get("passwordStored"):
            return await render_tab(
                "general",
                node=node,
                errors={"password": result.message},
                notice=result.message,
                notice_kind="error",
                status=409,
            )
        if generated:  # shown once: the station has it, people may need it too
            return await render_tab(
                "general",
                node=node,
                notice=f"{result.message} The new password (shown once): {generated}",
                form={"generated_password": generated},
            )
        await flash(result.message)
        return back_to("general", node.key)
    try:
        await get_store().write(
            set_station_password, station_id, None if do == "clear" else password or None
        )
    except DomainError as exc:
        return await refused("general", node, exc, {})
    if generated:
        return await render_tab(
            "general",
            node=node,
            notice=f"New OCPP password (shown once, copy it into the station): {generated}",
            form={"generated_password": generated},
        )
    if do == "clear" or not password:
        await flash("OCPP password cleared: the station connects without authentication.")
    else:
        await flash("OCPP password set in the database only: configure it in the station.")
    return back_to("general", node.key)


@bp.post("/stations/<int:station_id>/address")
async def station_address(station_id: int) -> Any:
    node, _ = await _station_node(station_id)
    form = dict(await request.form)
    keys = ("country", "city", "street", "street_number", "latitude", "longitude")
    try:
        await get_store().write(
            update_station_address, station_id, {k: form.get(k, "") for k in keys if k in form}
        )
    except DomainError as exc:
        return await refused("address", node, exc, form)
    await flash("Address saved.")
    return back_to("address", node.key)


# --- Control ----------------------------------------------------------------------------


async def _result_fragment(
    result: ActionResult | None, error: str | None, status: int, *, trigger: str = ""
) -> Any:
    html = await render_template(
        "configuration/_result.html", result=result, error=error, status=status
    )
    hx = bool(request.headers.get("HX-Request"))
    response = Response(html, status=200 if hx else status, mimetype="text/html")
    if trigger:  # htmx fires it: parts of the page that follow the action re-read
        response.headers["HX-Trigger"] = trigger
    return response


@bp.post("/stations/<int:station_id>/control/<action>")
async def station_control(station_id: int, action: str) -> Any:
    _, station = await _station_node(station_id)
    form = {k: v for k, v in (await request.form).items() if k != "csrf_token"}
    deps = replace(await control_deps(), zone=display_zone())  # the form's times are local
    try:
        result = await run_action(deps, station["charge_box_id"], action, form, role=role())
    except NotAllowed:
        raise  # the 403 page
    except REFUSALS as exc:
        status, message = page_error(exc)
        return await _result_fragment(None, message, status)
    trigger = "cp:certificates" if action in CERTIFICATE_ACTIONS else ""
    return await _result_fragment(result, None, 200, trigger=trigger)


@bp.get("/stations/<int:station_id>/diagnostics")
async def station_diagnostics(station_id: int) -> Any:
    await _station_node(station_id)
    files = await get_store().read(list_diagnostics, station_id)
    return await render_template("configuration/_diagnostics.html", diagnostics=files)


@bp.get("/diagnostics/<int:file_id>")
async def diagnostics_download(file_id: int) -> Any:
    view, path = await diagnostics_file(file_id)
    return await send_file(path, as_attachment=True, attachment_filename=view["filename"])


# --- OCPP configuration ------------------------------------------------------------------


@bp.post("/stations/<int:station_id>/ocpp")
async def ocpp_save(station_id: int) -> Any:
    """Save one key (ChangeConfiguration); the answer shows in the row."""
    _, station = await _station_node(station_id)
    form = await request.form
    key = str(form.get("key", ""))
    deps = await control_deps()
    params = {"key": key, "value": str(form.get("value", ""))}  # checked by the command
    try:
        result = await run_action(
            deps, station["charge_box_id"], "change-configuration", params, role=role()
        )
    except NotAllowed:
        raise
    except REFUSALS as exc:
        status, message = page_error(exc)
        return await _result_fragment(None, message, status)
    result.extra["risky"] = is_risky_key(key)
    return await _result_fragment(result, None, 200)


@bp.post("/stations/<int:station_id>/ocpp/reload")
async def ocpp_reload(station_id: int) -> Any:
    """ "Upload configuration": re-read every key from the station (GetConfiguration)."""
    node, station = await _station_node(station_id)
    deps = await control_deps()
    try:
        result = await run_action(
            deps, station["charge_box_id"], "get-configuration", {}, role=role()
        )
    except NotAllowed:
        raise
    except REFUSALS as exc:
        status, message = page_error(exc)
        return await render_tab(
            "ocpp", node=node, notice=message, notice_kind="error", status=status
        )
    return await render_tab("ocpp", node=node, notice=result.message)
