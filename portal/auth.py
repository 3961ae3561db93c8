"""Login and logout: argon2-checked passwords, throttled failures, quart-auth cookies."""

from __future__ import annotations

import functools
import logging
import secrets
from typing import Any
from urllib.parse import urlparse

import trio
from quart import Blueprint, redirect, render_template, request, url_for
from quart_auth import AuthUser, login_user, logout_user

from db.accounts.accounts import get_user_by_email, record_login
from db.accounts.passwords import hash_password, verify_password
from portal.access import MenuEntry, Principal, current_principal
from portal.context import get_state, get_store
from portal.security import local_redirect_target

__all__ = ["bp", "home_url", "session_auth_id"]

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so that the answer takes as
    long and response times do not tell which e-mails have accounts."""
    return hash_password("not-a-real-password-0")


def home_url(principal: Principal) -> str:
    """The first menu page this role may use (dashboard for most), else settings."""
    from quart import current_app

    menu: list[MenuEntry] = current_app.extensions.get("chargeportal_menu", [])
    for entry in menu:
        if principal.role in entry.roles:
            return url_for(entry.endpoint)
    return url_for("settings.index")


def session_auth_id(user_id: int, auth_version: int) -> str:
    """What the session cookie signs: the user, his password generation (a new password
    ends older sessions), and a nonce so every login gets a distinct cookie (a logged-out
    cookie is refused, and a new login within the same second must not look like it)."""
    return f"{user_id}:{auth_version}:{secrets.token_urlsafe(6)}"


def _safe_next(target: str) -> str | None:
    """Only same-site paths (``local_redirect_target``), and never the login page."""
    local = local_redirect_target(target)
    if local is None or urlparse(local).path.rstrip("/") == url_for("auth.login"):
        return None
    return local


@bp.get("/login")
async def login() -> Any:
    principal = current_principal()
    if principal is not None:
        return redirect(_safe_next(request.args.get("next", "")) or home_url(principal))
    return await render_template(
        "auth/login.html", errors={}, email="", next=request.args.get("next", "")
    )


@bp.context_processor
async def _login_page_name() -> dict[str, Any]:
    from portal.frame import system_name

    if current_principal() is not None:
        return {}
    return {"system_name": await get_store().read(system_name)}


@bp.post("/login")
async def login_post() -> Any:
    form = await request.form
    email = (form.get("email") or "").strip().lower()
    password = form.get("password") or ""
    target = form.get("next", "")
    address = request.remote_addr or "unknown"
    state = get_state()
    errors: dict[str, str] = {}
    wait = await state.login_wait(email, address)
    if wait > 0:
        log.warning("throttled login for %r from %s", email, address)
        minutes = max(1, int(wait // 60) + 1)
        errors["form"] = (
            f"Too many failed logins. Try again in about {minutes} minute"
            f"{'s' if minutes > 1 else ''}."
        )
        html = await render_template("auth/login.html", errors=errors, email=email, next=target)
        return html, 429, {"Retry-After": str(int(wait) + 1)}
    if not email:
        errors["email"] = "Enter your e-mail address."
    if not password:
        errors["password"] = "Enter your password."
    if errors:
        html = await render_template("auth/login.html", errors=errors, email=email, next=target)
        return html, 400
    user = await get_store().read(get_user_by_email, email)
    stored = user.password_hash if user is not None else _dummy_hash()
    ok = await trio.to_thread.run_sync(verify_password, stored, password)
    if user is None or not ok:
        log.warning("failed login for %r from %s", email, address)
        await state.login_failed(email, address)
        errors["form"] = "Wrong e-mail or password."
        html = await render_template("auth/login.html", errors=errors, email=email, next=target)
        return html, 401
    await state.login_succeeded(email)
    log.info("login %s (%s) from %s", user.email, user.role, address)
    await get_store().write(record_login, user.id)
    login_user(AuthUser(session_auth_id(user.id, user.auth_version)))
    principal = Principal(role=user.role, user_id=user.id, site_id=user.site_id)
    return redirect(_safe_next(target) or home_url(principal))


@bp.post("/logout")
async def logout() -> Any:
    from quart import current_app

    cookie = request.cookies.get(current_app.config["QUART_AUTH_COOKIE_NAME"], "")
    if cookie:  # a copy of the cookie kept elsewhere stops working too
        await get_state().revoke_session(cookie, float(current_app.config["QUART_AUTH_DURATION"]))
    principal = current_principal()
    if principal is not None:
        log.info("logout %s", principal.email)
    logout_user()
    return redirect(url_for("auth.login"))
