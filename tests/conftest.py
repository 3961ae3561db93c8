"""Fixtures shared by every test folder: a fresh database per test, a TLS certificate."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# The system zone defaults to the server's; tests expect UTC unless they set a zone.
os.environ["CHARGEPORTAL_TIME_ZONE"] = "UTC"

from db import Store, open_store
from tests.pki import localhost_certificate


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow and browser tests first (otherwise in collection order): xdist deals the first
    quarter of the list out round robin, so the long tests start on every worker at once
    instead of one of them (the browser walk, minutes) starting late and running alone
    at the end while the other workers idle."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("slow") is None,
            item.get_closest_marker("browser") is None,
        )
    )


@pytest.fixture(name="db_url")
def _db_url(tmp_path: Path) -> str:
    """A new SQLite database file for this test."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture(name="store")
async def _store(db_url: str) -> AsyncIterator[Store]:
    """The migrated database behind ``db_url``, with its writer running."""
    async with open_store(db_url) as store:
        yield store


@pytest.fixture(name="certificate")
def _certificate(tmp_path: Path) -> tuple[str, str]:
    """(certificate file, key file) of a TLS server on 127.0.0.1; clients trust the first."""
    return localhost_certificate(tmp_path / "tls")
