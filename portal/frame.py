"""The frame around every page: Navigator data, live colours (SSE), the news bell."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from quart import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from quart_auth import current_user
from werkzeug.exceptions import BadRequest

from db.accounts.accounts import get_user
from db.system.news import delete_news, latest_news, publish_news
from db.topology.navigator import navigator_view
from db.topology.topology import SYSTEM, Navigator, NodeRef, charge_box_ids_in_scope
from portal.access import ALL_ROLES, STAFF_ROLES, Principal, current_principal, guard, requires
from portal.context import get_gateway, get_state, get_store
from portal.live import sse_station_stream, station_state
from portal.navigator import live_colours, open_keys

__all__ = ["bp", "frame_data", "system_name"]

bp = guard(Blueprint("frame", __name__), ALL_ROLES)


def _frame_rows(
    site_scope: int | None, staff: bool, keys: list[str] | None, node: NodeRef
) -> tuple[Any, Navigator | None, str]:
    """News, the Navigator's shown part and system name in one trip to a database thread."""
    tree = navigator_view(site_scope, keys, node) if staff else None
    return latest_news(5), tree, system_name()


def system_name() -> str:
    """The system name of SPEC §9.1 General (a sync query)."""
    from db.system.settings import get_setting

    try:
        return get_setting("system.name") or "Charge Portal"
    except Exception:  # settings not migrated yet: the frame must still render
        return "Charge Portal"


async def frame_data(principal: Principal) -> dict[str, Any]:
    """Navigator tree (with live colours), news and system name for a full page."""
    staff = principal.role in STAFF_ROLES
    node: NodeRef = g.get("node") or SYSTEM
    news, tree, name = await get_store().read(
        _frame_rows, principal.site_scope, staff, open_keys(), node
    )
    data: dict[str, Any] = {"news": news, "navigator": tree, "system_name": name, "live": {}}
    data["current"] = node.key
    if tree is not None:
        data["live"] = live_colours(tree)
        data["lazy_outlets"] = tree.lazy
    return data


@bp.get("/")
async def root() -> Any:
    from portal.auth import home_url

    principal = current_principal()
    assert principal is not None  # guarded
    return redirect(home_url(principal))


@bp.get("/events/stations")
@requires(*STAFF_ROLES)
async def station_events() -> Any:
    """Server-sent events: station colours as they change (Navigator, floor plans…)."""
    principal = current_principal()
    assert principal is not None
    state = get_state()
    keepalive = float(current_app.config.get("PORTAL_SSE_KEEPALIVE", 15.0))
    max_seconds = float(current_app.config.get("PORTAL_SSE_MAX_SECONDS", 3600.0))
    recheck = float(current_app.config.get("PORTAL_SSE_RECHECK_SECONDS", 60.0))
    still_allowed = _session_still_valid(principal)

    async def stream() -> Any:
        state.sse_clients += 1
        try:
            async for chunk in sse_station_stream(
                state.gateway,
                principal.site_scope,
                keepalive=keepalive,
                max_seconds=max_seconds,
                all_sites=principal.site_scope is None,
                still_allowed=still_allowed,
                recheck=recheck,
            ):
                yield chunk
        finally:
            state.sse_clients -= 1

    response = Response(stream(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    response.timeout = None
    return response


def _session_still_valid(principal: Principal) -> Callable[[], Awaitable[bool]]:
    """Whether this request's login still stands, asked again by a long-lived stream:
    not logged out, the account still there with the same password generation, role
    and site (a deleted or demoted account stops receiving)."""
    state = get_state()
    cookie = request.cookies.get(str(current_app.config["QUART_AUTH_COOKIE_NAME"]), "")
    version = [*(current_user.auth_id or "").split(":"), "", ""][1]

    async def still_valid() -> bool:
        if principal.user_id is None or (cookie and await state.is_revoked(cookie)):
            return False
        user = await state.store.read(get_user, principal.user_id)
        return (
            user is not None
            and str(user.auth_version) == version
            and user.role == principal.role
            and user.site_id == principal.site_id
        )

    return still_valid


@bp.get("/stations/state")
@requires(*STAFF_ROLES)
async def stations_state() -> Any:
    """The current colour of every station in scope (JSON): what the SSE stream updates."""
    principal = current_principal()
    assert principal is not None
    cbids = await get_store().read(charge_box_ids_in_scope, SYSTEM, principal.site_scope)
    gateway = get_gateway()
    return {cbid: station_state(gateway, cbid) for cbid in cbids}


@bp.get("/news")
async def news() -> Any:
    items = await get_store().read(latest_news, 50)
    return await render_template("frame/news.html", items=items, errors={})


@bp.post("/news")
@requires("admin")
async def news_publish() -> Any:
    form = await request.form
    principal = current_principal()
    assert principal is not None
    try:
        await get_store().write(
            publish_news, form.get("title", ""), form.get("body", ""), principal.user_id
        )
    except ValueError as exc:
        items = await get_store().read(latest_news, 50)
        html = await render_template(
            "frame/news.html", items=items, errors={"title": str(exc)}, form=form
        )
        return html, 400
    title = str(form.get("title", "")).strip()
    await flash(f"Published “{title}”: every user sees it under the bell.")
    return redirect(url_for("frame.news"))


@bp.post("/news/<int:news_id>/delete")
@requires("admin")
async def news_delete(news_id: int) -> Any:
    if not await get_store().write(delete_news, news_id):
        raise BadRequest("no such news item")
    return redirect(url_for("frame.news"))
