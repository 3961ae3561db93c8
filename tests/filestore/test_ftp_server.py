"""The embedded FTP server: per-request users, uploads recorded, firmware readable only."""

from __future__ import annotations

import ftplib
import io
import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import trio

from db import Store
from db.schema.models import DiagnosticsFile
from db.topology.nodes import create_site, create_station
from db.topology.station_files import list_diagnostics, record_diagnostics
from filestore.ftp_server import FtpServer
from filestore.storage import FileStore


def _login(url: str) -> tuple[ftplib.FTP, str]:
    parsed = urlparse(url)
    ftp = ftplib.FTP()
    ftp.connect(parsed.hostname or "", parsed.port or 21, timeout=5)
    ftp.login(unquote(parsed.username or ""), unquote(parsed.password or ""))
    return ftp, unquote(parsed.path.lstrip("/"))


def _upload(url: str, name: str, data: bytes) -> None:
    ftp, _ = _login(url)
    ftp.storbinary(f"STOR {name}", io.BytesIO(data))
    ftp.quit()


def _download(url: str) -> bytes:
    ftp, path = _login(url)
    out = io.BytesIO()
    ftp.retrbinary(f"RETR {path}", out.write)
    ftp.quit()
    return out.getvalue()


async def test_a_station_uploads_diagnostics_that_get_listed(store: Store, tmp_path: Path) -> None:
    site = await store.write(create_site, "Solna")
    station = await store.write(lambda: create_station("CP1", site_id=site))
    files = FileStore(tmp_path)
    recorded = trio.Event()

    async def on_upload(cbid: str, path: Path) -> None:
        relative = str(path.relative_to(files.diagnostics_root))
        size = (await trio.Path(path).stat()).st_size
        await store.write(record_diagnostics, cbid, path.name, relative, size)
        recorded.set()

    server = FtpServer(files, port=0, on_upload=on_upload)
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            url = server.grant_upload("CP1")
            await trio.to_thread.run_sync(_upload, url, "diag.log", b"log line\n" * 100)
            await recorded.wait()
            rows = await store.read(list_diagnostics, station)
            assert [(r["filename"], r["size"]) for r in rows] == [("diag.log", 900)]
            assert (files.diagnostics_dir("CP1") / "diag.log").read_bytes() == b"log line\n" * 100
            # wrong password: refused
            bad = url.replace("@", "x@", 1)
            with pytest.raises(ftplib.error_perm, match="530"):
                await trio.to_thread.run_sync(_upload, bad, "x.log", b"x")
            # an upload user cannot read
            with pytest.raises(ftplib.error_perm, match="550"):
                await trio.to_thread.run_sync(_download, url + "diag.log")
            assert server.statistics().files_received == 1
            nursery.cancel_scope.cancel()
    assert await store.read(DiagnosticsFile.select().count) == 1


async def test_firmware_is_downloadable_but_not_writable(tmp_path: Path) -> None:
    files = FileStore(tmp_path)
    files.save_firmware("fw-2.0.bin", b"\x7fELF" + b"\x00" * 1000)
    server = FtpServer(files, port=0)
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            url = server.grant_download("CP1", "fw-2.0.bin")
            data = await trio.to_thread.run_sync(_download, url)
            assert data == b"\x7fELF" + b"\x00" * 1000
            base = url.rsplit("/", 1)[0] + "/"
            with pytest.raises(ftplib.error_perm, match="550"):
                await trio.to_thread.run_sync(_upload, base, "evil.bin", b"x")
            nursery.cancel_scope.cancel()


async def test_passive_data_ports_stay_in_the_configured_range(tmp_path: Path) -> None:
    files = FileStore(tmp_path)
    files.save_firmware("fw.bin", b"x" * 10)
    ports = range(47810, 47830)
    server = FtpServer(files, port=0, passive_ports=ports)

    def pasv_port(url: str) -> int:
        ftp, _ = _login(url)
        _, port = ftp.makepasv()
        ftp.close()
        return int(port)

    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            url = server.grant_download("CP1", "fw.bin")
            assert await trio.to_thread.run_sync(pasv_port, url) in ports
            nursery.cancel_scope.cancel()


async def test_a_wrong_password_is_counted_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """pyftpdlib 2.x calls on_login_failed(username, password): it used to raise
    TypeError in the FTP thread on every failed login (issue 11 point 12)."""
    server = FtpServer(FileStore(tmp_path), port=0, failed_login_delay=0.05)
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            url = server.grant_upload("CP1")
            bad = url.replace("@", "x@", 1)
            for _ in range(2):
                with pytest.raises(ftplib.error_perm, match="530"):
                    await trio.to_thread.run_sync(_upload, bad, "x.log", b"x")
            await trio.sleep(0.2)  # the callback runs after the 530 is sent
            nursery.cancel_scope.cancel()
    assert server.statistics().failed_logins == 2
    assert [
        r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()
    ] == []


async def test_an_upload_larger_than_the_cap_is_cut_off_and_removed(
    store: Store, tmp_path: Path
) -> None:
    files = FileStore(tmp_path)
    recorded: list[str] = []
    arrived = trio.Event()

    async def on_upload(cbid: str, path: Path) -> None:
        recorded.append(path.name)
        arrived.set()

    server = FtpServer(files, port=0, on_upload=on_upload, max_upload_bytes=64 * 1024)

    def upload_refused(url: str, name: str, data: bytes) -> str:
        try:
            _upload(url, name, data)
        except ftplib.error_perm as exc:
            return str(exc)
        except (ConnectionError, EOFError, ftplib.error_temp) as exc:
            return f"cut off: {exc!r}"
        return "accepted"

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            url = server.grant_upload("CP1")
            answer = await trio.to_thread.run_sync(
                upload_refused, url, "huge.log", b"x" * 2_000_000
            )
            assert answer != "accepted"
            # a file within the cap still arrives, on the same grant
            await trio.to_thread.run_sync(_upload, url, "small.log", b"y" * 60_000)
            with trio.fail_after(5):
                await arrived.wait()
            nursery.cancel_scope.cancel()
    assert recorded == ["small.log"]
    assert sorted(p.name for p in files.diagnostics_dir("CP1").iterdir()) == ["small.log"]
    stats = server.statistics()
    assert (stats.uploads_too_large, stats.files_received) == (1, 1)


async def test_the_server_announces_its_start_once_however_busy_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """pyftpdlib's serve_forever logs ">>> starting FTP server" at every call, and the
    loop thread used to call it every 0.1 s: anyone raising the pyftpdlib logger to
    INFO saw the line many times per page load (nothing restarted the server)."""
    caplog.set_level(logging.INFO, logger="pyftpdlib")
    caplog.set_level(logging.INFO, logger="filestore")
    files = FileStore(tmp_path)
    files.save_firmware("fw.bin", b"x" * 10)
    server = FtpServer(files, port=0)
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            for _ in range(3):  # every command is at least one turn of the loop
                url = server.grant_download("CP1", "fw.bin")
                assert await trio.to_thread.run_sync(_download, url) == b"x" * 10
            nursery.cancel_scope.cancel()
    address = f"127.0.0.1:{server.port}"
    starts = [m for r in caplog.records if "FTP server" in (m := r.getMessage()) and address in m]
    assert len(starts) == 1, starts
    assert server.statistics().files_sent == 3
