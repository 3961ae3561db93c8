"""``chargeportal serve``: gateway and portal in one Trio process (the composition root)."""

from __future__ import annotations

import logging
import secrets
import socket
import sqlite3
import ssl
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import peewee
import trio

from db import Store, open_store
from db.engine.connection import DatabaseURLError, is_sqlite
from db.schema.models import Setting
from db.system.cluster import NodeIdInUseError

if TYPE_CHECKING:
    from db.backup.daily import DailyBackup

log = logging.getLogger("chargeportal")


@dataclass
class ServeOptions:
    db: str
    host: str = "127.0.0.1"
    gateway_port: int = 9000
    portal_port: int = 8000
    tls_cert: str | None = None
    tls_key: str | None = None
    ftp_port: int | None = 2121  # negative: no FTP server; None: as the system settings say
    files_root: str = "var/files"
    ftp_max_upload_mb: int = 100  # one diagnostics upload at most (cut off with 552 beyond)
    max_pending_handshakes: int = 512
    stale_session_grace: float = 120.0
    frame_log: int = 1000  # frames kept per station in its message log; 0: none
    csr_ca_cert: str = ""
    csr_ca_key: str = ""
    role: str = "all"  # all | gateway | portal (gateway or portal only: PostgreSQL)
    workers: int = 1  # processes sharing the listening ports (SO_REUSEPORT)
    reuse_port: bool = False  # set in each worker of several
    node_id: str = ""  # a cluster node's name (default: host-role-pid-random)
    tls_client_ca: str = ""  # security profile 3: CA bundle for client certificates
    csr_sign_command: str = ""  # an external CA: CSR on stdin, chain on stdout
    backup_dir: str = ""  # the daily backup's folder; empty: no daily backup
    backup_time: str = "02:30"  # wall-clock time in the system zone
    backup_keep_daily: int = 7
    backup_keep_weekly: int = 4
    backup_catch_up: bool = True  # back up at start when the last good one is > a day old


def server_ssl_context(
    cert: str | None, key: str | None, client_ca: str | None = None
) -> ssl.SSLContext | None:
    """TLS for stations (OCPP security profile 2; 3 with ``client_ca``), when a
    certificate is given (the portal's hypercorn reads the same files itself)."""
    if not cert or not key:
        return None
    from gateway.tls import station_tls_context

    return station_tls_context(cert, key, client_ca or None)


def portal_secret_key() -> str:
    """The key signing portal cookies, kept in the database so logins survive a restart."""
    row, _ = Setting.get_or_create(
        key="portal.secret_key", defaults={"value": secrets.token_urlsafe(32)}
    )
    return str(row.value)


def _describe(
    options: ServeOptions, gateway_port: int | None, portal_port: int | None
) -> list[str]:
    tls = options.tls_cert is not None
    ws, http = ("wss", "https") if tls else ("ws", "http")
    lines = [f"database      {_without_password(options.db)}"]
    if options.role != "all" or options.workers > 1:
        lines.append(f"role          {options.role}")
    if gateway_port is not None:
        lines.append(
            f"OCPP 1.6-J    {ws}://{options.host}:{gateway_port}/Ocpp/websocket/<chargeBoxId>"
        )
    if portal_port is not None:
        lines.append(f"portal        {http}://{options.host}:{portal_port}/")
        lines.append(
            f"OCPP 1.5 SOAP {http}://{options.host}:{portal_port}/Ocpp/CentralSystemService15"
        )
        lines.append(f"JSON API      {http}://{options.host}:{portal_port}/api/v1/openapi.json")
        if options.ftp_port is not None and options.ftp_port >= 0:
            lines.append(f"FTP (files)   ftp://{options.host}:{options.ftp_port}/")
    return lines


