"""Export rows (raw keyset tuples, prefetched) on PostgreSQL: the table's rows exactly."""

from __future__ import annotations

from db import Store
from tests.db import test_session_export_rows as on_sqlite
from tests.db.test_session_export_rows import _demo  # noqa: F401


async def test_export_chunks_equal_the_table_rows_and_stop_with_their_reader(
    store: Store, demo: int
) -> None:
    """The SQLite file's checks (they only read), on one demo fill (a fill costs seconds
    of triggers here)."""
    await on_sqlite.test_export_chunks_equal_the_table_rows_in_every_zone_and_order(store, demo)
    await on_sqlite.test_export_chunks_pick_the_columns_asked_for(store, demo)
    await on_sqlite.test_a_reader_that_stops_early_stops_the_prefetch_thread(store, demo)
