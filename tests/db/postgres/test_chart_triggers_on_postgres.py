"""The limited chart triggers (m0021) on PostgreSQL: three triggers per aggregate, each
with its WHEN, still follow every change."""

from __future__ import annotations

from tests.db.test_chart_triggers import (  # noqa: F401
    test_the_limited_triggers_follow_every_change_on_a_new_and_an_upgraded_database,
    test_the_triggers_stay_limited_after_a_bulk_load_and_a_downgrade_undoes_it,
)
