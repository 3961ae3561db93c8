"""The message log's reads by station over many id buckets, on PostgreSQL."""

from __future__ import annotations

from tests.db.test_frame_log import (  # noqa: F401
    test_a_stations_frames_are_found_in_every_bucket,
    test_trimming_and_removal_reach_every_bucket,
)
