"""An embedded FTP server (pyftpdlib) for stations: diagnostics uploads and firmware downloads.

Each GetDiagnostics / UpdateFirmware request gets its own user name and password
(``grant_upload`` / ``grant_download``), valid for ``grant_ttl`` seconds: an upload user
may only store files into that station's folder, a download user may only read the
firmware folder. pyftpdlib's loop runs in one thread; received files are handed to the
Trio side, which records them (``db.topology.station_files.record_diagnostics``). One upload may
hold at most ``max_upload_bytes`` (a larger one is cut off with 552 and its part removed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import trio

with warnings.catch_warnings():
    # pyftpdlib uses the stdlib asyncore/asynchat on Python 3.11 (deprecated there).
    warnings.simplefilter("ignore", DeprecationWarning)
    from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
    from pyftpdlib.handlers import DTPHandler, FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import FTPServer

from filestore.storage import FileStore, safe_name

log = logging.getLogger(__name__)
logging.getLogger("pyftpdlib").setLevel(logging.WARNING)

UploadCallback = Callable[[str, Path], Awaitable[None]]

#: The default cap of one diagnostics upload (logs are megabytes; a full disk is worse).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


@dataclass
class Grant:
    username: str
    password: str
    kind: str  # diagnostics | firmware
    charge_box_id: str
    expires_at: float


@dataclass
class FtpStatistics:
    port: int = 0
    grants: int = 0
    logins: int = 0
    failed_logins: int = 0
    files_received: int = 0
    files_sent: int = 0
    uploads_incomplete: int = 0
    uploads_too_large: int = 0
    recent: list[str] = field(default_factory=list)


class _Authorizer(DummyAuthorizer):
    """pyftpdlib's user table with expiring, per-request users (a lock: two threads use it)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.grants: dict[str, Grant] = {}

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        with self.lock:
            grant = self.grants.get(username)
            if grant is None or grant.expires_at < time.monotonic():
                raise AuthenticationFailed("Authentication failed.")
            super().validate_authentication(username, password, handler)

    def add_grant(self, grant: Grant, homedir: Path, perm: str) -> None:
        with self.lock:
            now = time.monotonic()
            for name in [n for n, g in self.grants.items() if g.expires_at < now]:
                self.grants.pop(name)
                if self.has_user(name):
                    self.remove_user(name)
            self.grants[grant.username] = grant
            self.add_user(grant.username, grant.password, str(homedir), perm=perm)


