"""Charts from the hourly aggregates (PostgreSQL triggers) against the sessions table."""

from __future__ import annotations

from db import Store
from tests.db import test_hourly_charts as on_sqlite
from tests.db.test_hourly_charts import _demo  # noqa: F401


async def test_aggregates_answer_as_the_table_are_rebuilt_alike_and_follow_changes(
    store: Store, demo: None
) -> None:
    """The SQLite file's checks, on one demo fill (it costs ~7 s of triggers here): every
    zone and node, the rebuild (it rewrites the aggregates with what they already hold),
    then the one that changes sessions."""
    for zone in on_sqlite.ZONES:
        await on_sqlite.test_aggregates_answer_as_the_sessions_table(store, None, zone)
    await on_sqlite.test_aggregates_answer_as_the_table_at_every_node_and_for_a_site_admin(
        store, None
    )
    await on_sqlite.test_rebuild_gives_the_aggregates_the_triggers_kept(store, None)
    await on_sqlite.test_aggregates_follow_closes_corrections_and_deletions(store, None)
