"""Export rows (raw keyset tuples, prefetched) on PostgreSQL: the table's rows exactly."""

from __future__ import annotations

from tests.db.test_session_export_rows import (  # noqa: F401
    _demo,
    test_a_reader_that_stops_early_stops_the_prefetch_thread,
    test_export_chunks_equal_the_table_rows_in_every_zone_and_order,
    test_export_chunks_pick_the_columns_asked_for,
)
