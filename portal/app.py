"""The portal's app factory, the blueprint list, request hooks, and ``serve_portal``.

How to add a page to the frame (for the engineers of issues 5 and 6)
--------------------------------------------------------------------
1. Write ``portal/<menu>.py`` with a module-level ``bp = Blueprint("<menu>", __name__,
   url_prefix="/<menu>")``, guard it once: ``guard(bp, ("admin", "site-admin", "support"))``
   (``portal.access``), and (for a left-menu entry) a module-level
   ``menu = MenuEntry("Label", "<menu>.index", roles=(...), order=N)``.
2. Add its dotted name to ``BLUEPRINT_MODULES`` below (one line).
3. Templates go in ``portal/templates/<menu>/``; a page extends the frame::

       {% extends "base.html" %}
       {% block title %}Statistics{% endblock %}
       {% block content %} ... {% endblock %}
       {% block scripts %}<script src="{{ url_for('static', filename='s.js') }}">
       </script>{% endblock %}

   Other blocks: ``head`` (extra CSS), ``page_actions`` (buttons right of the title),
   ``tabs`` (a tab bar under the title). Inline ``<script>`` is refused by the CSP
   (``script-src 'self'``): put scripts in ``portal/static/``.
4. In a view: ``current_principal()`` (``portal.access``: role, user_id, site_id,
   ``site_scope`` = None for all sites, ``viewer()`` → ``db.topology.scope.Viewer``);
   ``selected_node()`` (``portal.context``: a ``db.topology.topology.NodeRef`` with kind, id,
   site_id, charge_box_id — already 404'd when outside the principal's site) or
   ``scope_node()`` → ``db.topology.scope.Node``; ``get_store()`` / ``get_gateway()``.
   Anything addressed by id outside the scope: ``raise not_found()`` (404, never 403).
5. Forms: ``<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">``;
   htmx and ``fetch`` requests send the ``X-CSRF-Token`` header (``portal.js`` does it
   for htmx; read the token from ``<meta name="csrf-token">``). Ask before anything
   destructive: ``<button data-confirm="Delete X?">``. Show field errors with the
   ``field_error(errors, "name")`` macro from ``_forms.html``.
6. Keep links scoped: ``url_for("x.index", node=node.key)``; the Navigator keeps the
   current page and swaps ``?node=``.
7. Add rows for every new route to the access matrix (``tests/portal/access_matrix/``).
"""

from __future__ import annotations

import importlib
import logging
import os
import secrets
import socket
from functools import partial
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as hypercorn_serve
from quart import Quart, current_app, g, jsonify, render_template, request
from quart.sessions import SecureCookieSessionInterface
from quart.wrappers import Response
from quart_auth import QuartAuth, current_user, logout_user
from quart_trio import QuartTrio
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, default_exceptions
from werkzeug.routing import IntegerConverter

from db.accounts.accounts import get_user
from db.accounts.api_tokens import authenticate_token, touch_token
from db.engine.store import Store
from db.schema.models import utcnow
from db.topology.topology import SYSTEM, NodeRef, resolve_node
from gateway.api import GatewayAPI
from portal import timefmt
from portal.access import MenuEntry, Principal, current_principal, not_found
from portal.context import PortalState, get_state, get_store
from portal.errors import REFUSALS, page_error
from portal.frame import frame_data
from portal.navigator import node_link
from portal.security import (
    SAFE_METHODS,
    LoginThrottle,
    cookies_secure,
    csrf_token,
    csrf_valid,
    set_csrf_cookie,
)

__all__ = ["BLUEPRINT_MODULES", "create_app", "serve_portal"]

log = logging.getLogger(__name__)

#: One module per blueprint; each has ``bp`` and optionally ``menu`` (a MenuEntry).
#: Add yours here with a one-line edit.
BLUEPRINT_MODULES: list[str] = [
    "portal.auth",
    "portal.frame",
    "portal.navigator",
    "portal.settings",
    "portal.dashboard",
    "portal.alarms",
    "portal.provisioning",
    "portal.api",
    "portal.configuration",
    "portal.station_files",
    "portal.schedule",
    "portal.statistics",
    "portal.diagrams",
    "portal.soap15",
]

