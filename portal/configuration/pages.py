"""Rendering a configuration tab: the loader registry, errors next to fields, redirects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from quart import g, redirect, render_template, url_for
from quart.wrappers import Response
from werkzeug.exceptions import Forbidden

from db.errors import DomainError, NotFound
from db.topology.topology import SYSTEM, NodeRef, resolve_node
from portal.access import current_principal, not_found
from portal.context import get_store
from portal.errors import page_error

Loader = Callable[[NodeRef], Awaitable[dict[str, Any]]]
LOADERS: dict[tuple[str, str], Loader] = {}


def loader(kind: str, tab: str) -> Callable[[Loader], Loader]:
    def register(fn: Loader) -> Loader:
        LOADERS[(kind, tab)] = fn
        return fn

    return register


def current_node() -> NodeRef:
    node: NodeRef = g.get("node") or SYSTEM
    return node


def allowed(*roles: str) -> None:
    """403 unless the principal's role is one of ``roles`` (narrower than the blueprint)."""
    principal = current_principal()
    if principal is None or principal.role not in roles:
        raise Forbidden("your role may not change this")


async def render_tab(
    tab: str | None,
    *,
    node: NodeRef | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
    notice: str | None = None,
    notice_kind: str = "success",
) -> Any:
    from portal.configuration import tabs_for

    node = node or current_node()
    principal = current_principal()
    assert principal is not None
    tabs = tabs_for(node.kind, principal.role)
    if not tabs:
        raise Forbidden("nothing to configure here for your role")
    slugs = [slug for slug, _ in tabs]
    if tab not in slugs:
        if tab and not offered_anywhere(tab, principal.role):
            raise Forbidden("your role may not open this tab")
        tab = slugs[0]  # the Navigator moved to a level without this tab: its first tab
    context = await LOADERS[(node.kind, tab)](node)
    html = await render_template(
        f"configuration/{node.kind}_{tab}.html",
        tabs=tabs,
        tab=tab,
        node=node,
        errors=errors or {},
        form=form or {},
        notice=notice,
        notice_kind=notice_kind,
        **context,
    )
    return Response(html, status=status, mimetype="text/html")


def offered_anywhere(tab: str, role: str) -> bool:
    """Whether ``role`` has the tab ``tab`` at some Navigator level (else it is refused)."""
    from portal.configuration import TABS

    known = [roles for level in TABS.values() for slug, _, roles in level if slug == tab]
    return not known or any(role in roles for roles in known)


def tab_url(tab: str, node_key: str) -> str:
    if node_key == "system":
        return url_for("configuration.tab", tab=tab)
    return url_for("configuration.tab", tab=tab, node=node_key)


def back_to(tab: str, node_key: str) -> Any:
    return redirect(tab_url(tab, node_key))


async def refused(tab: str, node: NodeRef, exc: DomainError, form: dict[str, Any]) -> Any:
    """The same tab again with the error next to its field (or on top), with the status
    of the refusal's kind (``portal.errors``: 400 invalid, 409 conflict, 404…)."""
    status, message = page_error(exc)
    errors = {exc.field: message} if exc.field else {}
    return await render_tab(
        tab,
        node=node,
        errors=errors,
        status=status,
        form=form,
        notice=None if exc.field else message,
        notice_kind="error",
    )


async def not_found_page(exc: NotFound) -> Any:
    """An id that does not exist answers 404, like one outside the principal's site."""
    error = not_found(exc.message)
    return await render_template("error.html", error=error, code=404), 404


async def node_in_scope(kind: str, node_id: int) -> NodeRef:
    """The Navigator node ``kind:id`` when the principal may see it, else 404."""
    principal = current_principal()
    scope = principal.site_scope if principal is not None else None
    node = await get_store().read(resolve_node, f"{kind}:{node_id}", scope)
    if node is None or principal is None:
        raise not_found(f"no {kind} {node_id}")
    return node
