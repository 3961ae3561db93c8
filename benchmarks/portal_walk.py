"""Benchmark (not a test): the browser walk of every role at scale, each page timed.

``python -m benchmarks.portal_walk`` (``just bench-portal``) builds a demo database with
``--stations`` stations (two outlets each, over the demo sites), ``--badges`` RFID
badges (one EV user each) and ``--sessions`` sessions, serves the real gateway and
portal, connects ``--live`` of the stations as simulated stations over real sockets (the
simulator's command line in its own process), then walks every menu page, tab and chart
of every role at every Navigator level in Debian's Chromium (``tests/portal/walk.py``)
and writes each page's load time into the "Portal pages at scale" section of
BENCHMARKS.md (carried over when ``python -m benchmarks`` rewrites the rest).
A page's time runs from the navigation until the page's own requests have finished.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Portal pages at scale (`benchmarks/portal_walk.py`)"
TARGET = 1.0  # seconds per page


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.portal_walk", description=__doc__)
    parser.add_argument("--stations", type=int, default=1000, help="demo stations added")
    parser.add_argument("--badges", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument(
        "--live", type=int, default=1000, help="of them, run by the simulator (DEMO-0001 …)"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--workdir", type=Path, help="the database (default: a temporary folder)")
    return parser.parse_args(argv)


def _build(database: Any, stations: int, badges: int, sessions: int) -> dict[str, float]:
    """The demo world at scale (sync, in the store's writer thread)."""
    from db.demo.demo_data import generate_sessions
    from db.demo.demo_topology import ensure_demo_topology
    from db.schema.models import IdTag, Outlet, Station
    from tests.portal.conftest import password_hash
    from tests.portal.walk import seed_demo_world

    took: dict[str, float] = {}
    started = time.perf_counter()
    seed_demo_world(password_hash())
    demo = 2 * stations  # DEMO-0001 … with two outlets each, beside the demo's own stations
    ensure_demo_topology(database, outlets=Outlet.select().count() + demo, users=badges)
    took["topology and badges"] = time.perf_counter() - started
    started = time.perf_counter()
    generate_sessions(database, sessions, days=365)
    took["sessions"] = time.perf_counter() - started
    took["stations"] = Station.select().count()  # the demo's own four included
    took["badges"] = IdTag.select().count()
    return took


async def _wait_online(gateway: Any, wanted: int, timeout: float) -> int:
    for _ in range(int(timeout * 2)):  # the gateway has no "n stations online" event
        if len(gateway.online_stations()) >= wanted:
            break
        await trio.sleep(0.5)
    return len(gateway.online_stations())


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from db import open_store
    from gateway import Gateway, GatewayConfig
    from portal import create_app, serve_portal
    from tests.portal.browser import BrowserThread, ensure_chromium
    from tests.portal.conftest import PASSWORD
    from tests.portal.walk import ROLES, Walker

    if ensure_chromium() is None:
        raise SystemExit("Chromium is missing (apt-get install chromium)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="portal-walk-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'walk.sqlite3'}"
    result: dict[str, Any] = {"workdir": str(workdir), "load": [os.getloadavg()[0]]}
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    async with open_store(url) as store, trio.open_nursery() as nursery:
        build = partial(_build, store.database, args.stations, args.badges, args.sessions)
        result["build"] = await store.write(build)
        print(f"[walk] database: {result['build']}", file=sys.stderr)
        gateway = Gateway(store, config=GatewayConfig(supervisor_interval=3600))
        ocpp_port = await nursery.start(gateway.serve, "127.0.0.1", 0)
        config = {"SECRET_KEY": "portal-walk", "FTP_PORT": -1, "FILES_ROOT": str(workdir)}
        app = create_app(store, gateway, config=config)
        portal_port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
        simulator = None
        if args.live:
            command = [
                sys.executable, "-m", "simulator", "run",
                "--url", f"ws://127.0.0.1:{ocpp_port}/Ocpp/websocket",
                "--stations", str(args.live), "--outlets", "2",
                "--id-prefix", "DEMO-", "--id-width", "4",
                "--duration", "3600",
            ]  # fmt: skip
            log = (workdir / "simulator.log").open("w")
            simulator = await trio.lowlevel.open_process(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
            started = time.perf_counter()
            online = await _wait_online(gateway, args.live, 180)
            result["online"] = online
            result["connect_seconds"] = time.perf_counter() - started
            print(f"[walk] {online} stations online", file=sys.stderr)
        browser = BrowserThread()
        await trio.to_thread.run_sync(browser.start)
        try:
            page = await browser.new_page(f"http://127.0.0.1:{portal_port}")
            walker = await browser.run(Walker, page)
            walks = {}
            for role, email in ROLES.items():
                walks[role] = await browser.run(walker.walk, role, email, PASSWORD)
                walked = walks[role]
                print(
                    f"[walk] {role}: {len(walked.visits)} pages at {walked.nodes}", file=sys.stderr
                )
            result["walks"] = walks
            result["online_after"] = len(gateway.online_stations())
            result["load"].append(os.getloadavg()[0])
        finally:
            await trio.to_thread.run_sync(browser.close)
            if simulator is not None:
                simulator.terminate()
                with trio.move_on_after(30):
                    await simulator.wait()
            nursery.cancel_scope.cancel()
    return result


def _section(args: argparse.Namespace, argv: list[str], result: dict[str, Any], took: float) -> str:
    build = result["build"]
    visits = [v for w in result["walks"].values() for v in w.visits]
    seconds = sorted(v.seconds for v in visits)
    slow = [v for v in visits if v.seconds >= TARGET]
    problems = [f"{v.role} {v.url}: {p}" for v in visits for p in v.problems]
    command = "python -m benchmarks.portal_walk " + shlex.join(argv)
    lines = [
        HEADING,
        "",
        f"- Command: `{command.strip()}` (started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"took {took:.0f} s)",
        f"- Data: {build['stations']:,.0f} stations (2 outlets each), {build['badges']:,.0f} "
        f"RFID badges, {args.sessions:,} sessions; "
        f"{result.get('online', 0):,} stations online as simulated stations "
        f"(chargeportal-sim in its own process, real sockets, {result.get('online_after', 0):,} "
        "still online at the end).",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work "
        f"(load average {' → '.join(f'{x:.1f}' for x in result['load'])} from the start to "
        "the end of the walk); gateway, portal and Chromium in this process, the simulator "
        "beside it.",
        "- Time of a page: from the navigation until none of the page's own requests "
        "(charts, panels, tiles) has run for 0.25 s (that quiet quarter second not counted). "
        f"Target: under {TARGET:.0f} s per page.",
        "",
        f"**{len(visits)} pages; median {statistics.median(seconds):.3f} s, "
        f"p90 {seconds[int(len(seconds) * 0.9)]:.3f} s, slowest {seconds[-1]:.3f} s; "
        f"{len(slow)} at or over {TARGET:.0f} s; {len(problems)} problems found by the walk.**",
        "",
        "| role | level | page | status | seconds |",
        "|---|---|---|---|---|",
    ]
    for v in visits:
        flag = " ⚠" if v.seconds >= TARGET else ""
        lines.append(f"| {v.role} | {v.level} | `{v.url}` | {v.status} | {v.seconds:.3f}{flag} |")
    if problems:
        lines += ["", "Problems the walk reported:", ""]
        lines += [f"- {p}" for p in problems[:50]]
    lines += [""]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Put ``section`` into the report at ``path``, replacing this script's last one
    (``python -m benchmarks`` carries it over when it rewrites the rest: its heading
    names the script)."""
    old = path.read_text() if path.exists() else ""
    lines = old.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == HEADING), None)
    if start is None:
        path.write_text(old.rstrip("\n") + "\n\n" + section)
        return
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].startswith("## ") or lines[i].startswith("Raw figures:")
        ),
        len(lines),
    )
    kept = lines[:start] + section.rstrip("\n").splitlines() + [""] + lines[end:]
    path.write_text("\n".join(kept).rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    started = time.perf_counter()
    result = trio.run(run, args)
    section = _section(args, argv, result, time.perf_counter() - started)
    write_section(args.output, section)
    print(f"[walk] wrote {args.output}; data in {result['workdir']}", file=sys.stderr)


if __name__ == "__main__":
    main()
