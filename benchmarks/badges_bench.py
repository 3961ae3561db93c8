"""RFID badges tab benchmark: page time and size at 100,000 badges (issue 12, fix 7).

``python -m benchmarks.badges_bench`` (100,000 badges; ``--badges N`` for another size)
fills a fresh SQLite database (a third of the badges belong to EV users), then asks
the portal for the RFID badges tab as an administrator through Quart's test client
(the whole request: routing, query, template), and prints a Markdown table: the median
of 5 requests per case, and the page's size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-pass-1"


def fill(badges: int) -> int:
    """The badges and their users; returns the id of a station to open."""
    from db.accounts.passwords import hash_station_password
    from db.schema.models import IdTag, User
    from db.topology.nodes import create_site, create_station

    User.create(
        email="admin@example.com", role="admin", password_hash=hash_station_password(PASSWORD)
    )
    users = badges // 3
    for start in range(0, users, 5000):
        User.insert_many(
            [
                {"email": f"ev{n:06d}@example.com", "role": "ev-user"}
                for n in range(start, min(users, start + 5000))
            ]
        ).execute()
    first = User.select(User.id).where(User.role == "ev-user").order_by(User.id).first()
    base = first.id if first else 0
    for start in range(0, badges, 5000):
        IdTag.insert_many(
            [
                {
                    "id_tag": str(10_000_000 + n * 7),
                    "status": "Blocked" if n % 50 == 0 else "Accepted",
                    "user": base + n if n < users else None,
                    "note": "lost" if n % 1000 == 0 else "",
                }
                for n in range(start, min(badges, start + 5000))
            ]
        ).execute()
    return create_station("BENCH-1", site_id=create_site("Bench"))


async def _measure(client: Any, url: str) -> tuple[float, int, str]:
    times = []
    body = ""
    for _ in range(5):
        started = time.perf_counter()
        response = await client.get(url)
        body = await response.get_data(as_text=True)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times) * 1000, len(body.encode()), body


def _next_url(body: str) -> str | None:
    import re

    found = re.search(r'<a [^>]*href="([^"]+)"[^>]*data-testid="tags-next"', body)
    return found.group(1).replace("&amp;", "&") if found else None


async def run(badges: int, folder: Path) -> list[tuple[str, float, int]]:
    sys.path.insert(0, str(ROOT))
    from db import open_store
    from gateway import Gateway
    from portal import create_app

    results: list[tuple[str, float, int]] = []
    async with open_store(f"sqlite:///{folder / 'badges.sqlite3'}") as store:
        started = time.perf_counter()
        station_id = await store.write(fill, badges)
        print(f"filled {badges:,} badges in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        app = create_app(store, Gateway(store), config={"SECRET_KEY": "bench", "TESTING": True})
        async with app.test_app() as test_app:
            client = test_app.test_client()
            page = await (await client.get("/login")).get_data(as_text=True)
            token = page.split('name="csrf_token" value="')[1].split('"')[0]
            await client.post(
                "/login",
                form={"email": "admin@example.com", "password": PASSWORD, "csrf_token": token},
            )
            cases = [
                ("first page", "/provisioning/tags"),
                ("RFID contains '4242'", "/provisioning/tags?q=4242"),
                ("user e-mail contains 'ev00042'", "/provisioning/tags?q=ev00042"),
                ("status Blocked", "/provisioning/tags?status=Blocked"),
                ("note contains 'lost'", "/provisioning/tags?q=lost"),
                ("station Control tab", f"/configuration/control?node=station:{station_id}"),
            ]
            for label, url in cases:
                ms, size, body = await _measure(client, url)
                results.append((label, ms, size))
                if label == "first page":
                    deep = None
                    for _ in range(20):  # follow Next 20 pages deep
                        url_next = _next_url(body)
                        if url_next is None:
                            break
                        deep = url_next
                        body = await (await client.get(url_next)).get_data(as_text=True)
                    if deep is not None:
                        ms, size, _ = await _measure(client, deep)
                        results.append(("page 21 (Next × 20)", ms, size))
            from db.ocpp.local_list import wanted_entries

            times = []
            for _ in range(3):
                started = time.perf_counter()
                wanted = await store.read(wanted_entries, station_id)
                times.append(time.perf_counter() - started)
            label = f"the station's whole local list computed ({len(wanted):,} entries)"
            results.append((label, statistics.median(times) * 1000, 0))
    return results


def render(badges: int, results: list[tuple[str, float, int]]) -> str:
    lines = [
        f"RFID badges tab, {badges:,} badges (administrator; median of 5 requests):",
        "",
        "| case | time | page size |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {label} | {ms:.1f} ms | {f'{size / 1024:.0f} KiB' if size else '—'} |"
        for label, ms, size in results
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--badges", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="badges-bench-") as folder:
        results = trio.run(run, args.badges, Path(folder))
    print(render(args.badges, results))


if __name__ == "__main__":
    main()