class FtpServer:
    """The station-facing FTP server; ``await nursery.start(server.run)`` gives its port."""

    def __init__(
        self,
        files: FileStore,
        *,
        host: str = "127.0.0.1",
        port: int = 2121,
        public_host: str | None = None,
        passive_ports: range | None = None,
        masquerade_address: str | None = None,
        grant_ttl: float = 3600.0,
        on_upload: UploadCallback | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        failed_login_delay: float = 3.0,
    ) -> None:
        self.files = files
        self.host = host
        self.port = port
        self.public_host = public_host or host
        self.passive_ports = passive_ports
        self.masquerade_address = masquerade_address  # the IP in PASV replies behind NAT
        self.grant_ttl = grant_ttl
        self.on_upload = on_upload
        self.max_upload_bytes = max_upload_bytes
        self.failed_login_delay = failed_login_delay  # pyftpdlib's pause before a 530
        self._authorizer = _Authorizer()
        self._stats = FtpStatistics()
        self._stop = threading.Event()

    def statistics(self) -> FtpStatistics:
        self._stats.grants = len(self._authorizer.grants)
        return self._stats

    def _grant(self, kind: str, charge_box_id: str, home: Path, perm: str) -> Grant:
        grant = Grant(
            username=f"{kind[:4]}-{secrets.token_hex(4)}",
            password=secrets.token_urlsafe(12),
            kind=kind,
            charge_box_id=charge_box_id,
            expires_at=time.monotonic() + self.grant_ttl,
        )
        self._authorizer.add_grant(grant, home, perm)
        return grant

    def _url(self, grant: Grant, path: str = "") -> str:
        auth = f"{quote(grant.username)}:{quote(grant.password, safe='')}"
        return f"ftp://{auth}@{self.public_host}:{self.port}/{path}"

    def grant_upload(self, charge_box_id: str) -> str:
        """A GetDiagnostics ``location``: this station may store files, nothing else."""
        home = self.files.diagnostics_dir(charge_box_id)
        return self._url(self._grant("diagnostics", charge_box_id, home, "elaw"))

    def grant_download(self, charge_box_id: str, firmware_name: str) -> str:
        """An UpdateFirmware ``location`` over FTP: read-only access to the firmware folder."""
        grant = self._grant("firmware", charge_box_id, self.files.firmware_dir, "elr")
        return self._url(grant, quote(safe_name(firmware_name)))

    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        send, receive = trio.open_memory_channel[tuple[str, Path]](64)
        token = trio.lowlevel.current_trio_token()
        # Its own IOLoop: pyftpdlib's default is a process-wide singleton, which another
        # FTP server in this process (tests, a second app) would drive from its thread.
        server = FTPServer(
            (self.host, self.port), self._handler_class(send, token), ioloop=IOLoop()
        )
        self.port = server.address[1]
        self._stats.port = self.port
        thread = threading.Thread(target=self._loop, args=(server,), name="ftp", daemon=True)
        self._stop.clear()
        thread.start()
        try:
            task_status.started(self.port)
            async with receive:
                async for charge_box_id, path in receive:
                    if self.on_upload is not None:
                        try:
                            await self.on_upload(charge_box_id, path)
                        except Exception:
                            log.exception("recording the upload %s failed", path)
        finally:
            self._stop.set()
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(thread.join)

    def _loop(self, server: FTPServer) -> None:
        # The IOLoop turned directly: pyftpdlib's serve_forever() logs ">>> starting FTP
        # server" at every call, i.e. ten times a second with a non-blocking loop.
        log.info("FTP server listening on %s:%s", self.host, self.port)
        try:
            while not self._stop.is_set():
                server.ioloop.loop(timeout=0.1, blocking=False)
        finally:
            server.close_all()

    def _handler_class(self, send: trio.MemorySendChannel[tuple[str, Path]], token: Any) -> type:
        owner = self
        too_large: set[str] = set()  # files cut off for their size (pyftpdlib's thread)

        class CappedData(DTPHandler):  # type: ignore[misc]
            """The data channel; an upload past ``max_upload_bytes`` is cut off."""

            def handle_read(self) -> None:
                super().handle_read()
                file = self.file_obj
                if not self.receive or self._closed or file is None or file.closed:
                    return
                if file.tell() > owner.max_upload_bytes:
                    too_large.add(file.name)
                    limit = owner.max_upload_bytes
                    self._resp = (
                        f"552 The file is larger than {limit} bytes; transfer aborted.",
                        log.warning,
                    )
                    self.close()

            handle_read_event = handle_read  # pyftpdlib's loop calls this name

        class Handler(FTPHandler):  # type: ignore[misc]
            authorizer = owner._authorizer
            banner = "Charge Portal FTP"
            dtp_handler = CappedData
            passive_ports = list(owner.passive_ports) if owner.passive_ports else None
            masquerade_address = owner.masquerade_address
            permit_foreign_addresses = False
            auth_failed_timeout = owner.failed_login_delay

            def on_login(self, username: str) -> None:
                owner._stats.logins += 1

            def on_login_failed(self, username: str, password: str | None = None) -> None:
                # pyftpdlib 1.x passes the user name, 2.x the password too
                owner._stats.failed_logins += 1

            def on_file_sent(self, file: str) -> None:
                owner._stats.files_sent += 1

            def on_incomplete_file_received(self, file: str) -> None:
                owner._stats.uploads_incomplete += 1
                if file in too_large:  # nothing of it is kept: the disk is not a dump
                    too_large.discard(file)
                    owner._stats.uploads_too_large += 1
                    log.warning("FTP upload %s cut off at %d bytes", file, owner.max_upload_bytes)
                    with contextlib.suppress(OSError):
                        os.remove(file)

            def on_file_received(self, file: str) -> None:
                owner._stats.files_received += 1
                grant = owner._authorizer.grants.get(self.username)
                if grant is None or grant.kind != "diagnostics":
                    return
                owner._stats.recent = [*owner._stats.recent[-9:], Path(file).name]
                try:
                    trio.from_thread.run(
                        send.send, (grant.charge_box_id, Path(file)), trio_token=token
                    )
                except (
                    trio.RunFinishedError,
                    trio.Cancelled,
                    trio.BrokenResourceError,
                    trio.ClosedResourceError,
                ):
                    log.warning("FTP upload %s arrived while shutting down", file)

        return Handler
