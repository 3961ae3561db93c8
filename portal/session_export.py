"""Exports of the sessions table: .xlsx (openpyxl write-only, split across sheets) and CSV.

Memory stays flat whatever the row count: rows come from ``iter_sessions`` in keyset
chunks, openpyxl's write-only worksheets spool their XML to temporary files, and the
finished workbook is streamed from disk in chunks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from db.system.timezones import UTC_NAME, utc_to_local
from portal.session_params import COLUMNS

__all__ = [
    "EXCEL_MAX_DATA_ROWS",
    "EXPORT_COLUMNS",
    "ExportCancelledError",
    "csv_chunks",
    "export_value",
    "write_xlsx",
]

#: Excel's own limit: 1,048,576 rows per sheet, one of them the header.
EXCEL_MAX_DATA_ROWS = 1_048_575

#: Every SPEC §6 field, in the table's order.
EXPORT_COLUMNS: tuple[str, ...] = (
    "start",
    "duration",
    "end",
    "node",
    "site",
    "energy",
    "station",
    "outlet",
    "auth",
    "id",
    "server_date",
    "email",
    "meter",
    "id_tag",
    "state",
)

TIME_FORMAT = "yyyy-mm-dd hh:mm:ss.0"
ENERGY_FORMAT = "0.000"
#: a duration is a number of days in Excel; shown as SPEC §6 writes it (``1hrs 33min 1sec``)
DURATION_FORMAT = '[h]"hrs "m"min "s"sec"'


class ExportCancelledError(Exception):
    """The progress callback asked the export to stop."""


def export_value(row: dict[str, Any], key: str, zone: str | None = None) -> Any:
    """The cell value of ``key`` for ``row`` (durations as SPEC text, energy as a number,
    times as naive wall-clock datetimes of ``zone``, None: UTC)."""
    if key == "duration":
        return row["duration_text"]
    value = row[key]
    if isinstance(value, dt.datetime):
        return utc_to_local(value, zone)
    return value


def _header(columns: Sequence[str], zone: str | None = None) -> list[str]:
    """Column labels; a time column names its zone: ``Start session (Europe/Stockholm)``."""
    return [
        f"{COLUMNS[key].label} ({zone or UTC_NAME})"
        if COLUMNS[key].kind == "time"
        else COLUMNS[key].label
        for key in columns
    ]


def write_xlsx(
    rows: Iterable[dict[str, Any]],
    target: str | Path | BinaryIO,
    *,
    columns: Sequence[str] = EXPORT_COLUMNS,
    sheet_rows: int = EXCEL_MAX_DATA_ROWS,
    sheet_title: str = "Sessions",
    progress: Callable[[int], None] | None = None,
    progress_every: int = 5000,
    zone: str | None = None,
) -> int:
    """Write ``rows`` to an .xlsx workbook at ``target``; returns the number of data rows.
    Times are Excel datetimes on the wall clock of ``zone`` (None: UTC), named in the header.

    A sheet holds at most ``sheet_rows`` data rows under its header, then the export
    continues on ``Sessions 2``, ``Sessions 3``… ``progress(n)`` is called every
    ``progress_every`` rows; raising ``ExportCancelledError`` from it stops the export.
    """
    if sheet_rows < 1:
        raise ValueError("sheet_rows must be positive")
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    time_keys = {i for i, k in enumerate(columns) if COLUMNS[k].kind == "time"}
    energy_keys = {i for i, k in enumerate(columns) if k in ("energy", "meter")}
    duration_keys = {i for i, k in enumerate(columns) if k == "duration"}
    sheet = None
    sheet_count = 0
    in_sheet = sheet_rows
    written = 0

    def new_sheet() -> Any:
        nonlocal sheet_count
        sheet_count += 1
        ws = workbook.create_sheet(
            sheet_title if sheet_count == 1 else f"{sheet_title} {sheet_count}"
        )
        ws.freeze_panes = "A2"
        for index, key in enumerate(columns):
            width = 21 if index in time_keys else max(10, len(COLUMNS[key].label) + 2)
            ws.column_dimensions[_letter(index)].width = width
        header = []
        for label in _header(columns, zone):
            cell = WriteOnlyCell(ws, value=label)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        return ws

    styled: dict[int, WriteOnlyCell] = {}
    for row in rows:
        if in_sheet >= sheet_rows:
            sheet = new_sheet()
            in_sheet = 0
            # one styled cell per column, reused: a write-only row is serialised on append
            styled = {}
            for index in time_keys | energy_keys | duration_keys:
                styled[index] = WriteOnlyCell(sheet)
                styled[index].number_format = (
                    TIME_FORMAT
                    if index in time_keys
                    else DURATION_FORMAT
                    if index in duration_keys
                    else ENERGY_FORMAT
                )
        assert sheet is not None
        values: list[Any] = []
        for index, key in enumerate(columns):
            value = export_value(row, key, zone) if index not in duration_keys else _days(row)
            if value is not None and index in styled:
                cell = styled[index]
                cell.value = value
                value = cell
            elif isinstance(value, str) and value.startswith("="):
                # text from stations and people stays text: never a formula Excel would run
                text = WriteOnlyCell(sheet, value=value)
                text.data_type = "s"
                value = text
            values.append(value)
        sheet.append(values)
        in_sheet += 1
        written += 1
        if progress is not None and written % progress_every == 0:
            progress(written)
    if sheet is None:
        new_sheet()  # an empty export still opens, with its header
    workbook.save(target)
    if progress is not None:
        progress(written)
    return written


def _days(row: dict[str, Any]) -> float | None:
    """The duration as Excel stores one: a fraction of a day (whole seconds, as shown)."""
    seconds = row.get("duration")
    return None if seconds is None else int(seconds) / 86400


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


#: a text cell starting with one of these is a formula to a spreadsheet (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # shown as text, not evaluated
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")[:-2]  # yyyy-mm-dd hh:mm:ss.s
    return value


def csv_chunks(
    rows: Iterable[dict[str, Any]],
    *,
    columns: Sequence[str] = EXPORT_COLUMNS,
    rows_per_chunk: int = 2000,
    header: bool = True,
    zone: str | None = None,
) -> Iterator[bytes]:
    """UTF-8 CSV (with BOM, so Excel reads it right) in chunks of ``rows_per_chunk`` rows;
    times on the wall clock of ``zone`` (None: UTC), named in the header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        buffer.write("\ufeff")
        writer.writerow(_header(columns, zone))
    pending = 0
    for row in rows:
        writer.writerow([_csv_value(export_value(row, key, zone)) for key in columns])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if buffer.tell():
        yield buffer.getvalue().encode()
