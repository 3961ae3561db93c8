"""Where a remote start's time goes: its station's frames, from the command to Charging.

The benchmark's gateway runner records every frame of a targeted station as the gateway
sees it (``Frame``: when, in/out, kind, action, status). ``attribute`` splits one
command's time, from ``call`` to the outlet's Charging, into what the gateway was doing
for that station: handling one of its CALLs (per action: its MeterValues, the chain's
StatusNotifications and StartTransaction), or waiting for its next frame (the answer
on its way, the station, and the gateway's own receive scheduling). ``summarize`` gives
each part's p50/p99 over the commands, and the part's share of the slowest ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = ["Frame", "attribute", "summarize"]

#: the label of time in which no CALL of the station was being handled by the gateway
WAITING = "waiting for the station's next CALL"


class Frame(NamedTuple):
    at: float  # seconds (the runner's clock)
    direction: str  # "in" (from the station) or "out"
    kind: str  # Call, CallResult, CallError
    action: str
    status: str = ""  # StatusNotification's status


def _label(frame: Frame) -> str:
    if frame.action == "StatusNotification" and frame.status:
        return f"StatusNotification {frame.status}"
    return frame.action


def attribute(frames: Sequence[Frame], started: float, done: float) -> dict[str, float]:
    """Seconds of [started, done] per part: ``handling <action>`` while a CALL of the
    station was in the gateway (received, not answered yet), ``WAITING`` otherwise.
    ``frames`` may begin before ``started`` (the CALL outstanding at the command).
    Also ``command answered`` (when the station's CALLRESULT to the command came)
    and ``MeterValues in the chain`` (how many the station sent after it answered the
    command: before that, its telemetry went on while the command was on its way)."""
    parts: dict[str, float] = defaultdict(float)
    handling: str | None = None  # the station's CALL in the gateway (at most one: OCPP-J)
    at = started
    meter_values = 0
    answered = False  # the station's CALLRESULT to the command has come
    for frame in sorted(frames, key=lambda f: f.at):
        if frame.at > done:
            break
        if frame.at > at:
            parts[f"handling {handling}" if handling else WAITING] += frame.at - at
            at = frame.at
        if frame.kind == "Call" and frame.direction == "in":
            handling = _label(frame)
            if frame.action == "MeterValues" and answered:
                meter_values += 1
        elif frame.kind != "Call" and frame.direction == "out":
            handling = None  # our answer to its CALL
        elif frame.kind != "Call" and frame.direction == "in" and frame.at >= started:
            parts.setdefault("command answered", frame.at - started)
            answered = True
    if done > at:
        parts[f"handling {handling}" if handling else WAITING] += done - at
    parts["MeterValues in the chain"] = meter_values
    return dict(parts)


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summarize(chains: Sequence[dict[str, float]], totals: Sequence[float]) -> dict[str, Any]:
    """Per part over the commands: p50 and p99 (ms; a part a command lacked counts 0),
    and its mean over the slowest 10 % of commands (where the p99 comes from)."""
    if not chains:
        return {}
    keys = sorted({key for chain in chains for key in chain})
    slow = sorted(range(len(chains)), key=lambda i: totals[i])[-max(1, len(chains) // 10) :]
    out: dict[str, Any] = {"commands": len(chains)}
    for key in keys:
        values = [chain.get(key, 0.0) for chain in chains]
        scale = 1 if key == "MeterValues in the chain" else 1000
        out[key] = {
            "p50": round(_quantile(values, 0.5) * scale, 1),
            "p99": round(_quantile(values, 0.99) * scale, 1),
            "slowest_10pct_mean": round(sum(values[i] for i in slow) / len(slow) * scale, 1),
        }
    return out
