"""Sessions benchmark: a year of demo sessions, filtered page times, export time and memory.

``python -m benchmarks.sessions_bench`` (1,000,000 sessions; ``--quick``: 20,000) prints
a Markdown section for BENCHMARKS.md. Each export runs in its own process so that its
peak memory (``ru_maxrss``) is the export's alone, not the generator's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: (label, query parameters) — what people type into the Statistics filters
PAGE_CASES: list[tuple[str, dict[str, str]]] = [
    ("newest first, no filter", {}),
    ("one site", {"site": "Kista"}),
    ("one station (contains)", {"station": "DEMO-0042"}),
    ("a month, energy ≥ 30 kWh", {"from": "{month_from}", "to": "{month_to}", "energy_min": "30"}),
    ("RFID, outlet 2, sorted by energy", {"auth": "rfid", "outlet": "2", "sort": "-energy"}),
    ("e-mail contains", {"email": "ev00012"}),
    ("sorted by duration", {"sort": "-duration"}),
    ("running sessions", {"state": "running"}),
    ("EV user: his own sessions", {"as": "ev-user"}),
    ("site administrator: his site", {"as": "site-admin"}),
]


def _open(path: Path) -> Any:
    sys.path.insert(0, str(ROOT))
    from db import migrate, open_database

    database = open_database(f"sqlite:///{path}")
    migrate(database)
    return database


def fill(path: Path, sessions: int, seed: int = 1) -> dict[str, Any]:
    from db.demo.demo_data import generate_sessions

    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    database = _open(path)
    started = time.perf_counter()
    stats = generate_sessions(database, sessions, seed=seed)
    seconds = time.perf_counter() - started
    database.close()
    return {
        "sessions": stats.sessions,
        "running": stats.running,
        "stations_added": stats.stations_added,
        "users_added": stats.users_added,
        "seconds": round(seconds, 1),
        "rows_per_s": round(stats.sessions / seconds),
        "db_mb": round(path.stat().st_size / 1e6, 1),
    }


def _existing(path: Path) -> dict[str, Any]:
    from db.schema.models import ChargingSession

    database = _open(path)
    count = ChargingSession.select().count()
    running = ChargingSession.select().where(ChargingSession.end_time.is_null()).count()
    database.close()
    size = round(path.stat().st_size / 1e6, 1)
    return {"sessions": count, "running": running, "stations_added": 0, "users_added": 0} | {
        "seconds": 0.0,
        "rows_per_s": 0,
        "db_mb": size,
        "reused": True,  # filled by an earlier run (--keep-db), migrated to today's schema
    }


def page_times(path: Path, repeats: int = 5, deep: int = 20) -> list[dict[str, Any]]:
    """Median time of the first page (50 rows) and of page ``deep`` (following cursors)."""
    from db.schema.models import Site, User
    from db.sessions.session_aggregates import data_span
    from db.sessions.session_queries import count_sessions, page_sessions
    from db.topology.scope import Node, Viewer
    from portal.session_params import parse_filter

    database = _open(path)
    admin = Viewer("admin")
    _, last = data_span(admin, Node())
    assert last is not None
    month_to = last.replace(day=1).date().isoformat()
    month_from = (last.replace(day=1) - dt.timedelta(days=1)).replace(day=1).date().isoformat()
    out = []
    viewers = {"admin": admin}
    ev_user = User.select().where(User.role == "ev-user").order_by(User.id).first()
    viewers["ev-user"] = Viewer("ev-user", ev_user.id if ev_user else None)
    first_site = Site.select().order_by(Site.id).first()
    viewers["site-admin"] = Viewer("site-admin", None, first_site.id if first_site else None)
    for label, raw in PAGE_CASES:
        params = {k: v.format(month_from=month_from, month_to=month_to) for k, v in raw.items()}
        viewer = viewers[params.pop("as", "admin")]
        flt = parse_filter(params)
        firsts = []
        for _ in range(repeats):
            started = time.perf_counter()
            page = page_sessions(flt, viewer)
            firsts.append(time.perf_counter() - started)
        cursor_flt, deep_time, pages = flt, 0.0, 0
        for _ in range(deep):
            started = time.perf_counter()
            page = page_sessions(cursor_flt, viewer)
            deep_time = time.perf_counter() - started
            pages += 1
            if page.next_cursor is None:
                break
            cursor_flt = parse_filter({**params, "after": page.next_cursor})
        started = time.perf_counter()
        total = count_sessions(flt, viewer)
        count_time = time.perf_counter() - started
        out.append(
            {
                "case": label,
                "params": params,
                "first_page_ms": round(statistics.median(firsts) * 1000, 1),
                "page_n": pages,
                "page_n_ms": round(deep_time * 1000, 1),
                "count_ms": round(count_time * 1000, 1),
                "rows": total,
            }
        )
    database.close()
    return out


def chart_times(path: Path) -> list[dict[str, Any]]:
    """Each Diagrams chart for the whole system over the last 30 days and the last year,
    from the hourly aggregates (as the portal reads them) and by SQL over the sessions."""
    from functools import partial

    from db.sessions import hourly_charts
    from db.sessions.session_aggregates import (
        auth_share,
        by_hour,
        by_weekday,
        data_span,
        energy_by_station,
        energy_per,
        occupancy,
        peak_power,
        sessions_per_day,
    )
    from db.system.timezones import local_to_utc
    from db.topology.scope import Node, Viewer

    database = _open(path)
    admin, system = Viewer("admin"), Node()
    _, last = data_span(admin, system)
    assert last is not None
    end = dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time())
    zoned, half = "Europe/Stockholm", "Asia/Kolkata"  # DST changes; a :30 offset
    charts: dict[str, tuple[Callable[..., Any], str | None]] = {
        "energy per day": (partial(energy_per, "day"), None),
        f"energy per day ({zoned})": (partial(energy_per, "day"), zoned),
        f"energy per day ({half})": (partial(energy_per, "day"), half),
        "energy per month": (partial(energy_per, "month"), None),
        f"energy per month ({half})": (partial(energy_per, "month"), half),
        "sessions by hour of day": (by_hour, None),
        f"sessions by hour of day ({zoned})": (by_hour, zoned),
        "sessions by weekday": (by_weekday, None),
        f"sessions by weekday ({zoned})": (by_weekday, zoned),
        "energy by station (top 20)": (energy_by_station, None),
        "RFID vs anonymous": (auth_share, None),
        "peak power per day": (partial(peak_power, "day"), None),
        "outlet occupancy": (occupancy, None),
        "timeline (sessions per day)": (sessions_per_day, None),
    }
    out = []
    for label, (fn, zone) in charts.items():
        row: dict[str, Any] = {"chart": label}
        for path_name, enabled in (("agg", True), ("sql", False)):
            hourly_charts.ENABLED = enabled
            for days in (30, 365):
                local_end = end
                start, stop = end - dt.timedelta(days=days), end
                if zone is not None:
                    start, stop = local_to_utc(start, zone), local_to_utc(local_end, zone)
                kwargs = {"zone": zone} if zone is not None else {}
                times = []
                for _ in range(7 if enabled else 3):
                    started = time.perf_counter()
                    fn(admin, system, start, stop, **kwargs)
                    times.append(time.perf_counter() - started)
                row[f"{path_name}{days}_ms"] = round(statistics.median(times) * 1000, 1)
        hourly_charts.ENABLED = True
        row["d30_ms"], row["d365_ms"] = row["agg30_ms"], row["agg365_ms"]
        row["aggregated"] = label.split(" (")[0] in AGGREGATED_CHARTS
        out.append(row)
    database.close()
    return out


#: the charts the hourly aggregates serve (the others aggregate the sessions in SQL)
AGGREGATED_CHARTS = {
    "energy per day",
    "energy per month",
    "sessions by hour of day",
    "sessions by weekday",
    "outlet occupancy",
    "timeline (sessions per day)",
}


def export_child(path: Path, fmt: str, limit: int | None, out: Path) -> dict[str, Any]:
    """Run in a fresh process: export every session (or the first ``limit``) to ``out``."""
    from db.sessions.session_export_rows import export_chunks, raw_chunks
    from db.sessions.session_filters import SessionFilter
    from db.sessions.session_queries import count_sessions
    from db.topology.scope import Node, Viewer
    from portal.session_csv_file import write_csv_file
    from portal.session_export import EXPORT_COLUMNS, csv_from_raw_chunks, write_xlsx_chunks

    database = _open(path)
    started = time.perf_counter()
    flt, admin = SessionFilter(), Viewer("admin")
    # what an export job does: keyset chunks, the next one read while this is written
    # (.xlsx: typed tuples; CSV: the driver's tuples, written column by column, and by
    # two processes when large)
    if fmt == "xlsx":
        chunks = export_chunks(flt, admin, Node(), EXPORT_COLUMNS, prefetch=True)
        count = write_xlsx_chunks(chunks if limit is None else _first_rows(chunks, limit), out)
    elif limit is None:
        count = count_sessions(flt, admin, Node())  # the job counts first, too
        write_csv_file(out, flt, admin, Node(), total=count)
    else:
        chunks = _first_rows(raw_chunks(flt, admin, Node(), prefetch=True), limit)
        with out.open("wb") as handle:
            for data in csv_from_raw_chunks(chunks):
                handle.write(data)
        count = limit
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CSV's second process
    second = fmt == "csv" and limit is None  # (an import may run a short-lived process too)
    database.close()
    return {
        "format": fmt,
        "rows": count,
        "seconds": round(seconds, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "child_cpu_s": round(children.ru_utime + children.ru_stime, 1) if second else 0.0,
        "child_peak_rss_mb": round(children.ru_maxrss / 1024, 1) if second else 0.0,
        "rows_per_s": round(count / seconds) if seconds else 0,
        "peak_rss_mb": _peak_rss_mb(),
        "file_mb": round(out.stat().st_size / 1e6, 1),
    }


def _first_rows(chunks: Any, limit: int) -> Any:
    left = limit
    for chunk in chunks:
        yield chunk[:left]
        left -= len(chunk)
        if left <= 0:
            return


def _peak_rss_mb() -> float:
    """This process's peak RSS. ``VmHWM`` belongs to the process image, while
    ``ru_maxrss`` survives fork+exec and would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def export(path: Path, fmt: str, limit: int | None = None) -> dict[str, Any]:
    out = path.with_name(f"export-{limit or 'all'}.{fmt}")
    cmd = [sys.executable, "-m", "benchmarks.sessions_bench", "--export-child", str(path), fmt,
           str(limit or 0), str(out)]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, timeout=3600)
    out.unlink(missing_ok=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(
    sessions: int, workdir: Path, *, keep_db: bool = False, exports: bool = True
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "sessions.sqlite3"
    if keep_db and path.exists():
        results: dict[str, Any] = {"fill": _existing(path)}
    else:
        results = {"fill": fill(path, sessions)}
    results["pages"] = page_times(path)
    results["charts"] = chart_times(path)
    if not exports:
        results["exports"] = []
        return results
    small = min(100_000, sessions // 10)
    results["exports"] = [
        export(path, "xlsx", small),
        export(path, "xlsx"),
        export(path, "csv"),
    ]
    return results


def render(results: dict[str, Any]) -> str:
    fill_ = results["fill"]
    if fill_.get("reused"):
        made = (
            f"Demo data: {fill_['sessions']:,} sessions over a year ({fill_['running']} still "
            "running) in a database filled by an earlier run (`--keep-db`) and migrated to the "
            f"current schema; SQLite file {fill_['db_mb']} MB."
        )
    else:
        made = (
            f"Demo data: {fill_['sessions']:,} sessions over a year ({fill_['running']} still "
            f"running; {fill_['stations_added']} demo stations, {fill_['users_added']} demo EV "
            f"users) generated and inserted in {fill_['seconds']} s "
            f"({fill_['rows_per_s']:,} rows/s); SQLite file {fill_['db_mb']} MB."
        )
    lines = [
        made,
        "",
        "Statistics page (50 rows, administrator unless said, whole system; median of 5; "
        "*page N* follows the keyset cursor N pages deep):",
        "",
        "| filter | rows selected | first page | page N | N | total count |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for p in results["pages"]:
        lines.append(
            f"| {p['case']} | {p['rows']:,} | {p['first_page_ms']} ms | {p['page_n_ms']} ms | "
            f"{p['page_n']} | {p['count_ms']} ms |"
        )
    lines += [
        "",
        "Diagrams (whole system, administrator; median of 7, by SQL of 3): from the "
        "aggregates kept by triggers (what the portal reads: energy, sessions, hours and "
        "weekdays from the per-day rollup `session_day_site` folded into local days in SQL, "
        "occupancy from the hourly `session_hour_site`) and, for comparison, "
        "by SQL over the sessions (`hourly_charts.ENABLED = False`, the path before issue 19; "
        "the charts marked * have no aggregate path and take the SQL in both columns):",
        "",
        "| chart | last 30 days | last year | last 30 days by SQL | last year by SQL |",
        "|---|---:|---:|---:|---:|",
    ]
    for c in results.get("charts", []):
        mark = "" if c.get("aggregated", True) else " *"
        lines.append(
            f"| {c['chart']}{mark} | {c['d30_ms']} ms | {c['d365_ms']} ms | "
            f"{c.get('sql30_ms', '—')} ms | {c.get('sql365_ms', '—')} ms |"
        )
    if not results["exports"]:
        return "\n".join(lines)
    lines += [
        "",
        "Export of every session (each in its own process; peak RSS of that process; "
        "a CSV of 100,000 rows or more is written by two processes: *a + b* is the "
        "export's process + the second one):",
        "",
        "| format | rows | time | CPU | rows/s | peak RSS | file |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in results["exports"]:
        cpu, rss = f"{e.get('cpu_s', '—')}", f"{e['peak_rss_mb']}"
        if e.get("child_cpu_s"):
            cpu, rss = f"{cpu} + {e['child_cpu_s']}", f"{rss} + {e['child_peak_rss_mb']}"
        lines.append(
            f"| {e['format']} | {e['rows']:,} | {e['seconds']} s | {cpu} s | "
            f"{e['rows_per_s']:,} | {rss} MB | {e['file_mb']} MB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sessions_bench", description=__doc__
    )
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 sessions")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "sessions")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON too")
    parser.add_argument("--keep-db", action="store_true", help="reuse the filled database")
    parser.add_argument("--no-exports", action="store_true", help="pages and charts only")
    parser.add_argument(
        "--export-child", nargs=4, metavar=("DB", "FMT", "LIMIT", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.export_child:
        db, fmt, limit, out = args.export_child
        print(json.dumps(export_child(Path(db), fmt, int(limit) or None, Path(out))))
        return None
    sessions = 20_000 if args.quick else args.sessions
    results = run(sessions, args.workdir, keep_db=args.keep_db, exports=not args.no_exports)
    print(render(results))
    if args.json:  # the last line: read by ``python -m benchmarks`` for the issue 19 table
        print(json.dumps(results, default=str))
    return results


if __name__ == "__main__":
    main()
