"""The load runner in-process: boot figures apart from the measured window, plugged cars."""

from __future__ import annotations

import trio

from simulator.load import LoadOptions, run_load


async def test_load_reports_boot_storm_and_measures_after_it(cs):
    options = LoadOptions(
        cs.url, stations=3, mode="idle", duration=1.0, heartbeat=0.25, plugged=True
    )
    with trio.fail_after(20):
        summary = await run_load(options)
    assert summary["boot"]["accepted"] == 3
    assert summary["boot"]["seconds"] is not None
    assert "BootNotification" in summary["boot"]["actions"]
    assert "BootNotification" not in summary["actions"]  # not in the measured window
    assert summary["actions"]["Heartbeat"]["ok"] >= 6
    assert summary["fleet"]["states"] == {"accepted": 3}
    preparing = {
        (p["connectorId"]) for p in cs.payloads("StatusNotification") if p["status"] == "Preparing"
    }
    assert preparing == {1}
