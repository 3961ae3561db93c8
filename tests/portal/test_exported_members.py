"""The portal's public surface (what the composition root and other engineers use)."""

from __future__ import annotations

import portal


def test_the_portal_exports_exactly_its_public_names() -> None:
    assert sorted(portal.__all__) == [
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
    for name in portal.__all__:
        assert getattr(portal, name) is not None
