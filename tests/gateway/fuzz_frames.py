"""A seeded generator of OCPP-J 1.6 frames a hostile or broken station might send.

Payloads are built from the OCPP 1.6 JSON schemas shipped with the ``ocpp`` package:
mostly valid, with edge values where the schemas set no bound (integers at and past
2^31 / 2^63, date-times at the ends of the calendar, sampled values like "1e309",
"NaN", lone surrogates, NUL), and with a share of schema breaks (a missing required
field, a wrong type, an unknown property) and frame breaks (invalid JSON, NaN
literals, wrong message types, bad unique ids, unknown and central-system actions).
Reproducible: the same seed gives the same frames.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from gateway.ocpp16.actions import CENTRAL_SYSTEM_INITIATED, STATION_INITIATED
from gateway.ocpp16.schemas import schema_dir

__all__ = ["FuzzFrame", "Fuzzer"]

_INTEGERS = [
    0, 1, 2, 3, -1, 99, 255, 32767, 32768, 2**31 - 1, 2**31, -(2**31) - 1,
    2**53, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64 + 1, 10**30,
]  # fmt: skip
_TIMESTAMPS = [
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.123+02:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "2024-02-29T12:00:00Z",
    "2023-02-29T12:00:00Z",
    "2026-06-30T23:59:60Z",
    "2026-01-01T00:00:00",
    "2026-01-01 00:00:00Z",
    "2026-13-01T00:00:00Z",
    "not a time",
    "",
]
_SAMPLES = [
    "0", "1", "12.5", "-3", "1e3", "1e30", "1e309", "-1e309", "NaN", "nan", "inf",
    "-Infinity", "0x10", "1_000", " 7 ", "", "abc", "9" * 64, "9" * 65, "1e-400",
    "\ud800", "12\x00",
]  # fmt: skip
_ALPHABET = 'abcXYZ019 -_.:/é中\u00a0\x00\ud800\udfff\U0001f600\n"\\'


@dataclass(frozen=True)
class FuzzFrame:
    """One frame as sent, and the unique id of the CALL the gateway must answer (if any)."""

    text: str
    call_id: str | None  # a well-formed CALL: exactly one reply with this id is due


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.schemas: dict[str, dict[str, Any]] = {}
        for action in sorted(STATION_INITIATED):
            path = schema_dir() / f"{action}.json"
            if path.exists():
                self.schemas[action] = json.loads(path.read_text(encoding="utf-8-sig"))
        self._ids = 0

    def _unique_id(self) -> str:
        self._ids += 1
        return f"z{self._ids}"

    def frame(self) -> FuzzFrame:
        r = self.random.random()
        if r < 0.80:
            action = self.random.choice(sorted(self.schemas))
            unique_id = self._unique_id()
            payload = self.value(self.schemas[action], breaks=self.random.random() < 0.25)
            return FuzzFrame(json.dumps([2, unique_id, action, payload]), unique_id)
        if r < 0.85:
            unique_id = self._unique_id()
            action = self.random.choice(
                [*sorted(CENTRAL_SYSTEM_INITIATED), "FlyToTheMoon", "", "heartbeat"]
            )
            return FuzzFrame(json.dumps([2, unique_id, action, {}]), unique_id if action else None)
        return FuzzFrame(self._broken_frame(), None)

    def _broken_frame(self) -> str:
        unique_id = self._unique_id()
        choices = [
            "not json",
            "",
            "[]",
            "{}",
            "[2]",
            f'[2,"{unique_id}","Heartbeat"]',
            f'[2,"{unique_id}","Heartbeat",{{}},1]',
            f'[2,"{unique_id}","StatusNotification",{{"connectorId":NaN}}]',
            f'[2,"{unique_id}","StatusNotification",{{"connectorId":1e309,'
            '"errorCode":"NoError","status":"Available"}]',
            f'[2,"{unique_id}","Heartbeat",{{}}',
            f'[2,"{"x" * 37}","Heartbeat",{{}}]',
            '[2,"\\ud800","Heartbeat",{}]',
            '[2,"","Heartbeat",{}]',
            f'[2,{self.random.choice(_INTEGERS)},"Heartbeat",{{}}]',
            f'[2,"{unique_id}",17,{{}}]',
            f'[2,"{unique_id}","Heartbeat",[]]',
            f'[3,"{unique_id}",{{}}]',
            f'[3,"{unique_id}"]',
            f'[4,"{unique_id}","GenericError","x",{{}}]',
            f'[4,"{unique_id}",5]',
            f'[5,"{unique_id}",{{}}]',
            f'["2","{unique_id}","Heartbeat",{{}}]',
            f'[true,"{unique_id}","Heartbeat",{{}}]',
            json.dumps([2, unique_id, "DataTransfer", {"vendorId": "v", "data": "\ud800"}]),
        ]
        return self.random.choice(choices)

    # -- payloads from the schema ------------------------------------------------------

    def value(self, schema: dict[str, Any], *, breaks: bool, key: str = "") -> Any:
        rand = self.random
        if breaks and rand.random() < 0.1:
            return rand.choice([None, True, 1.5, "x", [], {}, -1, 2**64, "\ud800"])
        kind = schema.get("type")
        if "enum" in schema:
            if breaks and rand.random() < 0.1:
                return self.text(20)
            return rand.choice(schema["enum"])
        if kind == "object":
            return self._object(schema, breaks=breaks)
        if kind == "array":
            low = schema.get("minItems", 0)
            count = rand.choice([low, low, low + 1, low + 2, 0 if breaks else low])
            return [self.value(schema["items"], breaks=breaks, key=key) for _ in range(count)]
        if kind == "integer":
            if rand.random() < 0.5:
                return rand.choice([0, 1, 2, 1, 1])
            return rand.choice(_INTEGERS) * rand.choice([1, 1, 1, -1])
        if kind == "number":
            return rand.choice([0.0, 1.5, -2.25, 1e308, 32.0, 7])
        if kind == "boolean":
            return rand.random() < 0.5
        if kind == "string":
            if schema.get("format") == "date-time":
                return rand.choice(_TIMESTAMPS[:2] * 4 + _TIMESTAMPS)
            if key == "value":
                return rand.choice(_SAMPLES)
            limit = schema.get("maxLength", 80)
            length = rand.choice([0, 1, 5, limit, limit, limit + (1 if breaks else 0)])
            return self.text(length)
        return self.text(5)

    def _object(self, schema: dict[str, Any], *, breaks: bool) -> dict[str, Any]:
        rand = self.random
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        out: dict[str, Any] = {}
        for name, sub in properties.items():
            if name in required or rand.random() < 0.5:
                out[name] = self.value(sub, breaks=breaks, key=name)
        if breaks and required and rand.random() < 0.2:
            out.pop(rand.choice(sorted(required)), None)
        if breaks and rand.random() < 0.1:
            out[self.text(6) or "extra"] = 1
        return out

    def text(self, length: int) -> str:
        if length <= 0:
            return ""
        if self.random.random() < 0.6:
            return "".join(self.random.choice("ABCDEF0123456789") for _ in range(length))
        return "".join(self.random.choice(_ALPHABET) for _ in range(length))