DEFAULT_CONFIG: dict[str, Any] = {
    "PORTAL_COOKIE_SECURE": "auto",  # Secure over TLS only; True/False to force
    "PORTAL_HSTS_SECONDS": 365 * 24 * 3600,  # Strict-Transport-Security over TLS; 0 = none
    "PORTAL_LOGIN_FAILURES_PER_ACCOUNT": 5,
    "PORTAL_LOGIN_FAILURES_PER_ADDRESS": 20,
    "PORTAL_LOGIN_WINDOW": 900.0,
    "PORTAL_SSE_KEEPALIVE": 15.0,
    "PORTAL_SSE_MAX_SECONDS": 3600.0,  # then the browser reconnects (login re-checked)
    "PORTAL_SSE_RECHECK_SECONDS": 60.0,  # the stream re-checks the login this often
    "PORTAL_SYSTEM_NAME": "Charge Portal",
    # stations post SOAP here without a browser session (mounted by the gateway work)
    "PORTAL_CSRF_EXEMPT_PREFIXES": ("/Ocpp/",),
    "QUART_AUTH_COOKIE_NAME": "cp_session",
    "QUART_AUTH_COOKIE_SAMESITE": "Lax",
    "QUART_AUTH_COOKIE_HTTP_ONLY": True,
    "QUART_AUTH_DURATION": 12 * 3600,
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,  # firmware images; JPEG plans check 2 MB
    # sending a response body; streams without a natural end (live events, exports,
    # firmware downloads to stations) set their own
    "RESPONSE_TIMEOUT": 600.0,
    "SESSION_COOKIE_NAME": "cp_flash",
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: http: https:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


#: The largest id a URL may name: SQLite's INTEGER (a bigger number is no row of ours,
#: and the driver would raise OverflowError instead of finding nothing).
MAX_URL_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: 0 to ``MAX_URL_ID``, else the URL matches nothing (404)."""

    def __init__(
        self,
        map: Any,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, MAX_URL_ID if max is None else max, signed)


class PortalSessionInterface(SecureCookieSessionInterface):
    """Quart's signed-cookie session (used for flash messages), Secure per request."""

    def get_cookie_secure(self, app: Quart) -> bool:
        return cookies_secure()


class PortalAuth(QuartAuth):
    """quart-auth whose cookie is Secure per request (see ``cookies_secure``)."""

    async def after_request(self, response: Response) -> Response:  # type: ignore[override]
        self.cookie_secure = cookies_secure()
        return await super().after_request(response)


def create_app(store: Store, gateway: GatewayAPI, *, config: dict[str, Any] | None = None) -> Quart:
    """The portal (pages, SSE, JSON API) over ``store``, reaching stations via ``gateway``."""
    app = QuartTrio(__name__)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.config.update(DEFAULT_CONFIG)
    app.config.update(_from_environment())
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        # A fresh key per process: sessions end at restart unless one is configured.
        app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
    app.secret_key = app.config["SECRET_KEY"]
    throttle = LoginThrottle(
        per_account=int(app.config["PORTAL_LOGIN_FAILURES_PER_ACCOUNT"]),
        per_address=int(app.config["PORTAL_LOGIN_FAILURES_PER_ADDRESS"]),
        window=float(app.config["PORTAL_LOGIN_WINDOW"]),
    )
    app.extensions["chargeportal"] = PortalState(store, gateway, throttle)
    PortalAuth(app)
    app.session_interface = PortalSessionInterface()

    menu: list[MenuEntry] = []
    for name in BLUEPRINT_MODULES:
        module = importlib.import_module(name)
        app.register_blueprint(module.bp)
        if getattr(module, "menu", None) is not None:
            menu.append(module.menu)
    menu.sort(key=lambda m: (m.order, m.label))
    app.extensions["chargeportal_menu"] = menu

    app.before_request(_load_principal)
    app.before_request(_check_csrf)
    app.before_request(_select_node)
    timefmt.init_app(app)  # after the principal: the display zone is the user's or the system's
    app.after_request(_finish_response)
    app.context_processor(_frame_context)
    app.jinja_env.globals["csrf_token"] = csrf_token  # also inside imported macros
    app.register_error_handler(HTTPException, _http_error)
    for refusal in REFUSALS:  # raised by a page and not answered there
        app.register_error_handler(refusal, _refusal_page)
    return app


def _from_environment() -> dict[str, Any]:
    """``PORTAL_SECRET_KEY`` (keeps sessions valid across restarts) and
    ``PORTAL_COOKIE_SECURE`` (auto | true | false) from the environment."""
    found: dict[str, Any] = {}
    if os.environ.get("PORTAL_SECRET_KEY"):
        found["SECRET_KEY"] = os.environ["PORTAL_SECRET_KEY"]
    secure = os.environ.get("PORTAL_COOKIE_SECURE", "").strip().lower()
    if secure in ("true", "1", "yes"):
        found["PORTAL_COOKIE_SECURE"] = True
    elif secure in ("false", "0", "no"):
        found["PORTAL_COOKIE_SECURE"] = False
    return found


# --- request hooks -------------------------------------------------------------


async def _principal_from_token(header: str) -> Principal | None:
    secret = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not secret:
        return None
    store = get_store()
    token = await store.read(authenticate_token, secret)
    if token is None:
        return None
    if token.last_used_at is None or (utcnow() - token.last_used_at).total_seconds() > 60:
        await store.write(touch_token, token.id)
    return Principal(
        role=token.role, site_id=token.site_id, token_id=token.id, email=f"token:{token.name}"
    )


async def _load_principal() -> Any:
    g.principal = None
    if request.path.startswith("/static/"):
        return None
    header = request.headers.get("Authorization", "")
    if header and request.path.startswith("/api/"):
        g.principal = await _principal_from_token(header)
        if g.principal is None:
            response = jsonify(error="unauthenticated", message="unknown or revoked API token")
            response.status_code = 401
            return response
        return None
    auth_id = current_user.auth_id
    if not auth_id:
        return None
    cookie = request.cookies.get(str(current_app.config["QUART_AUTH_COOKIE_NAME"]), "")
    if cookie and await get_state().is_revoked(cookie):
        return None
    user_id, version = [*auth_id.split(":"), ""][:2]  # "<user>:<auth_version>:<nonce>"
    try:
        user = await get_store().read(get_user, int(user_id))
    except ValueError:
        user = None
    if user is None or str(user.auth_version) != version:
        logout_user()  # deleted account or changed password: this session has ended
        return None
    g.principal = Principal(
        role=user.role,
        user_id=user.id,
        email=user.email,
        name=user.name,
        site_id=user.site_id,
        dashboard_panels=user.dashboard_panels,
        time_zone=user.time_zone,
    )
    return None


async def _check_csrf() -> Any:
    if request.method in SAFE_METHODS:
        return None
    principal = current_principal()
    if principal is not None and principal.token_id is not None:
        return None  # bearer tokens are not sent by browsers on their own: no CSRF
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "csrf_exempt", False) or request.path.startswith(
        tuple(current_app.config["PORTAL_CSRF_EXEMPT_PREFIXES"])
    ):
        return None
    if not await csrf_valid():
        raise BadRequest("The form has expired or was not sent by this portal; reload the page.")
    return None


