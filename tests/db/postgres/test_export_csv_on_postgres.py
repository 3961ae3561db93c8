"""CSV built column by column on PostgreSQL (datetimes and numerics from the driver): the
same bytes as the csv writer over the typed export tuples."""

from __future__ import annotations

from tests.db.test_session_export_csv import (  # noqa: F401
    _demo,
    test_raw_csv_equals_the_typed_csv_in_every_zone_and_order,
    test_raw_csv_equals_the_typed_csv_with_awkward_texts_and_times,
    test_raw_csv_of_few_columns_and_of_nothing,
)
