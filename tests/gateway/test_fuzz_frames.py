"""Fuzzing the OCPP-J frame path: thousands of hostile frames, each answered by the standard.

Seeded (``OCPP_FUZZ_SEED``, ``OCPP_FUZZ_FRAMES`` to change them; a failure names the
seed and the frame). Every CALL gets a CALLRESULT or a CALLERROR with an OCPP-J 1.6
code, never InternalError (the station controls all of this input); nothing logs a
traceback; an honest station on the same gateway keeps getting its MeterValues
answered meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from typing import Any

import pytest
import trio

from gateway import Gateway
from gateway.ocpp16.framing import ERROR_CODES
from tests.gateway.conftest import add_id_tag, add_station
from tests.gateway.fuzz_frames import Fuzzer, FuzzFrame
from tests.gateway.ocpp_client import RawStation, now_iso, open_station

SEED = int(os.environ.get("OCPP_FUZZ_SEED", "20261203"))
FRAMES = int(os.environ.get("OCPP_FUZZ_FRAMES", "3000"))


def problems_with(frame: FuzzFrame, replies: list[list[Any]]) -> list[str]:
    problems = []
    if frame.call_id is not None and [r[1] for r in replies] != [frame.call_id]:
        problems.append(f"expected one reply to {frame.call_id}, got {replies}")
    if frame.call_id is None and len(replies) > 1:
        problems.append(f"more than one reply: {replies}")
    for reply in replies:
        if reply[0] == 3 and len(reply) == 3 and isinstance(reply[2], dict):
            continue
        if reply[0] != 4 or len(reply) != 5 or reply[2] not in ERROR_CODES:
            problems.append(f"not a standard CALLRESULT/CALLERROR: {reply}")
        elif reply[2] == "InternalError":
            problems.append(f"InternalError for station input: {reply}")
    return problems


async def exchange(station: RawStation, frame: FuzzFrame, sync_id: str) -> list[list[Any]]:
    """Send the frame, then a Heartbeat; the replies that came before the Heartbeat's."""
    await station.send_raw(frame.text)
    await station.send_raw(json.dumps([2, sync_id, "Heartbeat", {}]))
    replies = []
    while True:
        reply = await station.receive()
        if reply[1] == sync_id:
            assert reply[0] == 3, reply
            return replies
        replies.append(reply)


async def test_fuzzed_frames_get_standard_answers_and_an_honest_station_keeps_its_own(
    gateway: Gateway,
    port: int,
    db_write,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    await db_write(add_station, "FUZZ", outlets=2)
    await db_write(add_station, "HONEST", outlets=2)
    for tag in ("TAG1", "0123456789ABCDEF0123", "ABCDEF"):
        await db_write(add_id_tag, tag)
    caplog.set_level(logging.INFO)
    fuzzer = Fuzzer(SEED)
    problems: list[str] = []
    answers: Counter[str] = Counter()
    honest_answers = 0
    fuzzing_done = trio.Event()

    async def honest(station: RawStation) -> None:
        nonlocal honest_answers
        start = await station.result(
            "StartTransaction",
            {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": now_iso()},
        )
        wh = 0
        while not fuzzing_done.is_set():
            wh += 10
            await station.result(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": start["transactionId"],
                    "meterValue": [{"timestamp": now_iso(), "sampledValue": [{"value": str(wh)}]}],
                },
            )
            honest_answers += 1
            await trio.sleep(0.005)

    with trio.fail_after(120):
        async with (
            open_station(port, "FUZZ") as fuzz,
            open_station(port, "HONEST") as good,
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(honest, good)
            for n in range(FRAMES):
                frame = fuzzer.frame()
                replies = await exchange(fuzz, frame, f"sync{n}")
                answers.update("CALLRESULT" if r[0] == 3 else str(r[2]) for r in replies)
                problems += [
                    f"seed {SEED} frame {n} {frame.text[:300]!r}: {problem}"
                    for problem in problems_with(frame, replies)
                ]
            fuzzing_done.set()
    assert not problems, f"{len(problems)} problems, e.g.\n" + "\n".join(problems[:10])
    # the frames reached every kind of answer, not only the first check on the way
    assert answers["CALLRESULT"] > FRAMES // 10, answers
    for code in (
        "FormationViolation",
        "PropertyConstraintViolation",
        "TypeConstraintViolation",
        "OccurenceConstraintViolation",
        "ProtocolError",
        "NotImplemented",
        "NotSupported",
    ):
        assert answers[code], answers
    assert honest_answers > 20
    assert not [r.getMessage() for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in capfd.readouterr().err
