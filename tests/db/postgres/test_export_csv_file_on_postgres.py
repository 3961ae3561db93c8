"""A large CSV export by two processes on PostgreSQL: the single process's bytes."""

from __future__ import annotations

from tests.portal.test_session_csv_file import (  # noqa: F401
    _demo,
    test_a_stopped_export_stops_the_second_process,
    test_rows_up_to_the_split_and_after_it_are_every_row_once,
    test_two_processes_write_the_file_one_process_writes,
)
