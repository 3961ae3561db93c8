"""System → General, Backups: the last backup (time, size, result), its download for an
administrator, and *Back up now*. The work is ``db.backup``'s; the server's ``DailyBackup``
is in the app config as ``BACKUPS`` (None: no daily backup configured)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
from quart import current_app, flash
from quart.wrappers import Response

from db.backup.records import get_run, last_run, recent_runs
from portal.access import current_principal, not_found
from portal.configuration import bp
from portal.configuration.pages import allowed, back_to
from portal.context import get_store
from portal.export_jobs import stream_file

__all__ = ["backup_panel"]


def _backups() -> Any:
    return current_app.config.get("BACKUPS")


async def backup_panel() -> dict[str, Any]:
    """What the General tab shows of backups."""
    store = get_store()
    backups = _backups()
    principal = current_principal()
    return {
        "backup_last": await store.read(last_run),
        "backup_recent": await store.read(recent_runs, 5),
        "backup_policy": backups.policy.describe() if backups is not None else None,
        "backup_may_download": principal is not None and principal.role == "admin",
    }


@bp.get("/system/backups/<int:run_id>/download")
async def download_backup(run_id: int) -> Any:
    allowed("admin")  # a backup holds every account's password hash
    run = await get_store().read(get_run, run_id)
    if run is None or run["result"] != "ok" or not run["path"]:
        raise not_found("There is no such backup.")
    path = Path(run["path"])
    if not await trio.Path(path).is_file():
        raise not_found("That backup file is no longer there (removed by retention?).")
    # streamed in trio (Quart's send_file reads through asyncio's aiofiles)
    response = Response(stream_file(path), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    response.headers["Content-Length"] = str((await trio.Path(path).stat()).st_size)
    response.headers["Cache-Control"] = "no-store"
    response.timeout = 3600
    return response


@bp.post("/system/backups")
async def backup_now() -> Any:
    allowed("admin")
    backups = _backups()
    if backups is None:
        await flash("No backup folder is configured for this server (serve --backup-dir).")
        return back_to("general", "system")
    run = await backups.backup_now()
    if run is None or run["result"] != "ok":
        await flash(f"The backup failed: {run['message'] if run else 'another one is running'}")
    else:
        await flash(f"Backup {run['name']} written ({run['size_bytes']:,} bytes).")
    return back_to("general", "system")
