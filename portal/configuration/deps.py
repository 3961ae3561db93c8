"""The configuration pages' dependencies: files, the FTP server, control deps, scope checks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quart import Quart, current_app, request

from db.engine.store import Store
from db.system.settings import get_settings
from db.topology.station_files import record_diagnostics
from filestore.ftp_server import MAX_UPLOAD_BYTES, FtpServer
from filestore.storage import DEFAULT_ROOT, FileStore
from portal.access import current_principal, not_found
from portal.configuration.control import ControlDeps
from portal.context import get_gateway, get_store

log = logging.getLogger(__name__)

EXTENSION = "chargeportal_files"


@dataclass
class FilesState:
    """Firmware/diagnostics folders and (when embedded) the station-facing FTP server."""

    files: FileStore
    ftp: FtpServer | None = None


def upload_recorder(store: Store, files: FileStore) -> Any:
    """The FTP server's callback: a received diagnostics file becomes a DiagnosticsFile row."""

    async def on_upload(charge_box_id: str, path: Path) -> None:
        import trio

        relative = str(path.relative_to(files.diagnostics_root))
        size = (await trio.Path(path).stat()).st_size
        await store.write(record_diagnostics, charge_box_id, path.name, relative, size)

    return on_upload


def attach_files(app: Quart, files: FileStore, ftp: FtpServer | None = None) -> FilesState:
    """Give the portal its files (and an FTP server the caller runs); see ``setup_files``."""
    state = FilesState(files, ftp)
    app.extensions[EXTENSION] = state
    return state


def setup_files(app: Quart) -> None:
    """Called when the configuration blueprint is registered.

    Unless the composition root attached files already (``attach_files``), the folder is
    ``FILES_ROOT`` (default ``var/files``). The embedded FTP server starts with the app on
    ``FTP_PORT`` (0 = any port) when set; otherwise, outside tests (``TESTING``), on the
    port of the ``ftp.url`` system setting when ``ftp.mode`` is ``embedded``. It binds
    ``FTP_HOST`` (default 127.0.0.1) and gives stations the host of ``ftp.url`` (or
    ``FTP_PUBLIC_HOST``); behind NAT set ``FTP_PASSIVE_PORTS`` ("60000-60099") and
    ``FTP_MASQUERADE_ADDRESS``. A port in use is logged, and the portal runs without it.
    """
    app.config.setdefault("FILES_ROOT", str(DEFAULT_ROOT))
    app.config.setdefault("FTP_PORT", None)

    @app.before_serving
    async def _start_files() -> None:
        from urllib.parse import urlparse

        from portal.context import get_state

        state = app.extensions.get(EXTENSION)
        if state is None:
            state = attach_files(app, FileStore(app.config["FILES_ROOT"]))
        if state.ftp is not None:
            return
        store = get_state().store
        port = app.config.get("FTP_PORT")
        public_host = app.config.get("FTP_PUBLIC_HOST")
        settings = await store.read(get_settings)
        app.config["PORTAL_SYSTEM_NAME"] = settings.get("system.name") or "Charge Portal"
        parsed = urlparse(settings.get("ftp.url", ""))
        if settings.get("ftp.mode") == "embedded":
            public_host = public_host or parsed.hostname
        if port is None and not app.config.get("TESTING"):
            if settings.get("ftp.mode") != "embedded":
                return
            port = parsed.port or 21
        if port is None or int(port) < 0:
            return
        passive = str(app.config.get("FTP_PASSIVE_PORTS") or "")  # e.g. "60000-60099"
        low, _, high = passive.partition("-")
        ftp = FtpServer(
            state.files,
            host=app.config.get("FTP_HOST", "127.0.0.1"),
            port=int(port),
            public_host=public_host,
            passive_ports=range(int(low), int(high) + 1) if low and high else None,
            masquerade_address=app.config.get("FTP_MASQUERADE_ADDRESS"),
            on_upload=upload_recorder(store, state.files),
            max_upload_bytes=int(app.config.get("FTP_MAX_UPLOAD_BYTES") or MAX_UPLOAD_BYTES),
        )
        try:
            await app.nursery.start(ftp.run)  # type: ignore[attr-defined]
        except OSError as exc:
            log.error("embedded FTP server not started on port %s: %s", port, exc)
            return
        state.ftp = ftp
        log.info("embedded FTP server on port %s", ftp.port)


def files_state() -> FilesState:
    state = current_app.extensions.get(EXTENSION)
    if state is None:
        state = attach_files(
            current_app, FileStore(current_app.config.get("FILES_ROOT", DEFAULT_ROOT))
        )  # type: ignore[arg-type]
    return state  # type: ignore[no-any-return]


def running_addresses() -> dict[str, str]:
    """Where this running system is reached (OCPP 1.6 gateway, the portal's OCPP 1.5
    endpoint, embedded FTP server), as
    seen from this request's host: the defaults of the General tab's server addresses
    until an administrator stores others (behind NAT or a proxy, for instance)."""
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    addresses: dict[str, str] = {}
    gateway = get_gateway()
    port = gateway.port
    if port:
        scheme = "wss" if request.scheme == "https" else "ws"
        addresses["ocpp16.url"] = f"{scheme}://{host}:{port}/Ocpp/websocket"
    # OCPP 1.5 SOAP is served by this portal: the scheme, host and port this request used
    addresses["ocpp15.url"] = f"{request.scheme}://{request.host}/Ocpp/CentralSystemService15"
    ftp = files_state().ftp
    if ftp is not None and getattr(ftp, "port", None):
        addresses["ftp.url"] = f"ftp://{host}:{ftp.port}"
    return addresses


async def effective_settings() -> dict[str, str]:
    """System settings, with this running system's addresses where none is stored."""
    return await get_store().read(get_settings, running_addresses())


async def control_deps() -> ControlDeps:
    """ControlDeps for this request: firmware URLs from settings, else this portal's address."""
    settings = await get_store().read(get_settings)
    state = files_state()
    http_base = settings.get("files.http_base") or request.host_url.rstrip("/")
    return ControlDeps(
        store=get_store(),
        gateway=get_gateway(),
        files=state.files,
        ftp=state.ftp,
        http_base=http_base,
        ftp_mode=settings.get("ftp.mode", "embedded"),
        external_ftp_url=settings.get("ftp.url", ""),
    )


async def diagnostics_file(file_id: int) -> tuple[dict[str, Any], Path]:
    """A diagnostics file in the principal's scope and on disk (NotFoundError otherwise)."""
    import trio

    from db.config_errors import NotFoundError
    from db.topology.station_files import get_diagnostics

    principal = current_principal()
    scope = principal.site_scope if principal is not None else None
    view, stored = await get_store().read(get_diagnostics, file_id, scope)
    try:
        path = files_state().files.diagnostics_path(stored)
    except ValueError:
        raise NotFoundError("Not a diagnostics file.") from None
    if not await trio.Path(path).is_file():
        raise NotFoundError("The file is gone from the disk.")
    return view, path


def check_site(site_id: int | None) -> None:
    """404 for anything outside the principal's site (it does not exist for him)."""
    principal = current_principal()
    if principal is None or not principal.can_see_site(site_id):
        raise not_found()


def role() -> str:
    principal = current_principal()
    return principal.role if principal is not None else ""
