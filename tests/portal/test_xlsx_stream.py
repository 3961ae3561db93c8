"""The streamed .xlsx writer gives the workbook openpyxl wrote before (ADR 0012): same
sheets, cells, types, number formats, header, frozen pane and widths."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from db import Store
from db.demo.demo_data import generate_sessions
from db.sessions.session_export_rows import export_chunks
from db.sessions.session_queries import iter_sessions
from db.topology.scope import Node, Viewer
from portal.session_export import (
    DURATION_FORMAT,
    ENERGY_FORMAT,
    EXPORT_COLUMNS,
    TIME_FORMAT,
    _header,
    csv_from_chunks,
    export_value,
    write_xlsx_chunks,
)
from portal.session_params import COLUMNS, parse_filter

ADMIN = Viewer("admin")
NOW = dt.datetime(2026, 4, 10, 12, 0, 0)


def openpyxl_reference(
    rows: list[dict[str, Any]], path: Path, zone: str | None, sheet_rows: int
) -> None:
    """The export as it was written before the streamed writer (openpyxl write-only)."""
    book = Workbook(write_only=True)
    columns = EXPORT_COLUMNS
    times = {i for i, k in enumerate(columns) if COLUMNS[k].kind == "time"}
    for start in range(0, max(len(rows), 1), sheet_rows):
        n = start // sheet_rows + 1
        sheet = book.create_sheet("Sessions" if n == 1 else f"Sessions {n}")
        sheet.freeze_panes = "A2"
        for i, key in enumerate(columns):
            width = 21 if i in times else max(10, len(COLUMNS[key].label) + 2)
            sheet.column_dimensions[get_column_letter(i + 1)].width = width
        header = []
        for label in _header(columns, zone):
            cell = WriteOnlyCell(sheet, value=label)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in rows[start : start + sheet_rows]:
            values: list[Any] = []
            for i, key in enumerate(columns):
                if key == "duration":
                    value = None if row["duration"] is None else int(row["duration"]) / 86400
                    fmt = DURATION_FORMAT
                else:
                    value = export_value(row, key, zone)
                    fmt = TIME_FORMAT if i in times else ENERGY_FORMAT
                if value is not None and (i in times or key in ("duration", "energy", "meter")):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = fmt
                    value = cell
                values.append(value)
            sheet.append(values)
    book.save(path)


def _cells(path: Path) -> dict[str, list[list[tuple[Any, ...]]]]:
    book = openpyxl.load_workbook(path)
    out = {}
    for sheet in book.worksheets:
        out[sheet.title] = [
            # an empty cell is empty whether written as empty text or left out
            [
                (None,)
                if c.value in (None, "")
                else (c.value, c.data_type, c.number_format, bool(c.font.b))
                for c in row
            ]
            for row in sheet.iter_rows()
        ]
        assert sheet.freeze_panes == "A2"
        widths = [sheet.column_dimensions[get_column_letter(i + 1)].width for i in range(15)]
        out[sheet.title].append([("widths", *widths)])
    return out


@pytest.fixture(name="rows")
async def _rows(store: Store) -> list[dict[str, Any]]:
    await store.write(lambda: generate_sessions(store.database, 500, days=40, now=NOW, seed=3))
    flt = parse_filter({"sort": "-start"})
    return await store.read(lambda: list(iter_sessions(flt, ADMIN, Node(), now=NOW)))


@pytest.mark.parametrize("zone", [None, "Europe/Stockholm"])
async def test_streamed_workbook_equals_the_openpyxl_one(
    store: Store, rows: list[dict[str, Any]], tmp_path: Path, zone: str | None
) -> None:
    flt = parse_filter({"sort": "-start"})
    chunks = await store.read(
        lambda: list(
            export_chunks(flt, ADMIN, Node(), EXPORT_COLUMNS, zone=zone, chunk=64, now=NOW)
        )
    )
    new, old = tmp_path / "new.xlsx", tmp_path / "old.xlsx"
    progress: list[int] = []
    assert write_xlsx_chunks(chunks, new, sheet_rows=200, zone=zone, progress=progress.append) == (
        len(rows)
    )
    openpyxl_reference(rows, old, zone, sheet_rows=200)
    assert progress[-1] == len(rows)
    assert progress == sorted(progress)
    assert _cells(new) == _cells(old)
    assert list(_cells(new)) == ["Sessions", "Sessions 2", "Sessions 3"]


def _old_csv_value(value: Any) -> Any:
    """How the CSV export wrote a value before (csv_chunks over table rows)."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")[:-2]
    return value


async def test_csv_from_chunks_equals_the_csv_written_from_table_rows(
    store: Store, rows: list[dict[str, Any]]
) -> None:
    zone = "America/New_York"
    flt = parse_filter({"sort": "-start"})
    chunks = await store.read(
        lambda: list(
            export_chunks(flt, ADMIN, Node(), EXPORT_COLUMNS, zone=zone, chunk=64, now=NOW)
        )
    )
    expected = io.StringIO()
    expected.write("\ufeff")
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(_header(EXPORT_COLUMNS, zone))
    for row in rows:
        writer.writerow([_old_csv_value(export_value(row, k, zone)) for k in EXPORT_COLUMNS])
    new = b"".join(csv_from_chunks(chunks, zone=zone))
    assert new == expected.getvalue().encode()


def test_text_cells_keep_their_characters_and_spaces(tmp_path: Path) -> None:
    from portal.xlsx_stream import Column, XlsxStream

    path = tmp_path / "t.xlsx"
    book = XlsxStream(
        path,
        [
            Column("A"),
            Column("B", "integer"),
            Column("C", "time", number_format="yyyy-mm-dd hh:mm:ss"),
        ],
    )
    book.add_sheet("S")
    book.write([(" <a & b> ", 7, dt.datetime(2026, 1, 2, 3, 4, 5, 600000))])
    book.write([("bell\x07", "not a number", "not a time")])  # the careful path
    book.close()
    sheet = openpyxl.load_workbook(path)["S"]
    assert [c.value for c in sheet[2]] == [" <a & b> ", 7, dt.datetime(2026, 1, 2, 3, 4, 5, 600000)]
    assert [c.value for c in sheet[3]] == ["bell", "not a number", "not a time"]


def test_many_texts_and_repeated_texts_are_each_written_right(tmp_path: Path) -> None:
    """Text cells are remembered for the first texts of a column (exports repeat them);
    past that every cell still holds its own text."""
    import re
    import zipfile

    from portal.xlsx_stream import Column, XlsxStream

    texts = [f"site <{i % 3_000}> & co" for i in range(9_000)]
    path = tmp_path / "t.xlsx"
    book = XlsxStream(path, [Column("A"), Column("B", "integer")])
    book.add_sheet("S")
    for start in range(0, len(texts), 2_000):
        book.write([(t, i) for i, t in enumerate(texts[start : start + 2_000], start)])
    book.close()
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    cells = re.findall(r"<t>([^<]*)</t></is></c><c r=\"B\d+\"><v>(\d+)</v>", xml)
    assert [(text, int(i)) for text, i in cells] == [
        (t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), i)
        for i, t in enumerate(texts)
    ]
