"""The web portal: Quart on Trio, pages per menu, live Navigator, JSON API."""

from portal.access import MenuEntry, Principal, current_principal, guard, requires
from portal.app import BLUEPRINT_MODULES, create_app, serve_portal
from portal.context import get_gateway, get_store, scope_node, selected_node

__all__ = [
    "BLUEPRINT_MODULES",
    "MenuEntry",
    "Principal",
    "create_app",
    "current_principal",
    "get_gateway",
    "get_store",
    "guard",
    "requires",
    "scope_node",
    "selected_node",
    "serve_portal",
]
