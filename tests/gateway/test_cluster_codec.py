"""What crosses between nodes comes back as it went: commands, results, errors, events."""

from __future__ import annotations

import datetime as dt

import pytest

from db.errors import Conflict, Invalid, NotFound
from db.ocpp.local_list import ListEntry
from gateway.cluster.codec import (
    decode_command,
    decode_error,
    decode_event,
    decode_result,
    decode_snapshot,
    encode_command,
    encode_error,
    encode_event,
    encode_result,
    encode_snapshot,
)
from gateway.cluster.events import MAX_PAYLOAD, coalesce, pack_events
from gateway.commands import BY_KEBAB, CommandResult, SendLocalList, TagRefused
from gateway.errors import (
    CallErrorReply,
    CommandTimeoutError,
    GatewayError,
    PayloadValidationError,
    StationBusyError,
    StationMovedError,
)
from gateway.events import LiveEvent
from gateway.snapshot import ConnectorSnapshot, StationSnapshot
from tests.portal.test_every_command import CASES


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.action)
def test_every_command_kind_crosses_nodes_unchanged(case) -> None:
    command = BY_KEBAB[case.action].from_ocpp(case.payload)
    again = decode_command(encode_command(command))
    assert again == command
    assert again.ocpp16() == command.ocpp16()


def test_a_prepared_local_list_keeps_its_entries_and_dates() -> None:
    expiry = dt.datetime(2030, 1, 2, 3, 4, 5)
    command = SendLocalList(
        list_version=4,
        update_type="Full",
        entries=(ListEntry("A", "Accepted", expiry, "P"), ListEntry("B", "Blocked")),
    )
    again = decode_command(encode_command(command))
    assert again == command
    assert isinstance(again.entries, tuple)
    assert isinstance(again.entries[0], ListEntry)


def test_a_row_cannot_name_a_class_outside_the_command_api() -> None:
    text = encode_command(SendLocalList(list_version=1, update_type="Full"))
    evil = text.replace('"entries":null', '"entries":{"$dc":"subprocess:Popen","fields":{}}')
    with pytest.raises(ValueError, match="not a command value class"):
        decode_command(evil)
    assert isinstance(
        decode_error('{"type":"Popen","module":"subprocess","message":"x"}'), GatewayError
    )


@pytest.mark.parametrize(
    "error",
    [
        CommandTimeoutError("late", sent=False, waited=2.5),
        CallErrorReply("NotSupported", "no", {"a": 1}),
        PayloadValidationError(["one", "two"]),
        StationBusyError("full"),
        StationMovedError("moved"),
        Invalid("bad", field="connectorId"),
        Conflict("clash", details={"x": 1}),
        NotFound("none"),
        TagRefused("7777", "Blocked"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_cross_with_their_kind_and_attributes(error: Exception) -> None:
    again = decode_error(encode_error(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert {k: v for k, v in vars(again).items()} == vars(error)


def test_results_events_and_snapshots_cross_unchanged() -> None:
    result = CommandResult("Reset", {"type": "Soft"}, {"status": "Accepted"}, "ok", True, {"a": 1})
    assert decode_result(encode_result(result)) == result
    event = LiveEvent("connector.status", "CP1", {"connectorId": 1}, dt.datetime(2026, 1, 1), 3)
    assert decode_event(encode_event(event)) == event
    snapshot = StationSnapshot(
        "CP1", 7, 3, True, "Available", "NoError",
        {1: ConnectorSnapshot("Charging", "NoError", 12, 1000, 7000.0, 50)},
        dt.datetime(2026, 1, 1), None, None, None, {"vendor": "V"}, False, "1.2.3.4:5",
    )  # fmt: skip
    assert decode_snapshot("CP1", encode_snapshot(snapshot)) == snapshot


def test_a_burst_of_events_is_coalesced_into_payloads_under_the_limit() -> None:
    events = [
        LiveEvent("connector.status", f"CP{i % 300}", {"connectorId": 1, "status": s})
        for i in range(3000)
        for s in ("Preparing", "Charging")
    ]
    kept = coalesce(events)
    assert len(kept) == 300  # the newest per station and connector
    assert all(e.data["status"] == "Charging" for e in kept)
    payloads = pack_events("node", kept, None)
    assert len(payloads) > 1
    assert all(len(p.encode()) < MAX_PAYLOAD for p in payloads)


def test_a_late_offline_from_the_node_a_station_left_does_not_grey_it_out() -> None:
    from gateway.cluster.events import ClusterEventBus

    def payload(node: str, online: bool) -> str:
        snapshot = StationSnapshot(
            "MOVER", 1, None, online, "Available", "NoError", {}, None, None, None, None,
            None, False, node,
        )  # fmt: skip
        kind = "station.online" if online else "station.offline"
        (text,) = pack_events(node, [LiveEvent(kind, "MOVER")], lambda _: snapshot)
        return text

    portal = ClusterEventBus("portal", forward=False)
    portal.receive(payload("node-a", True))
    portal.receive(payload("node-b", True))  # the station moved to node B
    portal.receive(payload("node-a", False))  # A's late news of the old connection
    mirrored = portal.mirror.get("MOVER")
    assert mirrored is not None
    assert mirrored.online
    assert mirrored.remote == "node-b"
    portal.receive(payload("node-b", False))  # B's own offline counts
    mirrored = portal.mirror.get("MOVER")
    assert mirrored is not None
    assert not mirrored.online
