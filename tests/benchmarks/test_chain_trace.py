"""A remote start's time, from its station's frames: split by what the gateway was doing."""

from __future__ import annotations

import pytest

from benchmarks.chain_trace import WAITING, Frame, attribute, summarize


def _call(at: float, action: str, status: str = "") -> Frame:
    return Frame(at, "in", "Call", action, status)


def _answer(at: float) -> Frame:
    return Frame(at, "out", "CallResult", "")


def test_a_chain_is_split_into_its_calls_and_the_waits_between_them() -> None:
    frames = [
        _call(9.0, "MeterValues"),  # outstanding when the command goes out at 10
        Frame(10.0, "out", "Call", "RemoteStartTransaction"),
        _answer(11.0),  # the MeterValues answered
        Frame(11.1, "in", "CallResult", "RemoteStartTransaction"),
        _call(11.5, "StatusNotification", "Preparing"),
        _answer(11.7),
        _call(12.0, "StartTransaction"),
        _answer(12.5),
        _call(13.0, "StatusNotification", "Charging"),
        _answer(13.4),
        _call(14.0, "MeterValues"),  # after Charging was seen: not counted
    ]
    parts = attribute(frames, started=10.0, done=13.3)
    assert parts["handling MeterValues"] == pytest.approx(1.0)
    assert parts["handling StatusNotification Preparing"] == pytest.approx(0.2)
    assert parts["handling StartTransaction"] == pytest.approx(0.5)
    assert parts["handling StatusNotification Charging"] == pytest.approx(0.3)
    assert parts[WAITING] == pytest.approx(0.5 + 0.3 + 0.5)
    assert parts["command answered"] == pytest.approx(1.1)
    assert parts["MeterValues in the chain"] == 0  # the outstanding one was sent before
    handled = sum(v for k, v in parts.items() if k.startswith("handling")) + parts[WAITING]
    assert handled == pytest.approx(3.3)


def test_meter_values_sent_during_the_chain_are_counted() -> None:
    frames = [
        Frame(10.1, "in", "CallResult", "RemoteStartTransaction"),
        _call(10.5, "MeterValues"),
        _answer(11.0),
        _call(11.2, "StatusNotification", "Preparing"),
        _answer(11.3),
        _call(11.4, "MeterValues"),
        _answer(12.0),
    ]
    parts = attribute(frames, started=10.0, done=12.0)
    assert parts["MeterValues in the chain"] == 2
    assert parts["handling MeterValues"] == pytest.approx(0.5 + 0.6)
    assert parts[WAITING] == pytest.approx(0.5 + 0.2 + 0.1)


def test_meter_values_before_the_station_answers_the_command_are_not_in_the_chain() -> None:
    # the command waits in the gateway (10 -> 10.8) while the station's telemetry goes on:
    # those MeterValues were sent before the station knew of the command
    frames = [
        _call(10.1, "MeterValues"),
        _answer(10.2),
        _call(10.4, "MeterValues"),
        _answer(10.5),
        Frame(10.8, "out", "Call", "RemoteStartTransaction"),
        Frame(10.9, "in", "CallResult", "RemoteStartTransaction"),
        _call(11.0, "StatusNotification", "Preparing"),
        _answer(11.1),
        _call(11.2, "StatusNotification", "Charging"),
        _answer(11.3),
    ]
    parts = attribute(frames, started=10.0, done=11.3)
    assert parts["MeterValues in the chain"] == 0
    assert parts["handling MeterValues"] == pytest.approx(0.1 + 0.1)


def test_the_summary_ranks_each_part_over_the_commands() -> None:
    chains = [{WAITING: 0.1 * n, "handling MeterValues": 1.0} for n in range(1, 11)]
    totals = [1.0 + 0.1 * n for n in range(1, 11)]
    summary = summarize(chains, totals)
    assert summary["commands"] == 10
    assert summary[WAITING]["p50"] == pytest.approx(500.0)  # ms: the 5th of 10
    assert summary[WAITING]["p99"] == pytest.approx(1000.0)
    assert summary[WAITING]["slowest_10pct_mean"] == pytest.approx(1000.0)
    assert summary["handling MeterValues"]["p50"] == pytest.approx(1000.0)
    assert summarize([], []) == {}
