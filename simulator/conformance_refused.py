"""Whether a central system refuses an unknown station and a wrong password (both
protocols), and what a station was first told."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import trio

from simulator.conformance_base import CheckResult, ConformanceOptions
from simulator.station import SimulatedStation

__all__ = ["first_answer", "refusal_checks"]


async def first_answer(station: SimulatedStation, within: float) -> str:
    """Run ``station`` until the central system has answered it: "HTTP <status>" when it
    was refused, else the state it was in ("accepted", "rejected", "pending"; "offline"
    or "connecting" when no answer came ``within`` seconds)."""
    state = "offline"
    with trio.move_on_after(within):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(station.run)
            await station.wait_for(
                lambda: (
                    station.rejected_status is not None
                    or station.state in ("accepted", "rejected", "pending")
                    or station.counters["errors"] > 0
                )
            )
            state = station.state  # before the cancellation takes it offline
            nursery.cancel_scope.cancel()
    if station.rejected_status is not None:
        return f"HTTP {station.rejected_status}"
    return state


async def refusal_checks(
    o: ConformanceOptions,
    results: list[CheckResult],
    station: Callable[[str, str | None], SimulatedStation],
) -> None:
    """An unknown id, and (given ``--password``) our id with a wrong password, must not be
    accepted; ``station(charge_box_id, password)`` makes the station that tries."""
    unknown = f"UNKNOWN{uuid.uuid4().hex[:8].upper()}"
    got = await first_answer(station(unknown, o.password or "wrong-password-1"), o.timeout)
    results.append(
        CheckResult("unknown-station-refused", "FAIL" if got == "accepted" else "PASS", got)
    )
    if o.password:
        got = await first_answer(station(o.charge_box_id, o.password + "-wrong"), o.timeout)
        outcome = "FAIL" if got == "accepted" else "PASS"
        results.append(CheckResult("wrong-password-refused", outcome, got))
    else:
        results.append(CheckResult("wrong-password-refused", "SKIP", "no --password given"))
