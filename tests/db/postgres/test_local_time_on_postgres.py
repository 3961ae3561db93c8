"""Local-zone diagram buckets and the dashboard's local day, the same tests on PostgreSQL
(``Dialect.epoch_slot`` is spelled differently there)."""

from __future__ import annotations

import pytest

from tests.db.test_local_aggregates import (  # noqa: F401
    _data,
    test_a_session_at_23_30_utc_counts_on_the_next_local_day,
    test_dashboard_today_is_the_local_day,
    test_folded_days_match_each_sessions_own_local_day,
    test_hours_and_weekdays_are_local_on_the_25_hour_day,
    test_occupancy_days_run_from_local_midnight_to_local_midnight,
)

pytestmark = pytest.mark.postgres
