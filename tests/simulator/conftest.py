"""Fixtures for the simulator's own tests: a minimal central system on 127.0.0.1, port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from tests.simulator.minimal_cs import MinimalCentralSystem


@pytest.fixture(name="cs")
async def _cs(nursery: trio.Nursery) -> AsyncIterator[MinimalCentralSystem]:
    central = MinimalCentralSystem(interval=1)
    await nursery.start(central.run)
    yield central
    assert central.invalid == []  # every frame the simulator sent matched its schema
