"""Charts from the per-day rollup (PostgreSQL triggers) against the sessions table."""

from __future__ import annotations

from tests.db.test_day_charts import (  # noqa: F401
    _days_demo,
    test_ranges_starting_and_ending_on_any_quarter_hour_answer_as_the_table,
    test_the_rollup_answers_as_the_sessions_table_in_every_zone,
    test_the_rollup_answers_as_the_table_for_a_site_and_a_site_admin,
    test_the_rollup_follows_closes_corrections_and_deletions,
)
