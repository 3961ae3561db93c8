"""The same charging sessions, offline queues and conformance run, persisted in PostgreSQL."""

from __future__ import annotations

import pytest

from tests.e2e.test_simulator_gateway import (
    test_conformance_suite_passes_against_the_gateway as test_conformance_on_postgres,
)
from tests.e2e.test_simulator_gateway import (
    test_several_stations_with_four_outlets_charge_concurrently as test_fleet_on_postgres,
)
from tests.e2e.test_simulator_gateway import (
    test_station_offline_mid_session_delivers_queued_messages_once as test_offline_on_postgres,
)

pytestmark = pytest.mark.postgres

__all__ = ["test_conformance_on_postgres", "test_fleet_on_postgres", "test_offline_on_postgres"]
