"""A real portal and gateway on port 0 with two sites, and API tokens of each role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import trio

from db import Store
from db.accounts.api_tokens import create_token
from gateway import Gateway
from portal import create_app, serve_portal
from portalclient import PortalClient
from tests.portal.conftest import World, password_hash, seed_world, start_gateway

T = TypeVar("T")


@dataclass
class Portal:
    """The running portal's URL, its gateway, the seeded world and one token per role."""

    url: str
    gateway: Gateway
    world: World
    tokens: dict[str, str]

    def client(self, who: str) -> PortalClient:
        return PortalClient(self.url, self.tokens[who])


async def blocking(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking client call off the Trio loop that serves the portal."""
    return await trio.to_thread.run_sync(fn, *args)


@pytest.fixture(name="portal")
async def _portal(store: Store, nursery: trio.Nursery) -> Portal:
    world = await store.write(seed_world, password_hash())
    gateway = await start_gateway(store, nursery)
    app = create_app(store, gateway, config={"SECRET_KEY": "test-secret"})
    port = await nursery.start(serve_portal, app, "127.0.0.1", 0)

    def tokens() -> dict[str, str]:
        return {
            "admin": create_token("admin", "admin", None, None)[1],
            "support": create_token("support", "support", None, None)[1],
            "solna-admin": create_token("solna", "site-admin", world.solna, None)[1],
        }

    return Portal(f"http://127.0.0.1:{port}", gateway, world, await store.write(tokens))
