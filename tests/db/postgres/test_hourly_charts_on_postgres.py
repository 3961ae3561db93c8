"""Charts from the hourly aggregates (PostgreSQL triggers) against the sessions table."""

from __future__ import annotations

from tests.db.test_hourly_charts import (  # noqa: F401
    _demo,
    test_aggregates_answer_as_the_sessions_table,
    test_aggregates_answer_as_the_table_at_every_node_and_for_a_site_admin,
    test_aggregates_follow_closes_corrections_and_deletions,
    test_rebuild_gives_the_aggregates_the_triggers_kept,
)
