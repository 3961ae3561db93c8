"""CSV built column by column on PostgreSQL (datetimes and numerics from the driver): the
same bytes as the csv writer over the typed export tuples."""

from __future__ import annotations

from db import Store
from tests.db import test_session_export_csv as on_sqlite
from tests.db.test_session_export_csv import _demo  # noqa: F401


async def test_raw_csv_equals_the_typed_csv_in_every_zone_order_and_with_awkward_texts(
    store: Store, demo: int
) -> None:
    """The SQLite file's checks, on one demo fill (a fill costs seconds of triggers here):
    the two that only read first, then the one that spoils texts and times."""
    await on_sqlite.test_raw_csv_equals_the_typed_csv_in_every_zone_and_order(store, demo)
    await on_sqlite.test_raw_csv_of_few_columns_and_of_nothing(store, demo)
    await on_sqlite.test_raw_csv_equals_the_typed_csv_with_awkward_texts_and_times(store, demo)
