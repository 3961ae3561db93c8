"""User settings (SPEC §3): change e-mail, password (old one required), dashboard panels,
the time zone the portal shows times in."""

from __future__ import annotations

from typing import Any

import trio
from quart import Blueprint, flash, redirect, render_template, request, url_for
from quart_auth import AuthUser, login_user

from db.accounts.accounts import (
    AccountError,
    get_user,
    set_dashboard_panels,
    set_email,
    set_password_hash,
    set_time_zone,
)
from db.accounts.passwords import WeakPasswordError, check_policy, hash_password, verify_password
from portal.access import ALL_ROLES, Principal, current_principal, guard
from portal.auth import session_auth_id
from portal.context import get_store
from portal.panels import DEFAULT_PANELS, MAX_PANELS, PANELS

__all__ = ["bp"]

bp = guard(Blueprint("settings", __name__, url_prefix="/settings"), ALL_ROLES)


def _account() -> tuple[Principal, int]:
    """The signed-in person and his user id (the blueprint admits only signed-in users)."""
    principal = current_principal()
    assert principal is not None
    assert principal.user_id is not None
    return principal, principal.user_id


async def _page(errors: dict[str, str] | None = None, status: int = 200, **extra: Any) -> Any:
    principal, _ = _account()
    chosen = extra.pop("chosen", None) or principal.dashboard_panels or DEFAULT_PANELS
    html = await render_template(
        "settings/index.html",
        errors=errors or {},
        panels=PANELS,
        chosen=chosen,
        max_panels=MAX_PANELS,
        **extra,
    )
    return html, status


@bp.get("/")
async def index() -> Any:
    return await _page()


@bp.post("/email")
async def change_email() -> Any:
    _, user_id = _account()
    form = await request.form
    try:
        await get_store().write(set_email, user_id, form.get("email", ""))
    except AccountError as exc:
        return await _page({"email": exc.message}, 400, email_value=form.get("email", ""))
    await flash("Your e-mail address was changed.")
    return redirect(url_for("settings.index"))


@bp.post("/password")
async def change_password() -> Any:
    _, user_id = _account()
    form = await request.form
    old, new, again = (form.get(k, "") for k in ("old_password", "new_password", "new_password2"))
    errors: dict[str, str] = {}
    user = await get_store().read(get_user, user_id)
    assert user is not None
    if not await trio.to_thread.run_sync(verify_password, user.password_hash, old):
        errors["old_password"] = "This is not your current password."
    try:
        check_policy(new)
    except WeakPasswordError as exc:
        errors["new_password"] = f"{str(exc)[0].upper()}{str(exc)[1:]}."
    if not errors.get("new_password") and new != again:
        errors["new_password2"] = "The two new passwords differ."
    if errors:
        return await _page(errors, 400)
    new_hash = await trio.to_thread.run_sync(hash_password, new)
    await get_store().write(set_password_hash, user_id, new_hash)
    # other sessions end (auth_version bumped); this one continues with the new version
    login_user(AuthUser(session_auth_id(user.id, user.auth_version + 1)))
    await flash("Your password was changed. Other sessions have been logged out.")
    return redirect(url_for("settings.index"))


@bp.post("/panels")
async def change_panels() -> Any:
    _, user_id = _account()
    form = await request.form
    chosen = [p for p in form.getlist("panels") if p in PANELS]
    twice = [PANELS[p] for p in dict.fromkeys(chosen) if chosen.count(p) > 1]
    if twice:  # the form keeps what was chosen, the message says what to change
        message = f"Each panel can be chosen once: {'; '.join(twice)} is chosen more than once."
        return await _page({"panels": message}, 400, chosen=chosen)
    if len(chosen) != MAX_PANELS:
        return await _page({"panels": f"Choose exactly {MAX_PANELS} panels."}, 400, chosen=chosen)
    await get_store().write(set_dashboard_panels, user_id, chosen)
    await flash("Your dashboard panels were saved.")
    return redirect(url_for("settings.index"))


@bp.post("/time-zone")
async def change_time_zone() -> Any:
    _, user_id = _account()
    form = await request.form
    value = form.get("time_zone", "")
    try:
        saved = await get_store().write(set_time_zone, user_id, value)
    except AccountError as exc:
        return await _page({"time_zone": exc.message}, 400, time_zone_value=value)
    if saved:
        await flash(f"Times are now shown in {saved}.")
    else:
        await flash("Times are now shown in the system's time zone.")
    return redirect(url_for("settings.index"))
