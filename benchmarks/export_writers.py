"""Export writers compared on our rows (ADR 0012): which .xlsx writer, and the CSV path.

``python -m benchmarks.export_writers DB --rows N [--only NAME ...]`` reads the first N
sessions of a demo database (``benchmarks.sessions_bench --keep-db`` makes one) as
export tuples, then times each writer on the same tuples, each in a fresh process
(peak RSS is that process's). XlsxWriter is measured only when installed (it is not a
dependency: it lost).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WRITERS = (
    "fetch-only",
    "openpyxl-write-only",
    "xlsxwriter-constant-memory",
    "xlsx-stream",
    "csv-typed",
    "raw-fetch-only",
    "csv",
)


def _tuples(db: Path, rows: int, raw: bool = False) -> tuple[list[str], Any]:
    sys.path.insert(0, str(ROOT))
    from db import migrate, open_database
    from db.sessions.session_export_rows import export_chunks, raw_chunks
    from db.sessions.session_filters import SessionFilter
    from db.topology.scope import Node, Viewer
    from portal.session_export import EXPORT_COLUMNS

    database = open_database(f"sqlite:///{db}")
    migrate(database)
    columns = list(EXPORT_COLUMNS)
    if raw:  # the driver's tuples, as the CSV export reads them
        chunks = raw_chunks(SessionFilter(), Viewer("admin"), Node(), chunk=20000, prefetch=True)
    else:
        chunks = export_chunks(
            SessionFilter(), Viewer("admin"), Node(), columns, chunk=20000, prefetch=True
        )

    def limited() -> Any:
        left = rows
        for chunk in chunks:
            yield chunk[:left]
            left -= len(chunk)
            if left <= 0:
                return

    return columns, limited()


def child(db: Path, rows: int, name: str, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    columns, chunks = _tuples(db, rows, raw=name in ("csv", "raw-fetch-only"))
    count = 0
    if name in ("fetch-only", "raw-fetch-only"):
        for chunk in chunks:
            count += len(chunk)
    elif name == "xlsx-stream":
        from portal.session_export import write_xlsx_chunks

        count = write_xlsx_chunks(chunks, out, columns=columns)
    elif name == "csv":  # the export's path: column by column from the driver's tuples
        from portal.session_export import csv_from_raw_chunks

        with out.open("wb") as handle:
            for data in csv_from_raw_chunks(chunks, columns=columns):
                handle.write(data)
        count = rows
    elif name == "csv-typed":  # the csv writer over typed tuples (before, ADR 0012)
        from portal.session_export import csv_from_chunks

        with out.open("wb") as handle:
            for data in csv_from_chunks(chunks, columns=columns):
                handle.write(data)
        count = rows
    elif name == "openpyxl-write-only":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        from portal.session_export import _xlsx_columns

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Sessions")
        specs = _xlsx_columns(columns, None)
        sheet.append([c.label for c in specs])
        styled = {}
        for i, spec in enumerate(specs):
            if spec.kind in ("time", "number", "duration"):
                styled[i] = WriteOnlyCell(sheet)
                styled[i].number_format = spec.number_format
        dur = columns.index("duration")
        for chunk in chunks:
            for row in chunk:
                values: list[Any] = []
                for i, value in enumerate(row):
                    if value is not None and i in styled:
                        cell = styled[i]
                        cell.value = int(value) / 86400 if i == dur else value
                        value = cell
                    values.append(value)
                sheet.append(values)
                count += 1
        book.save(out)
    elif name == "xlsxwriter-constant-memory":
        import xlsxwriter  # type: ignore[import-not-found,unused-ignore]

        from portal.session_export import _xlsx_columns

        book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        sheet = book.add_worksheet("Sessions")
        specs = _xlsx_columns(columns, None)
        formats = {
            i: book.add_format({"num_format": s.number_format})
            for i, s in enumerate(specs)
            if s.kind in ("time", "number", "duration")
        }
        sheet.write_row(0, 0, [c.label for c in specs], book.add_format({"bold": True}))
        dur = columns.index("duration")
        r = 0
        for chunk in chunks:
            for row in chunk:
                r += 1
                for i, value in enumerate(row):
                    if value is None:
                        continue
                    if i in formats:
                        if i == dur:
                            sheet.write_number(r, i, int(value) / 86400, formats[i])
                        elif specs[i].kind == "time":
                            sheet.write_datetime(r, i, value, formats[i])
                        else:
                            sheet.write_number(r, i, value, formats[i])
                    else:
                        sheet.write(r, i, value)
        count = r
        book.close()
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    from benchmarks.sessions_bench import _peak_rss_mb

    return {
        "writer": name,
        "rows": count,
        "seconds": round(seconds, 2),
        "rows_per_s": round(count / seconds),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),  # both threads; robust to load
        "peak_rss_mb": _peak_rss_mb(),
        "file_mb": round(out.stat().st_size / 1e6, 1) if out.exists() else 0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export_writers")
    parser.add_argument("db", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", nargs="*", default=list(WRITERS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, out = args.child
        print(json.dumps(child(args.db, args.rows, name, Path(out))))
        return
    for name in args.only:
        out = args.db.with_name(f"writer-{name}.{'csv' if 'csv' in name else 'xlsx'}")
        cmd = [sys.executable, "-m", "benchmarks.export_writers", str(args.db),
               "--rows", str(args.rows), "--child", name, str(out)]  # fmt: skip
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
        if done.returncode:
            print(json.dumps({"writer": name, "error": done.stderr.strip().splitlines()[-1:]}))
            continue
        print(done.stdout.strip().splitlines()[-1], flush=True)
        out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