async def serve(
    options: ServeOptions,
    *,
    task_status: trio.TaskStatus[tuple[int | None, int | None]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Open the database, then run this process's role (gateway, portal or both) until
    cancelled. On PostgreSQL the process is a node of a cluster (``gateway.cluster``)."""
    from gateway import Gateway, GatewayConfig
    from gateway.admission import raise_open_file_limit
    from gateway.api import GatewayAPI
    from gateway.transport import reuse_port_sockets

    check_role(options)
    context = server_ssl_context(options.tls_cert, options.tls_key, options.tls_client_ca)
    open_files = raise_open_file_limit()  # 1,024 by default: far too few for stations
    log.info("open-file limit %d", open_files)
    async with open_store(options.db) as store, _held_by_server(store):
        clustered = not is_sqlite(store.database)
        node = events = None
        if clustered:
            from gateway.cluster.events import ClusterEventBus
            from gateway.cluster.node import new_node_id

            node_id = options.node_id or new_node_id(options.role)
            events = ClusterEventBus(node_id)
        gateway = None
        if options.role in ("all", "gateway"):
            gateway = Gateway(
                store,
                config=GatewayConfig(
                    max_pending_handshakes=options.max_pending_handshakes,
                    stale_session_grace=options.stale_session_grace,
                    frame_log=options.frame_log > 0,
                    frame_log_per_station=max(options.frame_log, 1),
                    ca_cert_file=options.csr_ca_cert,
                    ca_key_file=options.csr_ca_key,
                    client_ca_file=options.tls_client_ca,
                    ca_sign_command=options.csr_sign_command,
                    reuse_port=options.reuse_port,
                ),
                events=events,
            )
        api: GatewayAPI | None = gateway
        async with trio.open_nursery() as nursery:
            if events is not None:
                from gateway.cluster.node import ClusterConfig, ClusterNode
                from gateway.cluster.remote import ClusterGateway

                node = ClusterNode(
                    store,
                    ClusterConfig(events.node_id, options.role),
                    gateway=gateway,
                    events=events,
                )
                if gateway is not None:
                    gateway.supervisor.cluster = node
                await nursery.start(node.run)
                api = ClusterGateway(store, node, gateway)
            gateway_port = None
            if gateway is not None:
                gateway_port = await nursery.start(
                    partial(gateway.serve, options.host, options.gateway_port, ssl_context=context)
                )
            portal_port = None
            if options.role in ("all", "portal"):
                assert api is not None
                portal_port = await _start_portal(nursery, options, store, api, reuse_port_sockets)
            for line in _describe(options, gateway_port, portal_port):
                print(line, flush=True)
            task_status.started((gateway_port, portal_port))


async def _start_portal(
    nursery: trio.Nursery,
    options: ServeOptions,
    store: Store,
    api: object,
    reuse_port_sockets: Callable[[str | None, int], list[socket.socket]],
) -> int | None:
    try:
        from portal import create_app, serve_portal
    except ImportError:  # the portal is optional in a gateway-only install
        log.warning("portal package not available: serving the gateway only")
        return None
    from db.system.mail_settings import default_key_file
    from portal.mail import AlarmMailer

    secret = await store.write(portal_secret_key)
    key_file = default_key_file()
    backups = _daily_backup(options, store)
    app = create_app(
        store,
        api,  # type: ignore[arg-type]
        config={
            "SECRET_KEY": secret,
            "FILES_ROOT": options.files_root,
            "FTP_PORT": options.ftp_port,
            "FTP_HOST": options.host,
            "FTP_MAX_UPLOAD_BYTES": options.ftp_max_upload_mb * 1024 * 1024,
            "SMTP_KEY_FILE": key_file,
            "BACKUPS": backups,
        },
    )
    sockets = None
    if options.reuse_port:
        sockets = await trio.to_thread.run_sync(
            reuse_port_sockets, options.host, options.portal_port
        )
    port: int = await nursery.start(
        partial(
            serve_portal,
            app,
            options.host,
            options.portal_port,
            certfile=options.tls_cert,
            keyfile=options.tls_key,
            sockets=sockets,
        )
    )
    # The daily alarm e-mail (SPEC §7) in its own task, never in a request's way. Every
    # portal process runs one: each digest is claimed in the database, so it goes out once.
    scheme = "https" if options.tls_cert else "http"
    mailer = AlarmMailer(store, key_file=key_file, portal_url=f"{scheme}://{options.host}:{port}")
    await nursery.start(mailer.run)
    # The daily backup: every portal process runs one; the day's slot is claimed in the
    # database, so one of them takes it.
    if backups is not None:
        await nursery.start(backups.run)
    from db.accounts.auth_failures import expire_forever

    nursery.start_soon(expire_forever, store)  # old failed logins, logged-out cookies
    return port


@asynccontextmanager
async def _held_by_server(store: Store) -> AsyncIterator[None]:
    """The server's share of the in-use lock, for as long as it serves: a restore refuses
    meanwhile (``db.backup.inuse``)."""
    from db.backup.inuse import held_by_server

    with held_by_server(store.database):
        yield


def _daily_backup(options: ServeOptions, store: Store) -> DailyBackup | None:
    from db.backup.daily import BackupPolicy, DailyBackup, parse_time_of_day

    if not options.backup_dir:
        return None
    policy = BackupPolicy(
        folder=Path(options.backup_dir),
        at=parse_time_of_day(options.backup_time),
        keep_daily=options.backup_keep_daily,
        keep_weekly=options.backup_keep_weekly,
        catch_up=options.backup_catch_up,
    )
    return DailyBackup(store, policy)


class RoleError(ValueError):
    """A role or worker count this database cannot serve."""


def check_role(options: ServeOptions) -> None:
    """SQLite serves one process: ``--role all --workers 1``; the rest needs PostgreSQL."""
    if options.role not in ROLES:
        raise RoleError(f"--role is one of {', '.join(ROLES)}, not {options.role!r}")
    if options.workers < 1:
        raise RoleError("--workers is 1 or more")
    if options.db.startswith("sqlite") and (options.role != "all" or options.workers != 1):
        raise RoleError(
            "--role gateway/portal and --workers above 1 need PostgreSQL "
            "(--db postgresql://...): the processes share the database and talk through "
            "it; with SQLite one process serves everything (--role all --workers 1)"
        )


ROLES = ("all", "gateway", "portal")


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def run_serve(options: ServeOptions) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        check_role(options)
    except RoleError as refused:
        print(f"chargeportal: error: {refused}", file=sys.stderr)
        raise SystemExit(2) from None
    if options.workers > 1:
        from chargeportal.workers import run_workers

        raise SystemExit(run_workers(options))
    try:
        trio.run(serve, options)
    except BaseException as group:
        exc = _leaf(group)
        if isinstance(exc, KeyboardInterrupt):
            print("stopped", file=sys.stderr)
            return
        from db.backup.inuse import DatabaseInUseError

        refusals = DatabaseURLError | FileNotFoundError | ssl.SSLError | NodeIdInUseError
        if isinstance(exc, refusals | DatabaseInUseError):
            print(f"chargeportal: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        if isinstance(exc, OSError):  # e.g. the port is in use
            print(f"chargeportal: error: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
        if isinstance(exc, peewee.DatabaseError | sqlite3.Error):  # read-only, locked, corrupt
            where = _without_password(options.db)
            print(
                f"chargeportal: error: the database {where} cannot be used: {exc}", file=sys.stderr
            )
            raise SystemExit(1) from None
        raise


def _without_password(url: str) -> str:
    """A database URL fit for a message: ``postgresql://user:***@host/db``."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