async def _select_node() -> Any:
    principal = current_principal()
    g.node = SYSTEM
    if principal is None or principal.role == "ev-user":
        return None
    key = request.args.get("node", "")
    if not key and principal.site_scope is not None:
        key = f"site:{principal.site_scope}"
    if not key or key == "system":
        if principal.site_scope is not None:
            key = f"site:{principal.site_scope}"
        else:
            return None
    node: NodeRef | None = await get_store().read(resolve_node, key, principal.site_scope)
    if node is None:
        if principal.site_scope is not None:  # the error page's frame shows his own site
            own = f"site:{principal.site_scope}"
            g.node = await get_store().read(resolve_node, own, principal.site_scope) or SYSTEM
        raise not_found(f"There is no node {key}.")
    g.node = node
    return None


async def _finish_response(response: Response) -> Response:
    set_csrf_cookie(response)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CSP)
    hsts = int(current_app.config.get("PORTAL_HSTS_SECONDS") or 0)
    if request.is_secure and hsts > 0:  # browsers ignore it over plain http anyway
        response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
    if request.path.startswith("/api/"):
        # answers carry account and station data: no browser or proxy keeps a copy
        response.headers["Cache-Control"] = "no-store"
    elif current_principal() is not None and response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _frame_context() -> dict[str, Any]:
    principal = current_principal()
    context: dict[str, Any] = {
        "principal": principal,
        "node": g.get("node") or SYSTEM,
        "system_name": _system_name(),
        "node_url": _node_url,
    }
    if principal is not None:
        menu = _app_menu()
        context["menu"] = [m for m in menu if principal.role in m.roles]
        if not request.headers.get("HX-Request"):
            context.update(await frame_data(principal))
    return context


def _node_url(key: str) -> str:
    """This page's URL scoped to another Navigator node (``?node=key``)."""
    return node_link(request.path, list(request.args.items(multi=True)), key)


def _app_menu() -> list[MenuEntry]:
    return list(current_app.extensions.get("chargeportal_menu", []))


def _system_name() -> str:
    return str(current_app.config.get("PORTAL_SYSTEM_NAME", "Charge Portal"))


async def _http_error(error: HTTPException) -> Any:
    code = error.code or 500
    if request.path.startswith("/api/"):
        response = jsonify(
            error=(error.name or "error").lower().replace(" ", "-"), message=error.description
        )
        response.status_code = code
        return response
    if code in (401,):
        return error
    html = await render_template("error.html", error=error, code=code)
    return Response(html, status=code, mimetype="text/html")


async def _refusal_page(exc: Exception) -> Any:
    """A refusal no page answered itself: the error page with the status of its kind."""
    status, message = page_error(exc)
    error = default_exceptions.get(status, InternalServerError)(message)
    return await _http_error(error)


# --- serving -------------------------------------------------------------------


async def serve_portal(
    app: Quart,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    certfile: str | None = None,
    keyfile: str | None = None,
    sockets: list[socket.socket] | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` with hypercorn's trio worker; ``task_status.started(bound port)``.

    ``sockets``: listening sockets made by the caller (SO_REUSEPORT for several worker
    processes on one port), served instead of binding ``host:port``; hypercorn owns them.
    """
    config = HypercornConfig()
    config.bind = [f"fd://{sock.detach()}" for sock in sockets] if sockets else [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    if certfile and keyfile:
        config.certfile = certfile
        config.keyfile = keyfile
    config.graceful_timeout = 1.0
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(partial(hypercorn_serve, app, config))
        bound = int(binds[0].rsplit(":", 1)[1].rstrip("/"))
        log.info("portal listening on %s", ", ".join(binds))
        task_status.started(bound)
