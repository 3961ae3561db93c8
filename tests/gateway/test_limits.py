"""check_payload's quick pass refuses exactly what the field-naming walk refuses, with its words."""

from __future__ import annotations

import json
import random
from typing import Any

from gateway.ocpp16 import limits
from gateway.ocpp16.framing import OcppError, parse_frame

#: values a station may send, good and bad (NUL, lone surrogate, out of range, not finite...)
STRINGS = ["ok", "été", "a\x00b", "x\ud800y", "2026-12-03T10:00:00Z", "Wh", "kWh", "1e30"]
TIMESTAMPS = ["2026-12-03T10:00:00.123Z", "0001-01-01T00:00:00+01:00", "not a time", "\x00"]
SAMPLE_VALUES = ["123", "1" * 65, "9e15", "-1e400", "nan", "OCMF|" + "a" * 5000, "text"]
INTS = [0, 1, 3, 2**15, 2**31, -(2**31) - 1, 2**53 + 1, 2**64]
FLOATS = [0.5, float("inf"), -1e308]
KEYS = ["connectorId", "transactionId", "meterStart", "vendor", "k\x00", "\udc80", "status"]


def random_sample(rng: random.Random) -> dict[str, Any]:
    sample: dict[str, Any] = {"value": rng.choice(SAMPLE_VALUES)}
    if rng.random() < 0.5:
        sample["unit"] = rng.choice(["Wh", "kWh", "W"])
    if rng.random() < 0.3:
        sample["format"] = rng.choice(["Raw", "SignedData"])
    return sample


def random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.3:
        return rng.choice(STRINGS)
    if roll < 0.5:
        return rng.choice(INTS)
    if roll < 0.55:
        return rng.choice(FLOATS)
    if roll < 0.65:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(KEYS): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def random_payload(rng: random.Random) -> dict[str, Any]:
    payload: dict[str, Any] = {
        rng.choice(KEYS): random_value(rng, 0) for _ in range(rng.randint(0, 3))
    }
    if rng.random() < 0.7:
        payload["meterValue"] = [
            {
                "timestamp": rng.choice(TIMESTAMPS),
                "sampledValue": [random_sample(rng) for _ in range(rng.randint(1, 2))],
            }
        ]
    if rng.random() < 0.2:  # mostly fine: the common case takes the quick pass
        payload = {"connectorId": 1, "meterValue": [{"timestamp": TIMESTAMPS[0]}]}
    return payload


def refusal(check: Any, *args: Any) -> tuple[str, str, dict[str, Any]] | None:
    try:
        check(*args)
    except OcppError as exc:
        return exc.code, exc.description, exc.details
    return None


def test_the_quick_pass_refuses_what_the_named_walk_refuses_in_the_same_words() -> None:
    rng = random.Random(20261203)
    refused = 0
    for _ in range(3000):
        payload = random_payload(rng)
        expected = refusal(limits._walk, payload, "", "")
        refused += expected is not None
        assert refusal(limits.check_payload, payload) == expected, payload
        for ascii_only in (True, False):
            try:
                text = json.dumps([2, "u1", "MeterValues", payload], ensure_ascii=ascii_only)
                decoded = parse_frame(text)
            except (UnicodeEncodeError, OcppError, ValueError):
                continue  # not sendable as UTF-8 text, or not valid JSON (1e400): no payload
            assert refusal(limits.check_payload, decoded.payload, text) == expected, text  # type: ignore[union-attr]
    assert 300 < refused < 2700  # both kinds were tried


def test_a_nul_or_lone_surrogate_escaped_in_the_text_is_still_refused() -> None:
    for text in ('[2,"u1","Heartbeat",{"a":"x\\u0000"}]', '[2,"u1","Heartbeat",{"\\ud800":1}]'):
        frame = parse_frame(text)
        assert refusal(limits.check_payload, frame.payload, text) is not None  # type: ignore[union-attr]
