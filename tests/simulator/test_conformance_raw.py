"""The refused-handshake checks of a conformance run, against a central system that
accepts anyone: what they report is what the station was told."""

from __future__ import annotations

import trio

from simulator.conformance_base import CheckResult, ConformanceOptions
from simulator.conformance_raw import refused
from tests.simulator.minimal_cs import MinimalCentralSystem


async def test_an_unknown_station_that_is_accepted_fails_the_check(cs: MinimalCentralSystem):
    results: list[CheckResult] = []
    with trio.fail_after(10):
        await refused(ConformanceOptions(cs.url, "CONF1", timeout=3), results)
    outcome = {r.name: (r.outcome, r.detail) for r in results}
    assert outcome["unknown-station-refused"] == ("FAIL", "accepted")
    assert outcome["wrong-password-refused"][0] == "SKIP"


async def test_a_refused_handshake_passes_the_check(cs: MinimalCentralSystem):
    cs.refusing = True  # HTTP 401 to every handshake
    results: list[CheckResult] = []
    with trio.fail_after(10):
        await refused(ConformanceOptions(cs.url, "CONF1", password="pw", timeout=3), results)
    assert [(r.name, r.outcome, r.detail) for r in results] == [
        ("unknown-station-refused", "PASS", "HTTP 401"),
        ("wrong-password-refused", "PASS", "HTTP 401"),
    ]
