"""Exports of the sessions table: .xlsx (streamed sheet XML, split across sheets) and CSV.

Memory stays flat whatever the row count: rows come in keyset chunks of typed tuples
(``db.sessions.session_export_rows.export_chunks``; table dicts are adapted), each chunk
is written as it arrives (``portal.xlsx_stream``, ADR 0012; CSV through the ``csv``
module's C writer), and the finished workbook is streamed from disk in chunks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from db.sessions.session_export_csv import FORMULA_START, csv_lines
from db.sessions.session_export_rows import row_converter
from db.sessions.session_filters import format_duration
from db.system.timezones import UTC_NAME, utc_to_local
from portal.session_params import COLUMNS
from portal.xlsx_stream import Column, XlsxStream

__all__ = [
    "EXCEL_MAX_DATA_ROWS",
    "EXPORT_COLUMNS",
    "ExportCancelledError",
    "csv_chunks",
    "csv_from_chunks",
    "csv_from_raw_chunks",
    "export_value",
    "typed_rows",
    "write_xlsx",
    "write_xlsx_chunks",
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


def _kind(key: str) -> str:
    """How a column is written: time, duration (seconds), number (kWh), integer or text."""
    if COLUMNS[key].kind == "time":
        return "time"
    if key == "duration":
        return "duration"
    if key in ("energy", "meter"):
        return "number"
    if key in ("id", "outlet"):
        return "integer"
    return "text"


def _xlsx_columns(columns: Sequence[str], zone: str | None) -> list[Column]:
    formats = {"time": TIME_FORMAT, "number": ENERGY_FORMAT, "duration": DURATION_FORMAT}
    out = []
    for key, label in zip(columns, _header(columns, zone), strict=True):
        kind = _kind(key)
        width = 21 if kind == "time" else max(10, len(COLUMNS[key].label) + 2)
        out.append(Column(label, kind, width, formats.get(kind, "General")))
    return out


def typed_rows(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], zone: str | None = None
) -> Iterator[tuple[Any, ...]]:
    """Table rows (``iter_sessions``) as export tuples: local times, duration in seconds."""
    for row in rows:
        yield tuple(
            row.get("duration") if key == "duration" else export_value(row, key, zone)
            for key in columns
        )


def _batched(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


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
    """Write table rows (dicts, as ``iter_sessions`` gives them) to an .xlsx workbook;
    see ``write_xlsx_chunks``."""
    return write_xlsx_chunks(
        _batched(typed_rows(rows, columns, zone), min(progress_every, 200)),
        target,
        columns=columns,
        sheet_rows=sheet_rows,
        sheet_title=sheet_title,
        progress=progress,
        zone=zone,
    )


def write_xlsx_chunks(
    chunks: Iterable[Sequence[tuple[Any, ...]]],
    target: str | Path | BinaryIO,
    *,
    columns: Sequence[str] = EXPORT_COLUMNS,
    sheet_rows: int = EXCEL_MAX_DATA_ROWS,
    sheet_title: str = "Sessions",
    progress: Callable[[int], None] | None = None,
    zone: str | None = None,
) -> int:
    """Write chunks of export tuples (``export_chunks``) to an .xlsx workbook at ``target``;
    returns the number of data rows. Times are Excel datetimes on the wall clock of
    ``zone`` (None: UTC; the tuples already hold them so), named in the header.

    A sheet holds at most ``sheet_rows`` data rows under its header, then the export
    continues on ``Sessions 2``, ``Sessions 3``… ``progress(n)`` is called after each
    chunk; raising ``ExportCancelledError`` from it stops the export.
    """
    if sheet_rows < 1:
        raise ValueError("sheet_rows must be positive")
    book = XlsxStream(target, _xlsx_columns(columns, zone))
    sheets = 0
    in_sheet = sheet_rows
    written = 0
    try:
        for chunk in chunks:
            start = 0
            while start < len(chunk):
                if in_sheet >= sheet_rows:
                    sheets += 1
                    book.add_sheet(sheet_title if sheets == 1 else f"{sheet_title} {sheets}")
                    in_sheet = 0
                part = chunk[start : start + sheet_rows - in_sheet]
                book.write(part)
                in_sheet += len(part)
                start += len(part)
            written += len(chunk)
            if progress is not None:
                progress(written)
        if sheets == 0:
            book.add_sheet(sheet_title)  # an empty export still opens, with its header
    finally:
        book.close()
    if progress is not None:
        progress(written)
    return written


#: a text cell starting with one of these is a formula to a spreadsheet (CSV injection)
_FORMULA_START = FORMULA_START


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
    return csv_from_chunks(
        _batched(typed_rows(rows, columns, zone), rows_per_chunk),
        columns=columns,
        header=header,
        zone=zone,
    )


def _csv_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # shown as text, not evaluated
    return value


def _csv_time(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")[:-2]  # yyyy-mm-dd hh:mm:ss.s
    return _csv_text(value)


def csv_from_chunks(
    chunks: Iterable[Sequence[tuple[Any, ...]]],
    *,
    columns: Sequence[str] = EXPORT_COLUMNS,
    header: bool = True,
    zone: str | None = None,
) -> Iterator[bytes]:
    """CSV bytes, one piece per chunk of export tuples (``export_chunks``): the ``csv``
    module's C writer over the tuples, only times, durations and text converted."""
    exprs = []
    for i, key in enumerate(columns):
        v = f"v[{i}]"
        kind = _kind(key)
        if kind == "time":
            exprs.append(
                f"({v}.isoformat(' ', 'milliseconds')[:-2] if {v}.__class__ is DT else TIME({v}))"
            )
        elif kind == "duration":
            exprs.append(f"DURATION({v})")
        elif kind == "text":  # a text that a spreadsheet would run as a formula gets a quote
            exprs.append(f'("\'" + {v} if {v}.__class__ is str and {v}[:1] in FORMULA else {v})')
        else:
            exprs.append(v)  # numbers: as they are
    scope: dict[str, Any] = {
        "DT": dt.datetime,
        "TIME": _csv_time,
        "DURATION": format_duration,
        "FORMULA": frozenset(_FORMULA_START),
    }
    # one expression per row over the tuple, then the C writer
    convert: Callable[[tuple[Any, ...]], tuple[Any, ...]] = eval(
        f"lambda v: ({', '.join(exprs)}{',' if exprs else ''})", scope
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        buffer.write("\ufeff")
        writer.writerow(_header(columns, zone))
    for chunk in chunks:
        writer.writerows(map(convert, chunk))
        if buffer.tell():
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def csv_from_raw_chunks(
    chunks: Iterable[Sequence[tuple[Any, ...]]],
    *,
    columns: Sequence[str] = EXPORT_COLUMNS,
    header: bool = True,
    zone: str | None = None,
) -> Iterator[bytes]:
    """CSV bytes, one piece per chunk of the driver's raw rows (``raw_chunks``): the same
    bytes as ``csv_from_chunks`` over the typed tuples, built column by column
    (``db.sessions.session_export_csv``)."""
    if len(columns) < 2:  # the csv writer's corner cases: the typed path
        yield from csv_from_chunks(
            (list(map(row_converter(columns, zone), c)) for c in chunks),
            columns=columns,
            header=header,
            zone=zone,
        )
        return
    if header:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        csv.writer(buffer, lineterminator="\r\n").writerow(_header(columns, zone))
        yield buffer.getvalue().encode()
    for text in csv_lines(chunks, columns, zone):
        yield text.encode()
