"""Streaming exports of plain tables (alarms, event log) to .xlsx and CSV.

The workbook is written by openpyxl in write-only mode to a temporary file in a worker
thread (rows come from a chunked database iterator in that same thread), then streamed
to the browser in chunks: memory stays flat whatever the row count.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any

import trio
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from quart import Response

from db.engine.store import Store
from db.system.timezones import utc_to_local

__all__ = ["csv_response", "xlsx_response"]

EXCEL_MAX_DATA_ROWS = 1_048_575
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(value: Any, zone: str | None) -> Any:
    """Datetimes (naive UTC) as wall-clock times of ``zone``; other values as they are."""
    return utc_to_local(value, zone) if isinstance(value, dt.datetime) else value


def _write_xlsx(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    title: str,
    path: str,
    zone: str | None = None,
) -> int:
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    sheet: Any = None
    count = 0
    sheets = 0
    for row in rows:
        if sheet is None or count % EXCEL_MAX_DATA_ROWS == 0:
            sheets += 1
            sheet = workbook.create_sheet(title if sheets == 1 else f"{title} {sheets}")
            header = []
            for _, label in columns:
                cell = WriteOnlyCell(sheet, value=label)
                cell.font = bold
                header.append(cell)
            sheet.append(header)
        sheet.append([_local(row.get(key), zone) for key, _ in columns])
        count += 1
    if sheet is None:
        sheet = workbook.create_sheet(title)
        sheet.append([label for _, label in columns])
    workbook.save(path)
    return count


async def _stream_file(path: str) -> AsyncIterator[bytes]:
    try:
        async with await trio.open_file(path, "rb") as handle:
            while chunk := await handle.read(64 * 1024):
                yield chunk
    finally:
        os.unlink(path)


async def xlsx_response(
    store: Store,
    rows: Callable[[], Iterator[dict[str, Any]]],
    columns: Sequence[tuple[str, str]],
    *,
    title: str,
    filename: str,
    zone: str | None = None,
) -> Response:
    """An .xlsx download of ``rows()`` (a sync generator run in a database thread);
    datetimes are written as wall-clock times of ``zone`` (None: UTC)."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)

    def build() -> int:
        return _write_xlsx(rows(), columns, title, path, zone)

    await store.read(build)
    response = Response(_stream_file(path), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.timeout = None
    return response


def _csv_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return "" if value is None else value


async def csv_response(
    store: Store,
    rows: Callable[[], Iterator[dict[str, Any]]],
    columns: Sequence[tuple[str, str]],
    *,
    filename: str,
    zone: str | None = None,
) -> Response:
    """A CSV download of ``rows()`` (built in a database thread into a temporary file);
    datetimes as wall-clock times of ``zone`` (None: UTC)."""
    handle, path = tempfile.mkstemp(suffix=".csv")
    os.close(handle)

    def build() -> None:
        with open(path, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow([label for _, label in columns])
            for row in rows():
                writer.writerow([_csv_value(_local(row.get(key), zone)) for key, _ in columns])

    await store.read(build)
    response = Response(_stream_file(path), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.timeout = None
    return response
