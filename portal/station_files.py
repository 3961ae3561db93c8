"""Firmware images served to stations over HTTP, without login (stations cannot log in).

The file name is the only key; names are those the portal stored (``filestore.storage``), so
nothing outside the firmware folder can be reached.
"""

from __future__ import annotations

from typing import Any

import trio
from quart import Blueprint, send_file

from filestore.storage import FileNameError
from portal.access import not_found
from portal.configuration.deps import files_state

__all__ = ["bp"]

bp = Blueprint("station_files", __name__, url_prefix="/files")


@bp.get("/firmware/<name>")
async def firmware(name: str) -> Any:
    try:
        path = files_state().files.firmware_path(name)
    except FileNameError:
        raise not_found("no such image") from None
    if not await trio.Path(path).is_file():
        raise not_found("no such image")
    response = await send_file(path, mimetype="application/octet-stream", as_attachment=True)
    response.headers["Cache-Control"] = "no-cache"
    response.timeout = 3600  # a station on a slow mobile link may take long to download
    return response
