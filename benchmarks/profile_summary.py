"""Summarise a py-spy raw profile (``--profile``): share of samples per thread and function.

Run: ``python -m benchmarks.profile_summary var/bench/profile-gateway-sustain1000.txt``.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

__all__ = ["summarise"]


def summarise(path: Path, top: int = 40) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        threads[frames[0]] += n
        seen = set()
        for frame in frames[1:]:
            name = frame.rsplit(":", 1)[0] + ")" if ":" in frame else frame
            if name not in seen:
                inclusive[name] += n
                seen.add(name)
        own[frames[-1]] += n
    if not total:
        return f"{path}: no samples"
    lines = [f"{path}: {total} samples (active threads only)", "", "threads:"]
    lines += [f"  {n / total:6.1%}  {t}" for t, n in threads.most_common()]
    lines += ["", "inclusive (function, file):"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "own time (innermost frame):"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(top // 2)]
    return "\n".join(lines)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(summarise(Path(arg)))
