"""Hostile input on PostgreSQL, whose column types are strict (SMALLINT, VARCHAR(64), no NUL)."""

from __future__ import annotations

import pytest

from tests.gateway import test_batching, test_fuzz_frames, test_hostile_input

pytestmark = pytest.mark.postgres

test_bisection_on_postgres = (
    test_batching.test_a_failing_batch_finds_its_bad_item_by_bisection_not_one_by_one
)
test_fuzz_on_postgres = (
    test_fuzz_frames.test_fuzzed_frames_get_standard_answers_and_an_honest_station_keeps_its_own
)
test_values_on_postgres = (
    test_hostile_input.test_out_of_range_values_are_answered_with_the_right_code_and_no_traceback
)
test_signed_value_on_postgres = test_hostile_input.test_a_signed_meter_value_is_stored_whole
