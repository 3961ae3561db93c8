"""Charts from the per-day rollup (PostgreSQL triggers) against the sessions table."""

from __future__ import annotations

from db import Store
from tests.db import test_day_charts as on_sqlite
from tests.db.test_day_charts import _days_demo  # noqa: F401


async def test_the_rollup_answers_as_the_table_and_follows_changes(
    store: Store, days_demo: None
) -> None:
    """The SQLite file's checks, on one demo fill (it costs ~7 s of triggers here): the
    three that only read first, then the one that changes sessions."""
    await on_sqlite.test_the_rollup_answers_as_the_sessions_table_in_every_zone(store, None)
    await on_sqlite.test_the_rollup_answers_as_the_table_for_a_site_and_a_site_admin(store, None)
    await on_sqlite.test_ranges_starting_and_ending_on_any_quarter_hour_answer_as_the_table(
        store, None
    )
    await on_sqlite.test_the_rollup_follows_closes_corrections_and_deletions(store, None)
