"""Scenario files, the transaction queue and latency statistics."""

from __future__ import annotations

import random

import pytest

from simulator.protocol import MessageIds
from simulator.scenario import Distribution, ScenarioError, load_scenario, parse_scenario
from simulator.stats import Histogram, Recorder, format_table, merge_summaries
from simulator.txqueue import TxMessage, TxQueue, TxQueueFullError

SCENARIO = """
[fleet]
stations = 20
outlets = 4
id_prefix = "CITY"
password = "pw-station-1"
duration = 120
ramp_seconds = 5

[sessions]
arrival_per_hour = 2.5
minutes = { mean = 45, sd = 15, min = 5, max = 240 }
energy_kwh = { dist = "uniform", min = 2, max = 30 }
ev_power_kw = [3.7, 7.4, 11, 22]
rfid_share = 0.8
tag_first_share = 0.25
tag_pool = { prefix = "CARD", count = 50 }

[config]
MeterValueSampleInterval = 30
StopTransactionOnEVSideDisconnect = true

[[faults]]
kind = "fuse"
at = 60
duration = 30
count = 2
connector = 3

[[faults]]
kind = "offline"
at = 10
duration = 20
stations = ["CITY0001"]
"""


def test_scenario_file_gives_fleet_sessions_tags_config_and_faults(tmp_path):
    path = tmp_path / "city.toml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    assert scenario.stations == 20
    assert scenario.outlets == 4
    assert scenario.station_ids()[:2] == ["CITY0001", "CITY0002"]
    assert scenario.password == "pw-station-1"
    assert scenario.duration == 120
    assert scenario.tags[0] == "CARD0001"
    assert len(scenario.tags) == 50
    assert scenario.config == {
        "MeterValueSampleInterval": "30",
        "StopTransactionOnEVSideDisconnect": "true",
    }
    assert [(f.kind, f.at, f.connector) for f in scenario.faults] == [
        ("fuse", 60, 3),
        ("offline", 10, 1),
    ]
    assert scenario.faults[1].stations == ("CITY0001",)
    rng = random.Random(1)
    minutes = [scenario.session_minutes.sample(rng) for _ in range(500)]
    assert min(minutes) >= 5
    assert max(minutes) <= 240
    assert 35 < sum(minutes) / len(minutes) < 55
    assert set(scenario.ev_power_kw.sample(rng) for _ in range(200)) == {3.7, 7.4, 11, 22}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fleet": {"outlets": 5}}, "fleet.outlets"),
        ({"fleet": {"stations": 0}}, "fleet.stations"),
        ({"sessions": {"rfid_share": 1.5}}, "shares"),
        ({"sessions": {"minutes": "long"}}, "sessions.minutes"),
        ({"sessions": {"energy_kwh": {"dist": "zipf"}}}, "unknown dist"),
        ({"sessions": {"tags": []}}, "sessions.tags"),
        ({"faults": [{"kind": "meteor", "at": 1}]}, "faults[0].kind"),
    ],
)
def test_bad_scenarios_are_refused_with_the_place(data, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[")):
        parse_scenario(data)


def test_bad_toml_is_a_scenario_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[fleet\nstations = ")
    with pytest.raises(ScenarioError):
        load_scenario(path)


def test_fixed_and_exponential_distributions():
    rng = random.Random(3)
    assert Distribution.parse(7, "x").sample(rng) == 7
    exp = Distribution.parse({"dist": "exponential", "mean": 10}, "x")
    values = [exp.sample(rng) for _ in range(2000)]
    assert 8 < sum(values) / len(values) < 12


def test_transaction_queue_freezes_payload_at_first_send():
    ids = MessageIds()
    box = {"transactionId": None}
    message = TxMessage("StopTransaction", lambda: dict(box) if box["transactionId"] else None)
    assert message.freeze(ids) is None  # not yet known
    box["transactionId"] = 7
    first = message.freeze(ids)
    box["transactionId"] = 8
    assert message.freeze(ids) is first
    assert first.payload == {"transactionId": 7}


def test_full_transaction_queue_drops_oldest_meter_values_first():
    queue = TxQueue(max_length=3)
    queue.push(TxMessage("StartTransaction", dict))
    queue.push(TxMessage("MeterValues", lambda: {"n": 1}))
    queue.push(TxMessage("MeterValues", lambda: {"n": 2}))
    queue.push(TxMessage("StopTransaction", dict))
    assert [m.action for m in queue] == ["StartTransaction", "MeterValues", "StopTransaction"]
    assert queue.dropped == 1
    queue2 = TxQueue(max_length=1)
    queue2.push(TxMessage("StartTransaction", dict))
    with pytest.raises(TxQueueFullError):
        queue2.push(TxMessage("StopTransaction", dict))


def test_histogram_percentiles_within_two_percent_and_merge():
    a, b = Histogram(), Histogram()
    for i in range(1, 1001):
        (a if i % 2 else b).add(i / 1000)  # 1 ms .. 1 s
    a.merge(b)
    assert a.count == 1000
    assert a.percentile(50) == pytest.approx(0.5, rel=0.02)
    assert a.percentile(99) == pytest.approx(0.99, rel=0.02)
    again = Histogram.from_dict(a.to_dict())
    assert again.percentile(95) == a.percentile(95)


async def test_recorder_summary_merges_across_processes():
    parts = []
    for shard in range(2):
        recorder = Recorder(stations=2)
        for n in range(2):
            recorder.station_state(f"S{shard}{n}", "connecting")
            recorder.station_state(f"S{shard}{n}", "accepted")
        for _ in range(10):
            recorder.call_done("Heartbeat", 0.01, "ok")
        recorder.call_done("Heartbeat", 30, "timeout")
        parts.append(recorder.summary(10.0))
    merged = merge_summaries(parts)
    assert merged["stations"] == 4
    assert merged["connected"] == 4
    heartbeat = merged["actions"]["Heartbeat"]
    assert heartbeat["ok"] == 20
    assert heartbeat["timeout"] == 2
    assert heartbeat["p50_ms"] == pytest.approx(10, rel=0.02)
    assert merged["calls_per_second"] == 2.0
    assert "Heartbeat" in format_table(merged)
