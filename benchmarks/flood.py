"""A flood of connection attempts with random, unknown charge box ids (issue 11, point 4).

``python -m benchmarks.flood --port P --seconds S`` keeps ``--concurrency`` handshakes
in flight for S seconds, each with a fresh random id, and prints a JSON line: attempts,
answers by status, attempts per second. Used by ``benchmarks.poison_bench --mode flood``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections import Counter

from benchmarks.wsclient import HandshakeError, open_websocket

__all__ = ["main"]


async def flood(port: int, seconds: float, concurrency: int) -> dict[str, object]:
    answers: Counter[str] = Counter()
    stop_at = time.monotonic() + seconds

    async def one_loop() -> None:
        while time.monotonic() < stop_at:
            cbid = f"X{secrets.token_hex(6)}"
            try:
                ws = await open_websocket("127.0.0.1", port, f"/Ocpp/websocket/{cbid}", print)
            except HandshakeError as exc:
                answers[str(exc)[:24]] += 1
            except OSError as exc:
                answers[type(exc).__name__] += 1
                await asyncio.sleep(0.01)
            else:
                answers["accepted"] += 1
                ws.close()

    started = time.monotonic()
    await asyncio.gather(*(one_loop() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    attempts = sum(answers.values())
    return {"attempts": attempts, "per_s": attempts / elapsed, "answers": dict(answers)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    result = asyncio.run(flood(args.port, args.seconds, args.concurrency))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
