"""Notebook load: sessions read by ``portalclient.frames.sessions_frame`` from a real portal.

``python -m benchmarks.notebook_load_bench --sessions 1000000`` fills a fresh SQLite
database with demo sessions, serves the gateway and portal on 127.0.0.1:0, and loads
every session into a DataFrame in a separate client process (the streamed CSV export
read straight into pandas); prints rows, seconds, the frame's own size and the client
process's peak RSS, so the overhead beside the frame shows whether rows were held twice.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import trio

CLIENT = """
import json, sys, time
from portalclient import PortalClient, frames


def hwm():  # this process's peak RSS (VmHWM; getrusage's maxrss survives exec from the parent)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e3



client = PortalClient(sys.argv[1], sys.argv[2], timeout=600)
import pandas
before = hwm()
t0 = time.perf_counter()
frame = frames.sessions_frame(client)
seconds = time.perf_counter() - t0
print(json.dumps({
    "rows": len(frame),
    "seconds": seconds,
    "frame_mb": frame.memory_usage(deep=True).sum() / 1e6,
    "before_mb": before,
    "peak_rss_mb": hwm(),
}))
"""


async def run(sessions: int) -> dict[str, float]:
    from db import open_store
    from db.accounts.api_tokens import create_token
    from db.demo.demo_data import generate_sessions
    from gateway import Gateway
    from portal import create_app, serve_portal

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        async with open_store(url) as store, trio.open_nursery() as nursery:
            t0 = time.perf_counter()
            await store.read(lambda: generate_sessions(store.database, sessions, days=365))
            print(f"filled {sessions:,} sessions in {time.perf_counter() - t0:.1f} s", flush=True)
            _, secret = await store.write(create_token, "bench", "support", None, None)
            app = create_app(store, Gateway(store), config={"SECRET_KEY": "bench"})
            port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
            done = await trio.run_process(
                [sys.executable, "-c", CLIENT, f"http://127.0.0.1:{port}", secret],
                capture_stdout=True,
            )
            nursery.cancel_scope.cancel()
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    args = parser.parse_args()
    r = trio.run(run, args.sessions)
    print("| sessions | load time | rows/s | frame in memory | client RSS before | peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {r['rows']:,} | {r['seconds']:.1f} s | {r['rows'] / r['seconds']:,.0f} "
        f"| {r['frame_mb']:.1f} MB | {r['before_mb']:.1f} MB | {r['peak_rss_mb']:.1f} MB |"
    )


if __name__ == "__main__":
    main()
