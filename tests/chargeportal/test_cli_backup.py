"""``chargeportal backup`` / ``restore`` as an operator runs them, beside a running server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import trio

from chargeportal.cli import main
from chargeportal.serve import ServeOptions, serve
from db import Store
from db.system.settings import update_settings


def name_in(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT value FROM setting WHERE key = 'system.name'").fetchone()
    return str(row[0])


async def test_backup_then_restore_into_a_new_file(
    db_url: str, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await store.write(update_settings, {"system.name": "Backed up"})
    target = tmp_path / "copy.sqlite3"
    await trio.to_thread.run_sync(main, ["backup", "--db", db_url, "--to", str(target)])
    out = capsys.readouterr().out
    assert f"backup {target}" in out
    assert "sha256" in out
    restored = tmp_path / "restored.sqlite3"
    await trio.to_thread.run_sync(main, ["restore", "--db", f"sqlite:///{restored}", str(target)])
    assert "restored" in capsys.readouterr().out
    assert name_in(restored) == "Backed up"


async def test_backup_without_a_target_goes_beside_the_database(
    db_url: str, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await trio.to_thread.run_sync(main, ["backup", "--db", db_url])
    made = list((tmp_path / "backups").glob("chargeportal-*Z.sqlite3"))
    assert len(made) == 1
    assert (tmp_path / "backups" / (made[0].name + ".sha256")).exists()


async def test_restore_refuses_while_the_server_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    backup = tmp_path / "b.sqlite3"
    options = ServeOptions(
        db=url, gateway_port=0, portal_port=0, ftp_port=-1, files_root=str(tmp_path / "files")
    )
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(serve, options)
            # a backup is fine while serving
            await trio.to_thread.run_sync(main, ["backup", "--db", url, "--to", str(backup)])
            with pytest.raises(SystemExit) as refused:
                await trio.to_thread.run_sync(main, ["restore", "--db", url, str(backup)])
            assert refused.value.code == 1
            assert "a server is using this database" in capsys.readouterr().err
            nursery.cancel_scope.cancel()
    await trio.to_thread.run_sync(main, ["restore", "--db", url, str(backup)])
    assert "kept in" in capsys.readouterr().out


async def test_a_damaged_backup_is_refused_with_a_clear_message(
    db_url: str, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "copy.sqlite3"
    await trio.to_thread.run_sync(main, ["backup", "--db", db_url, "--to", str(target)])
    target.write_bytes(target.read_bytes()[:-4096])
    with pytest.raises(SystemExit) as refused:
        await trio.to_thread.run_sync(main, ["restore", "--db", db_url, str(target)])
    assert refused.value.code == 2
    assert "does not match its checksum" in capsys.readouterr().err
