"""Named conformance checks of any OCPP 1.6-J (or 1.5 SOAP) central system, seen from a
station."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import trio
from lxml import etree

from ocpp15wire.schema import COMMANDS_15
from simulator.conformance_base import (
    CheckFailedError,
    CheckResult,
    ConformanceOptions,
    format_results,
)
from simulator.conformance_raw import error_cases, refused
from simulator.conformance_sessions import CheckSkippedError, refused_start, stale_transaction
from simulator.conformance_soap import soap_error_cases, soap_refused
from simulator.conformance_tls import profile3
from simulator.errors import SimulatorError
from simulator.protocol import Call
from simulator.schemas import SchemaViolationError, validate
from simulator.soap.station import SoapStation
from simulator.station import SimulatedStation, StationSettings

__all__ = ["CheckResult", "ConformanceOptions", "Operator", "format_results", "run_conformance"]

# Asks the central system (through its own API) to send ``action`` to the station.
Operator = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


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
        boot = self.station.boot_answer
        _expect(boot is not None, "no BootNotification answer")
        assert boot is not None
        _valid("BootNotification", boot)
        _expect(boot["status"] == "Accepted", f"status {boot['status']}")
        if self.o.protocol == "ocpp1.5":
            return f"heartbeatInterval {boot['interval']} s, SOAP 1.2"
        return f"interval {boot['interval']} s, subprotocol ocpp1.6"

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

    async def stale(self) -> str:
        return await stale_transaction(self.o, self.call, lambda: _now(self.station))

    async def refused_start(self) -> str:
        return await refused_start(self.o, self.call, lambda: _now(self.station))


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
        seen = sorted(_commands_seen(station))
        detail = f"received {', '.join(seen)}" if seen else "no operator given: nothing to send"
        results.append(CheckResult("commands-answered", "PASS" if seen else "SKIP", detail))
        return
    for action, payload, good in _COMMANDS:
        if o.protocol == "ocpp1.5" and action not in COMMANDS_15:
            continue  # 1.6-only (TriggerMessage)
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


def _commands_seen(station: SimulatedStation) -> set[str]:
    """Actions the central system sent to the station (1.6 CALL frames or 1.5 bodies)."""
    if isinstance(station, SoapStation):
        return {
            etree.QName(etree.fromstring(t)).localname.removesuffix("Request")
            for d, t in station.frames
            if d == "in" and "Envelope" not in t
        }
    return {json.loads(t)[2] for d, t in station.frames if d == "in" and t.startswith("[2")}


async def run_conformance(
    options: ConformanceOptions, *, operator: Operator | None = None
) -> list[CheckResult]:
    """Run every check; an operator makes the central system send commands (optional)."""
    results: list[CheckResult] = []
    soap = options.protocol == "ocpp1.5"
    kind = SoapStation if soap else SimulatedStation
    station = kind(
        StationSettings(
            options.url,
            options.charge_box_id,
            password=options.password,
            outlets=options.outlets,
            ca_file=options.ca_file,
            client_cert=options.client_cert,
            client_key=options.client_key,
            history=500,
            connect_timeout=options.timeout,
            call_timeout=options.timeout,
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
            ("stale-transaction", checks.stale),
            ("refused-start", checks.refused_start),
        ):
            try:
                detail = await check()
                results.append(CheckResult(name, "PASS", detail))
            except CheckSkippedError as exc:
                results.append(CheckResult(name, "SKIP", str(exc)))
            except (CheckFailedError, SimulatorError, KeyError, TypeError) as exc:
                results.append(CheckResult(name, "FAIL", str(exc) or repr(exc)))
        await (soap_error_cases if soap else error_cases)(options, results)
        # the raw connection used the same id: the central system may have replaced ours
        with trio.move_on_after(options.timeout):
            await trio.sleep(0.2)
            await station.wait_online()
            await station.wait_idle()
        await _commands(options, station, operator, results)
        nursery.cancel_scope.cancel()
    await (soap_refused if soap else refused)(options, results)
    if not soap:  # security profile 3 is a TLS client certificate on the WebSocket
        await profile3(options, results)
    return results
