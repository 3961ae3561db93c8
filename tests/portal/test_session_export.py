"""Session exports: the .xlsx and CSV files hold the filtered rows, typed, split across sheets."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import trio

from db import Store
from db.sessions.session_filters import SessionFilter
from db.sessions.session_queries import iter_sessions
from db.topology.scope import Node, Viewer
from portal.export_jobs import ExportBusyError, ExportJobs, stream_csv
from portal.session_export import EXCEL_MAX_DATA_ROWS, EXPORT_COLUMNS, csv_chunks, write_xlsx
from portal.session_params import parse_filter
from tests.db.session_dataset import NOW, Dataset, build_dataset

ADMIN = Viewer(role="admin")


@pytest.fixture(name="data")
async def _data(store: Store) -> Dataset:
    return await store.write(build_dataset)


async def rows_of(
    store: Store, params: dict[str, str], viewer: Viewer = ADMIN
) -> list[dict[str, Any]]:
    flt = parse_filter(params)
    return await store.read(lambda: list(iter_sessions(flt, viewer, Node(), now=NOW)))


async def test_xlsx_holds_every_field_with_excel_types(
    store: Store, data: Dataset, tmp_path: Path
) -> None:
    rows = await rows_of(store, {"sort": "start"})
    path = tmp_path / "s.xlsx"
    assert write_xlsx(rows, path) == 8
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Sessions"]
    sheet = book["Sessions"]
    table = list(sheet.iter_rows(values_only=True))
    header = table[0]
    assert header[:6] == (
        "Start session (UTC)",  # times name their zone: UTC unless one is given
        "Duration",
        "End session (UTC)",
        "Node identity",
        "Site",
        "Energy (kWh)",
    )
    assert len(table) == 9
    first = dict(zip(EXPORT_COLUMNS, table[1], strict=True))
    assert first["start"] == dt.datetime(2026, 3, 16, 8, 0)
    # a duration is a number Excel can sum, shown as SPEC §6 writes it
    assert first["duration"] == dt.timedelta(hours=1, minutes=30)
    assert sheet.cell(row=2, column=2).number_format == '[h]"hrs "m"min "s"sec"'
    assert first["energy"] == 10.0
    assert first["auth"] == "RFID"
    assert first["email"] == "alice@example.com"
    assert isinstance(first["id"], int)
    assert isinstance(first["outlet"], int)
    assert sheet.cell(row=2, column=1).number_format == "yyyy-mm-dd hh:mm:ss.0"
    running = dict(zip(EXPORT_COLUMNS, table[-1], strict=True))
    assert running["end"] is None
    assert running["energy"] == 2.5
    assert running["state"] == "running"


async def test_xlsx_continues_on_a_new_sheet_at_the_row_limit(
    store: Store, data: Dataset, tmp_path: Path
) -> None:
    rows = await rows_of(store, {"sort": "id"})
    path = tmp_path / "split.xlsx"
    write_xlsx(rows, path, sheet_rows=3)
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["Sessions", "Sessions 2", "Sessions 3"]
    ids = []
    for name in book.sheetnames:
        table = list(book[name].iter_rows(values_only=True))
        assert table[0][0] == "Start session (UTC)"  # every sheet has its header
        assert len(table) - 1 == (2 if name == "Sessions 3" else 3)
        ids += [r[EXPORT_COLUMNS.index("id")] for r in table[1:]]
    book.close()
    assert ids == sorted(data.ids.values())


def test_the_default_sheet_limit_is_excels_own() -> None:
    assert EXCEL_MAX_DATA_ROWS + 1 == 2**20


async def test_empty_export_is_a_valid_workbook_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    assert write_xlsx([], path) == 0
    sheet = openpyxl.load_workbook(path)["Sessions"]
    assert [c.value for c in sheet[1]][:1] == ["Start session (UTC)"]
    assert sheet.max_row == 1


async def test_csv_has_the_filtered_rows(store: Store, data: Dataset) -> None:
    rows = await rows_of(store, {"site": "kista", "sort": "start"})
    text = b"".join(csv_chunks(rows, rows_per_chunk=2)).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "Start session (UTC)"
    assert [r[EXPORT_COLUMNS.index("node")] for r in table[1:]] == ["CP-B1"] * 3
    assert table[1][0] == "2026-03-16 08:00:00.0"
    assert table[1][EXPORT_COLUMNS.index("energy")] == "2.0"


async def test_exports_in_a_zone_write_local_times_and_name_the_zone(
    store: Store, data: Dataset, tmp_path: Path
) -> None:
    rows = await rows_of(store, {"site": "kista", "sort": "start"})
    path = tmp_path / "local.xlsx"
    write_xlsx(rows, path, zone="Europe/Stockholm")
    sheet = openpyxl.load_workbook(path)["Sessions"]
    table = list(sheet.iter_rows(values_only=True))
    start, end = EXPORT_COLUMNS.index("start"), EXPORT_COLUMNS.index("end")
    assert (table[0][start], table[0][end]) == (
        "Start session (Europe/Stockholm)",
        "End session (Europe/Stockholm)",
    )
    # 08:00 UTC on 16 March is 09:00 CET, still an Excel datetime with the SPEC format
    assert table[1][start] == dt.datetime(2026, 3, 16, 9, 0)
    assert sheet.cell(row=2, column=start + 1).number_format == "yyyy-mm-dd hh:mm:ss.0"
    text = b"".join(csv_chunks(rows, zone="Europe/Stockholm")).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][start] == "Start session (Europe/Stockholm)"
    assert lines[1][start] == "2026-03-16 09:00:00.0"


def _synthetic(count: int) -> Any:
    start = dt.datetime(2026, 1, 1)
    for i in range(count):
        yield {
            "id": i,
            "start": start + dt.timedelta(minutes=i),
            "end": start + dt.timedelta(minutes=i + 30),
            "duration": 1800.0 + i % 7000,
            "duration_text": "0hrs 30min 0sec",
            "node": f"CP{i % 300:05d}",
            "site": "Solna",
            "energy": i % 50 / 3,
            "station": "Garage",
            "outlet": 1 + i % 2,
            "auth": "RFID",
            "server_date": start + dt.timedelta(minutes=i, seconds=1),
            "email": f"user{i % 1000}@example.com",
            "meter": 1000.5 + i,
            "id_tag": str(1_000_000 + i % 1000),
            "state": "finished",
        }


def test_xlsx_memory_stays_flat_as_rows_grow(tmp_path: Path) -> None:
    peaks = []
    for count in (300, 1_800):
        tracemalloc.start()
        write_xlsx(_synthetic(count), tmp_path / f"{count}.xlsx")
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # six times the rows, not six times the memory
    # (a normal, non-write-only workbook grows about 4x from 300 to 1,800 rows)
    assert peaks[1] < peaks[0] * 1.5


async def test_export_job_reports_progress_and_produces_the_file(
    store: Store, data: Dataset, tmp_path: Path
) -> None:
    jobs = ExportJobs(directory=tmp_path, sheet_rows=5)
    job = jobs.create("admin@example.com", "xlsx")
    with trio.fail_after(30):
        await jobs.run(job, store, parse_filter({"auth": "rfid"}), ADMIN, Node())
    assert job.as_dict() | {"id": "", "filename": ""} == {
        "id": "",
        "state": "done",
        "format": "xlsx",
        "total": 5,
        "done": 5,
        "percent": 100.0,
        "filename": "",
        "error": "",
    }
    assert job.path is not None
    book = openpyxl.load_workbook(job.path, read_only=True)
    assert book.sheetnames == ["Sessions"]
    assert jobs.get(job.id, "someone-else@example.com") is None
    book.close()


async def test_export_job_is_scoped_like_the_table(
    store: Store, data: Dataset, tmp_path: Path
) -> None:
    jobs = ExportJobs(directory=tmp_path)
    job = jobs.create("bob", "csv")
    bob = Viewer("ev-user", data.users["bob"])
    with trio.fail_after(30):
        await jobs.run(job, store, SessionFilter(), bob, Node())
    assert job.path is not None
    table = list(csv.reader(io.StringIO(job.path.read_text("utf-8-sig"))))
    assert sorted(int(r[EXPORT_COLUMNS.index("id")]) for r in table[1:]) == sorted(
        [data.ids["s3"], data.ids["s6"]]
    )


async def test_a_person_runs_a_limited_number_of_exports(tmp_path: Path) -> None:
    jobs = ExportJobs(directory=tmp_path, per_owner=2)
    jobs.create("a", "xlsx")
    jobs.create("a", "csv")
    jobs.create("b", "csv")
    with pytest.raises(ExportBusyError):
        jobs.create("a", "xlsx")


async def test_cancelled_export_leaves_no_file(store: Store, data: Dataset, tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    jobs = ExportJobs(directory=tmp_path / "exports")
    job = jobs.create("a", "csv")
    jobs.cancel(job)
    with trio.fail_after(30):
        await jobs.run(job, store, SessionFilter(), ADMIN, Node())
    assert job.state == "cancelled"
    assert list((tmp_path / "exports").iterdir()) == []


async def test_streamed_csv_equals_the_csv_of_all_rows(store: Store, data: Dataset) -> None:
    flt = parse_filter({"sort": "energy"})
    streamed = b""
    with trio.fail_after(30):
        async for chunk in stream_csv(store, flt, ADMIN, Node(), chunk=3):
            streamed += chunk
    rows = await store.read(lambda: list(iter_sessions(flt, ADMIN, Node())))
    whole = b"".join(csv_chunks(rows))
    # the running session's live duration may tick between the two reads
    strip = EXPORT_COLUMNS.index("duration")

    def cells(data: bytes) -> list[list[str]]:
        table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        return [r[:strip] + r[strip + 1 :] for r in table]

    assert cells(streamed) == cells(whole)
    assert len(cells(streamed)) == 9


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    rows = list(_synthetic(2))
    rows[0]["station"] = '=HYPERLINK("http://evil.example","click")'
    rows[1]["id_tag"] = "+1234"
    path = tmp_path / "f.xlsx"
    write_xlsx(rows, path)
    sheet = openpyxl.load_workbook(path)["Sessions"]
    cell = sheet.cell(row=2, column=EXPORT_COLUMNS.index("station") + 1)
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://evil.example","click")'
    text = b"".join(csv_chunks(rows)).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert (
        table[1][EXPORT_COLUMNS.index("station")] == '\'=HYPERLINK("http://evil.example","click")'
    )
    assert table[2][EXPORT_COLUMNS.index("id_tag")] == "'+1234"
