"""The sessions table, aggregates and dashboard numbers, the same tests on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.db.test_dashboard_queries import (  # noqa: F401
    _data,
    test_occupancy_per_site_counts_running_sessions_on_outlets,
    test_same_weekday_last_week_is_compared_up_to_the_same_time,
    test_today_counts_the_running_session_live,
)
from tests.db.test_session_aggregates import (  # noqa: F401
    test_aggregates_follow_role_and_node,
    test_data_span_is_the_first_and_last_start,
    test_energy_and_sessions_per_day,
    test_energy_by_station_is_ranked,
    test_energy_per_week_starts_on_monday_and_per_month,
    test_occupancy_per_day_splits_a_night_session,
    test_occupancy_per_hour_shares_the_node_outlets,
    test_peak_power_from_sessions_and_samples,
    test_range_bounds_the_start_time,
    test_rfid_versus_anonymous,
    test_sessions_by_hour_and_weekday,
)
from tests.db.test_session_queries import (  # noqa: F401
    test_default_order_is_newest_start_first,
    test_details_meter_series_and_messages_are_scoped,
    test_every_column_sorts_and_pages_without_gaps_or_repeats,
    test_filters_select_the_expected_sessions,
    test_finished_row_has_every_spec_field,
    test_id_filter_finds_exactly_one_session,
    test_iter_sessions_walks_every_row_in_chunks,
    test_role_and_node_scope,
    test_running_session_shows_live_energy_and_duration,
)

pytestmark = pytest.mark.postgres
