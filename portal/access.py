"""Who is asking (Principal), the menu entries, and the role guard that sits on a blueprint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from quart import Blueprint, g, jsonify, redirect, request, url_for
from werkzeug.exceptions import Forbidden, NotFound

__all__ = [
    "ALL_ROLES",
    "STAFF_ROLES",
    "MenuEntry",
    "Principal",
    "current_principal",
    "guard",
    "not_found",
    "requires",
]

ALL_ROLES = ("admin", "site-admin", "ev-user", "support")
#: Roles that see stations (everyone but EV users).
STAFF_ROLES = ("admin", "site-admin", "support")

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


@dataclass(frozen=True)
class Principal:
    """The logged-in person or the API token behind this request.

    ``site_id`` is the only site a site administrator may see; ``site_scope`` is
    what queries take (None = every site).
    """

    role: str
    user_id: int | None = None
    email: str = ""
    name: str = ""
    site_id: int | None = None
    token_id: int | None = None  # set when authenticated by an API token
    dashboard_panels: tuple[str, ...] = ()
    time_zone: str = ""  # the user's display zone ("" = the system zone; portal.timefmt)

    @property
    def site_scope(self) -> int | None:
        return self.site_id if self.role == "site-admin" else None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can_see_site(self, site_id: int | None) -> bool:
        """Site administrators see only their site (and nothing unassigned)."""
        if self.role in ("admin", "support"):
            return True
        if self.role == "site-admin":
            return site_id is not None and site_id == self.site_id
        return False

    def viewer(self) -> Any:
        """The same person as ``db.topology.scope.Viewer`` for the session/station scope queries."""
        from db.topology.scope import Viewer

        return Viewer(role=self.role, user_id=self.user_id, site_id=self.site_scope)


def current_principal() -> Principal | None:
    """The Principal of this request (None when anonymous)."""
    return cast("Principal | None", g.get("principal"))


@dataclass(frozen=True)
class MenuEntry:
    """A left-menu item: shown to ``roles``, ordered by ``order``."""

    label: str
    endpoint: str
    roles: tuple[str, ...]
    order: int = 50
    icon: str = ""


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _unauthenticated() -> Any:
    if _wants_json():
        response = jsonify(error="unauthenticated", message="log in or send a bearer token")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="chargeportal"'
        return response
    if request.method == "GET" and not request.headers.get("HX-Request"):
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    moved = redirect(url_for("auth.login"))
    moved.status_code = 401 if request.method != "GET" else 302
    moved.headers["HX-Redirect"] = url_for("auth.login")
    return moved


def guard(bp: Blueprint, roles: Iterable[str]) -> Blueprint:
    """Let only ``roles`` into every view of ``bp``: anonymous → login (401 for the
    API), other roles → 403. The one place a blueprint's role rule is written."""
    allowed = tuple(roles)

    @bp.before_request
    async def _check_role() -> Any:
        principal = current_principal()
        if principal is None:
            return _unauthenticated()
        if principal.role not in allowed:
            raise Forbidden(f"the role {principal.role} may not use this page")
        return None

    return bp


def requires(*roles: str) -> Callable[[F], F]:
    """A narrower rule for one view inside a guarded blueprint (e.g. admin-only edits)."""

    def decorate(view: F) -> F:
        @wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                return _unauthenticated()
            if principal.role not in roles:
                raise Forbidden(f"the role {principal.role} may not do this")
            return await view(*args, **kwargs)

        return cast("F", wrapper)

    return decorate


def not_found(what: str = "not found") -> NotFound:
    """The answer for anything outside the principal's scope: it does not exist for him."""
    return NotFound(what)
