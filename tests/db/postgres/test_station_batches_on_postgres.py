"""A boot storm's connections and configuration imports on PostgreSQL."""

from __future__ import annotations

from tests.db.test_station_batches import (  # noqa: F401
    test_a_station_imported_twice_in_one_unit_keeps_its_later_answer,
    test_configuration_imports_of_many_stations_store_what_each_alone_stores,
    test_connections_of_many_stations_mark_them_seen_and_return_their_open_sessions,
)
