"""A boot storm's shared writes on PostgreSQL: the same rows and answers as one at a time."""

from __future__ import annotations

import pytest

from tests.gateway import test_boot_storm_writes as storm

pytestmark = pytest.mark.postgres

test_storm_on_postgres = (
    storm.test_a_storm_of_boots_and_statuses_stores_and_answers_what_one_station_alone_gets
)
test_bad_value_on_postgres = (
    storm.test_a_bad_value_in_one_stations_boot_or_status_fails_only_that_station
)
test_failing_unit_on_postgres = storm.test_a_unit_that_fails_in_a_shared_batch_fails_alone
test_one_connector_twice_on_postgres = (
    storm.test_statuses_of_one_connector_in_one_batch_keep_the_last_and_every_alarm
)
