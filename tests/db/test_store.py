"""The group-commit store: committed before answered, failures isolated."""

from __future__ import annotations

import logging

import peewee
import pytest
import trio

from db import Store, migrate, open_database, open_store
from db.config_errors import ConfigurationError
from db.schema.migrate import available_migrations, current_version
from db.schema.models import Site, Station


async def test_write_is_visible_to_a_reader_once_it_returns(store: Store) -> None:
    def add() -> int:
        return Station.create(charge_box_id="CP1").id

    station_id = await store.write(add)
    assert await store.read(lambda: Station.get_by_id(station_id).charge_box_id) == "CP1"


async def test_concurrent_writes_are_batched_into_few_transactions(store: Store) -> None:
    def add(i: int) -> None:
        Station.create(charge_box_id=f"CP{i}")

    async with trio.open_nursery() as nursery:
        for i in range(300):
            nursery.start_soon(store.write, add, i)
    stats = store.writer.statistics()
    assert await store.read(Station.select().count) == 300
    assert stats.batches < 300


async def test_a_failing_job_rolls_back_alone(store: Store) -> None:
    def add(name: str) -> None:
        Site.create(name=name)

    results: list[str] = []

    async def attempt(name: str) -> None:
        try:
            await store.write(add, name)
            results.append("ok")
        except peewee.IntegrityError:
            results.append("duplicate")

    await store.write(add, "Solna")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(attempt, "Solna")
        nursery.start_soon(attempt, "Kista")
        nursery.start_soon(attempt, "Lund")
    assert sorted(results) == ["duplicate", "ok", "ok"]
    names = await store.read(lambda: sorted(s.name for s in Site.select()))
    assert names == ["Kista", "Lund", "Solna"]


def test_migrations_go_up_and_down(tmp_path: pytest.TempPathFactory) -> None:
    database = open_database(f"sqlite:///{tmp_path}/m.sqlite3")
    newest = available_migrations()[-1][0]
    assert migrate(database) == list(range(1, newest + 1))
    assert current_version(database) == newest
    assert migrate(database) == []
    assert "charging_session" in database.get_tables()
    migrate(database, target=0)
    assert current_version(database) == 0
    assert "charging_session" not in database.get_tables()
    database.close()


async def test_refused_input_is_the_callers_answer_not_a_logged_failure(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse() -> None:
        raise ConfigurationError("A station has 1 to 4 outlets.", field="outlets")

    def broken() -> None:
        raise peewee.OperationalError("disk I/O error")

    with pytest.raises(ConfigurationError):
        await store.write(refuse)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    with pytest.raises(peewee.OperationalError):
        await store.write(broken)
    assert any("failed" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_an_older_database_with_data_is_migrated_in_place(tmp_path: pytest.TempPathFactory) -> None:
    """An installation made before m0004 (no time_zone columns) with a site and a station
    upgrades when the new version starts (``chargeportal serve`` migrates first)."""
    database = open_database(f"sqlite:///{tmp_path}/old.sqlite3")
    migrate(database, target=3)  # the frozen m0001 has no time_zone columns
    with database.bind_ctx([Station]):  # a station points at the site (a foreign key)
        database.execute_sql(
            'INSERT INTO "site" (name, identification, description, country, city, street,'
            " street_number, created_at) VALUES ('Solna', '', '', '', '', '', '', '2026-01-01')"
        )
        # the station table of that day: only its columns (later migrations add more)
        values: dict[str, object] = {"charge_box_id": "CP1", "site_id": 1, "password_hash": "h"}
        for column in database.get_columns("station"):
            if column.name not in values and column.name != "id" and not column.null:
                values[column.name] = "2026-01-01" if "DATE" in column.data_type.upper() else ""
        names = ", ".join(f'"{name}"' for name in values)
        marks = ", ".join("?" for _ in values)
        database.execute_sql(
            f'INSERT INTO "station" ({names}) VALUES ({marks})', list(values.values())
        )
    migrate(database)
    assert current_version(database) == available_migrations()[-1][0]
    assert database.execute_sql('SELECT "time_zone" FROM "site"').fetchall() == [("",)]
    # a station with a password was refused without it: security profile 1 (m0015)
    assert database.execute_sql('SELECT "security_profile" FROM "station"').fetchall() == [(1,)]
    database.close()


async def test_commits_leave_checkpoints_to_the_checkpointer_thread(tmp_path) -> None:
    """The WAL is copied back into the database file while the store stays open."""
    import shutil
    import sqlite3

    path = tmp_path / "cp.sqlite3"
    async with open_store(f"sqlite:///{path}") as store:
        assert store.checkpointer is not None

        def autocheckpoint() -> int:
            return int(store.database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0])

        assert await store.write(autocheckpoint) == 0  # the writer's connection never does
        for i in range(50):
            await store.write(lambda i=i: Station.create(charge_box_id=f"CP{i}"))
        rounds = store.checkpointer.stats.passive  # those may have run before the writes
        with trio.fail_after(10):
            while store.checkpointer.stats.passive <= rounds + 1 or store.checkpointer.stats.behind:
                await trio.sleep(0.05)
                await store.write(lambda: None)  # nudge: a commit with nothing in it
        copy = tmp_path / "copy.sqlite3"
        shutil.copy(path, copy)  # the database file alone, without its WAL
        with sqlite3.connect(copy) as connection:
            (count,) = connection.execute("SELECT count(*) FROM station").fetchone()
        assert count == 50
    assert store.checkpointer.stats.failures == 0


def test_closing_the_checkpointer_does_not_wait_out_its_pause(tmp_path) -> None:
    """close() ends the pause between rounds: a store closes at once, not after up to
    ``interval`` (0.25 s on every close; here an hour, so waiting it out cannot pass)."""
    import threading

    from db.engine.checkpointer import WalCheckpointer

    checkpointer = WalCheckpointer(
        open_database(f"sqlite:///{tmp_path / 'p.sqlite3'}"), interval=3600
    )
    checkpointer.start()
    checkpointer.nudge()
    for _ in range(1000):  # the first round runs, then the thread pauses
        if checkpointer.stats.passive:
            break
        threading.Event().wait(0.01)
    assert checkpointer.stats.passive == 1
    closing = threading.Thread(target=checkpointer.close, daemon=True)
    closing.start()
    closing.join(timeout=10)
    assert not closing.is_alive(), "close() waited out the pause between checkpoints"
    assert checkpointer.stats.passive == 2  # with its last round
    assert checkpointer.stats.failures == 0


def test_a_memory_database_has_no_checkpointer() -> None:
    assert Store(open_database("sqlite:///:memory:")).checkpointer is None


def test_every_migration_has_a_number_of_its_own() -> None:
    numbers = [number for number, _name, _module in available_migrations()]
    assert len(numbers) == len(set(numbers)), (
        "two migrations share a number (renumber the newer one to the next free number): "
        f"{[name for _n, name, _m in available_migrations()]}"
    )
