"""Named conformance checks of any OCPP 1.6-J central system, seen from a station."""

from __future__ import annotations

import base64
import json
import ssl
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import trio
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

from simulator.errors import SimulatorError
from simulator.protocol import Call
from simulator.schemas import SchemaViolationError, validate
from simulator.station import SimulatedStation, StationSettings

__all__ = ["CheckResult", "ConformanceOptions", "Operator", "format_results", "run_conformance"]

# Asks the central system (through its own API) to send ``action`` to the station.
Operator = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ConformanceOptions:
    url: str
    charge_box_id: str
    password: str | None = None
    ca_file: str | None = None
    id_tag: str | None = None  # a tag the central system accepts (optional)
    timeout: float = 10.0
    outlets: int = 2


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    outcome: str  # PASS | FAIL | SKIP
    detail: str = ""


class CheckFailedError(Exception):
    """A check's expectation did not hold."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailedError(message)


def _valid(action: str, payload: dict[str, Any]) -> None:
    try:
        validate(action, payload, response=True)
    except SchemaViolationError as exc:
        raise CheckFailedError(
            f"{action}.conf does not match the schema: {exc.description}"
        ) from None


def _now(station: SimulatedStation) -> str:
    return station.timestamp()


class _Checks:
    def __init__(self, options: ConformanceOptions, station: SimulatedStation) -> None:
        self.o = options
        self.station = station
        self.tx_id: int | None = None

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = await self.station.call(action, payload, timeout=self.o.timeout)
        _valid(action, answer)
        return answer

    async def boot(self) -> str:
        frames = [json.loads(t) for d, t in self.station.frames if d == "in"]
        boot = next((f for f in frames if f[0] == 3), None)
        _expect(boot is not None, "no BootNotification answer")
        assert boot is not None
        _valid("BootNotification", boot[2])
        _expect(boot[2]["status"] == "Accepted", f"status {boot[2]['status']}")
        return f"interval {boot[2]['interval']} s, subprotocol ocpp1.6"

    async def heartbeat(self) -> str:
        answer = await self.call("Heartbeat", {})
        return f"currentTime {answer['currentTime']}"

    async def status(self) -> str:
        for connector in range(self.o.outlets + 1):
            payload = {"connectorId": connector, "errorCode": "NoError", "status": "Available"}
            await self.call("StatusNotification", {**payload, "timestamp": _now(self.station)})
        await self.call(
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "HighTemperature",
                "status": "Faulted",
                "info": "conformance",
                "timestamp": _now(self.station),
            },
        )
        await self.call(
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "Available",
                "timestamp": _now(self.station),
            },
        )
        return f"connectors 0..{self.o.outlets}, a fault and its clearing"

    async def authorize(self) -> str:
        unknown = f"X{uuid.uuid4().hex[:12].upper()}"
        answer = await self.call("Authorize", {"idTag": unknown})
        refused = answer["idTagInfo"]["status"]
        _expect(refused != "Accepted", "an unknown tag was Accepted")
        if self.o.id_tag:
            answer = await self.call("Authorize", {"idTag": self.o.id_tag})
            _expect(answer["idTagInfo"]["status"] == "Accepted", f"{self.o.id_tag} not Accepted")
            return f"unknown tag {refused}, {self.o.id_tag} Accepted"
        return f"unknown tag {refused}"

    def _start_payload(self, meter: int) -> dict[str, Any]:
        return {
            "connectorId": 1,
            "idTag": self.o.id_tag or "CONFORMANCE",
            "meterStart": meter,
            "timestamp": _now(self.station),
        }

    def _meter(self, value: int, context: str = "Sample.Periodic") -> dict[str, Any]:
        sample = {
            "value": str(value),
            "context": context,
            "unit": "Wh",
            "measurand": "Energy.Active.Import.Register",
        }
        return {"timestamp": _now(self.station), "sampledValue": [sample]}

    async def transaction(self) -> str:
        start = await self.call("StartTransaction", self._start_payload(10_000))
        tx_id = start["transactionId"]
        await self.call(
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "Charging",
                "timestamp": _now(self.station),
            },
        )
        await self.call(
            "MeterValues",
            {"connectorId": 1, "transactionId": tx_id, "meterValue": [self._meter(10_500)]},
        )
        await self.call(
            "StopTransaction",
            {
                "transactionId": tx_id,
                "meterStop": 11_000,
                "timestamp": _now(self.station),
                "reason": "EVDisconnected",
                "transactionData": [
                    self._meter(10_000, "Transaction.Begin"),
                    self._meter(11_000, "Transaction.End"),
                ],
            },
        )
        await self.call(
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "Available",
                "timestamp": _now(self.station),
            },
        )
        return f"transactionId {tx_id}, 1000 Wh"

    async def resent(self) -> str:
        start = Call(self.station.ids.next(), "StartTransaction", self._start_payload(20_000))
        first = await self.station.send_call(start, timeout=self.o.timeout)
        again = await self.station.send_call(start, timeout=self.o.timeout)
        _valid("StartTransaction", first)
        _valid("StartTransaction", again)
        tx_id = first["transactionId"]
        _expect(again["transactionId"] == tx_id, "a re-sent StartTransaction opened a new one")
        meter = Call(
            self.station.ids.next(),
            "MeterValues",
            {"connectorId": 1, "transactionId": tx_id, "meterValue": [self._meter(20_100)]},
        )
        for _ in range(2):
            _valid("MeterValues", await self.station.send_call(meter, timeout=self.o.timeout))
        stop = Call(
            self.station.ids.next(),
            "StopTransaction",
            {
                "transactionId": tx_id,
                "meterStop": 20_200,
                "timestamp": _now(self.station),
                "reason": "Local",
            },
        )
        for _ in range(2):
            _valid("StopTransaction", await self.station.send_call(stop, timeout=self.o.timeout))
        return f"Start/MeterValues/Stop each sent twice, one transaction {tx_id}"


# ------------------------------------------------------------------ raw frames, CallErrors
_ERROR_CASES: list[tuple[str, str, set[str]]] = [
    ("error-not-implemented", '[2,"e1","FooBarAction",{}]', {"NotImplemented"}),
    ("error-not-supported", '[2,"e2","Reset",{"type":"Soft"}]', {"NotSupported"}),
    (
        "error-type-constraint",
        '[2,"e3","BootNotification",{"chargePointVendor":12,"chargePointModel":"M"}]',
        {"TypeConstraintViolation"},
    ),
    (
        "error-occurrence-constraint",
        '[2,"e4","BootNotification",{"chargePointVendor":"V"}]',
        # a missing required field: "violates occurence constraints" or "payload incomplete"
        {"OccurenceConstraintViolation", "ProtocolError"},
    ),
    (
        "error-property-constraint",
        '[2,"e5","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Bogus"}]',
        {"PropertyConstraintViolation"},
    ),
    ("error-formation", '[2,"e6","Heartbeat",[]]', {"FormationViolation", "FormatViolation"}),
    ("error-protocol", '[2,"e7","Heartbeat"]', {"ProtocolError", "FormationViolation"}),
]


async def _error_cases(o: ConformanceOptions, results: list[CheckResult]) -> None:
    url = f"{o.url.rstrip('/')}/{o.charge_box_id}"
    ctx = ssl.create_default_context(cafile=o.ca_file) if o.url.startswith("wss:") else None
    headers = []
    if o.password:
        token = base64.b64encode(f"{o.charge_box_id}:{o.password}".encode()).decode()
        headers.append((b"Authorization", f"Basic {token}".encode()))
    try:
        async with open_websocket_url(
            url, ctx, subprotocols=["ocpp1.6"], extra_headers=headers, connect_timeout=o.timeout
        ) as ws:

            async def exchange(text: str, uid: str) -> list[Any]:
                await ws.send_message(text)
                with trio.fail_after(o.timeout):
                    while True:
                        frame = json.loads(await ws.get_message())
                        if frame[1] == uid and frame[0] in (3, 4):
                            return frame
                        if frame[0] == 2:  # a command meanwhile: say we do not know it
                            await ws.send_message(
                                json.dumps([4, frame[1], "NotImplemented", "", {}])
                            )

            boot = (
                '[2,"b0","BootNotification",{"chargePointVendor":"Conf","chargePointModel":"Raw"}]'
            )
            await exchange(boot, "b0")
            for name, text, codes in _ERROR_CASES:
                try:
                    frame = await exchange(text, json.loads(text)[1])
                except trio.TooSlowError:
                    results.append(CheckResult(name, "FAIL", "no answer"))
                    continue
                if frame[0] == 4 and frame[2] in codes:
                    results.append(CheckResult(name, "PASS", frame[2]))
                else:
                    got = frame[2] if frame[0] == 4 else "a CALLRESULT"
                    results.append(
                        CheckResult(name, "FAIL", f"expected {sorted(codes)}, got {got}")
                    )
            frame = await exchange('[2,"h1","Heartbeat",{}]', "h1")
            ok = frame[0] == 3
            results.append(
                CheckResult(
                    "error-connection-survives",
                    "PASS" if ok else "FAIL",
                    "Heartbeat answered after the errors" if ok else str(frame),
                )
            )
    except (HandshakeError, ConnectionClosed, OSError, trio.TooSlowError) as exc:
        results.append(CheckResult("error-cases", "FAIL", f"raw connection: {exc!r}"))


async def _refused(o: ConformanceOptions, results: list[CheckResult]) -> None:
    async def handshake(cbid: str, password: str | None) -> str:
        station = SimulatedStation(
            StationSettings(
                o.url,
                cbid,
                password=password,
                ca_file=o.ca_file,
                history=50,
                connect_timeout=o.timeout,
                backoff_initial=60,
            )
        )
        with trio.move_on_after(o.timeout):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(station.run)
                await station.wait_for(
                    lambda: (
                        station.rejected_status is not None
                        or station.state in ("accepted", "rejected", "pending")
                        or station.counters["errors"] > 0
                    )
                )
                nursery.cancel_scope.cancel()
        if station.rejected_status is not None:
            return f"HTTP {station.rejected_status}"
        return station.state

    unknown = f"UNKNOWN{uuid.uuid4().hex[:8].upper()}"
    got = await handshake(unknown, o.password or "wrong-password-1")
    results.append(
        CheckResult("unknown-station-refused", "FAIL" if got == "accepted" else "PASS", got)
    )
    if o.password:
        got = await handshake(o.charge_box_id, o.password + "-wrong")
        outcome = "FAIL" if got == "accepted" else "PASS"
        results.append(CheckResult("wrong-password-refused", outcome, got))
    else:
        results.append(CheckResult("wrong-password-refused", "SKIP", "no --password given"))


# ------------------------------------------------------------------ commands
_COMMANDS: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
    ("GetConfiguration", {"key": ["HeartbeatInterval"]}, lambda a: bool(a.get("configurationKey"))),
    (
        "ChangeConfiguration",
        {"key": "MeterValueSampleInterval", "value": "30"},
        lambda a: a.get("status") == "Accepted",
    ),
    ("GetLocalListVersion", {}, lambda a: "listVersion" in a),
    ("ClearCache", {}, lambda a: a.get("status") == "Accepted"),
    (
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "connectorId": 1},
        lambda a: a.get("status") == "Accepted",
    ),
    (
        "DataTransfer",
        {"vendorId": "ChargePortal", "messageId": "Echo", "data": "ping"},
        lambda a: a.get("data") == "ping",
    ),
    (
        "ChangeAvailability",
        {"connectorId": 2, "type": "Inoperative"},
        lambda a: a.get("status") == "Accepted",
    ),
    (
        "ChangeAvailability",
        {"connectorId": 2, "type": "Operative"},
        lambda a: a.get("status") == "Accepted",
    ),
    ("UnlockConnector", {"connectorId": 1}, lambda a: a.get("status") == "Unlocked"),
    ("Reset", {"type": "Soft"}, lambda a: a.get("status") == "Accepted"),
]


async def _commands(
    o: ConformanceOptions,
    station: SimulatedStation,
    operator: Operator | None,
    results: list[CheckResult],
) -> None:
    if operator is None:
        seen = sorted(
            {json.loads(t)[2] for d, t in station.frames if d == "in" and t.startswith("[2")}
        )
        detail = f"received {', '.join(seen)}" if seen else "no operator given: nothing to send"
        results.append(CheckResult("commands-answered", "PASS" if seen else "SKIP", detail))
        return
    for action, payload, good in _COMMANDS:
        name = f"command-{action}"
        if action == "ChangeAvailability":
            name += f"-{payload['type']}"
        try:
            with trio.fail_after(o.timeout):
                answer = await operator(action, payload)
            _valid(action, answer)
            _expect(good(answer), f"answer {answer}")
            results.append(CheckResult(name, "PASS", json.dumps(answer)[:60]))
        except (
            CheckFailedError,
            trio.TooSlowError,
            Exception,
        ) as exc:  # any error is a failed check
            results.append(CheckResult(name, "FAIL", repr(exc)[:120]))
    with trio.move_on_after(o.timeout * 2):
        await station.wait_for(lambda: station.boot_count >= 2 and station.online)
    ok = station.boot_count >= 2
    results.append(
        CheckResult(
            "reset-reboots-and-boots", "PASS" if ok else "FAIL", f"boots {station.boot_count}"
        )
    )


async def run_conformance(
    options: ConformanceOptions, *, operator: Operator | None = None
) -> list[CheckResult]:
    """Run every check; an operator makes the central system send commands (optional)."""
    results: list[CheckResult] = []
    station = SimulatedStation(
        StationSettings(
            options.url,
            options.charge_box_id,
            password=options.password,
            outlets=options.outlets,
            ca_file=options.ca_file,
            history=500,
            connect_timeout=options.timeout,
            reboot_delay=0.2,
            config={"MeterValueSampleInterval": "0"},
        ),
    )
    checks = _Checks(options, station)
    async with trio.open_nursery() as nursery:
        try:
            with trio.fail_after(options.timeout):
                await nursery.start(station.run)
        except trio.TooSlowError:
            detail = f"not accepted: state {station.state}"
            if station.rejected_status:
                detail = f"handshake refused with HTTP {station.rejected_status}"
            results.append(CheckResult("boot", "FAIL", detail))
            nursery.cancel_scope.cancel()
            return results
        await station.wait_idle()
        for name, check in (
            ("boot", checks.boot),
            ("heartbeat", checks.heartbeat),
            ("status", checks.status),
            ("authorize", checks.authorize),
            ("full-transaction", checks.transaction),
            ("resent-transaction-messages", checks.resent),
        ):
            try:
                detail = await check()
                results.append(CheckResult(name, "PASS", detail))
            except (CheckFailedError, SimulatorError, KeyError, TypeError) as exc:
                results.append(CheckResult(name, "FAIL", str(exc) or repr(exc)))
        await _error_cases(options, results)
        # the raw connection used the same id: the central system may have replaced ours
        with trio.move_on_after(options.timeout):
            await trio.sleep(0.2)
            await station.wait_online()
            await station.wait_idle()
        await _commands(options, station, operator, results)
        nursery.cancel_scope.cancel()
    await _refused(options, results)
    return results


def format_results(results: list[CheckResult]) -> str:
    width = max(len(r.name) for r in results) if results else 10
    lines = [f"{'check':<{width}}  result  detail", "-" * (width + 40)]
    for r in results:
        lines.append(f"{r.name:<{width}}  {r.outcome:<6}  {r.detail}")
    failed = sum(r.outcome == "FAIL" for r in results)
    passed = sum(r.outcome == "PASS" for r in results)
    lines.append("-" * (width + 40))
    lines.append(f"{passed} passed, {failed} failed, {len(results) - passed - failed} skipped")
    return "\n".join(lines)
