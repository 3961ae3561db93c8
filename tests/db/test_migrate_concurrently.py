"""Several processes starting at once on a new PostgreSQL database (``serve --workers``)
all migrate it: one does the work, the others wait and find it done."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgdatabase import own_postgres_database

ROOT = Path(__file__).resolve().parents[2]

MIGRATE = (
    "import sys; from db.engine.connection import make_database; "
    "from db.schema.migrate import migrate; "
    "print(len(migrate(make_database(sys.argv[1]))))"
)


@pytest.fixture(name="pg_url")
def _pg_url() -> Iterator[str]:
    with own_postgres_database() as url:
        yield url


@pytest.mark.postgres
def test_processes_migrating_one_new_database_at_once_all_succeed(pg_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, pg_url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0] * 4, [err[-300:] for _, err in results]
    applied = sorted(int(out.strip()) for out, _ in results)
    assert applied[:-1] == [0, 0, 0]  # the others found the schema done
    assert applied[-1] > 0
