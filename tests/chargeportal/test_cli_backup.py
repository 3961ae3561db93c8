"""``chargeportal backup`` / ``restore`` as an operator runs them, beside a running server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
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


async def chargeportal(*args: str) -> subprocess.CompletedProcess[bytes]:
    """The command as an operator runs it: another process beside the server."""
    return await trio.run_process(
        [sys.executable, "-m", "chargeportal", *args],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )


async def test_restore_refuses_while_the_server_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    backup = tmp_path / "b.sqlite3"
    options = ServeOptions(
        db=url, gateway_port=0, portal_port=0, ftp_port=-1, files_root=str(tmp_path / "files")
    )
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await nursery.start(serve, options)
            # a backup is fine while serving
            made = await chargeportal("backup", "--db", url, "--to", str(backup))
            assert made.returncode == 0, made.stderr
            refused = await chargeportal("restore", "--db", url, str(backup))
            assert refused.returncode == 1
            assert b"a server is using this database" in refused.stderr
            nursery.cancel_scope.cancel()
        restored = await chargeportal("restore", "--db", url, str(backup))
        assert restored.returncode == 0, restored.stderr
        assert b"kept in" in restored.stdout


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
