"""``portalclient.explore``: the timeline and the configuration diff support reads."""

from __future__ import annotations

import pytest

pd = pytest.importorskip("pandas", reason="pandas comes with the [notebooks] extra")

from portalclient.explore import config_diff, connectors_frame, message_timeline  # noqa: E402


def test_timeline_says_who_sent_what_in_one_line() -> None:
    messages = pd.DataFrame(
        {
            "receivedAt": ["2026-11-02T08:00:00Z", "2026-11-02T08:00:01Z"],
            "direction": ["in", "out"],
            "action": ["MeterValues", "StartTransaction"],
            "payload": [
                {
                    "connectorId": 2,
                    "meterValue": [{"sampledValue": [{"value": "1200", "unit": "Wh"}]}],
                },
                {"idTagInfo": {"status": "Accepted"}, "transactionId": 7},
            ],
        }
    )
    timeline = message_timeline(messages)
    assert list(timeline["direction"]) == ["station → portal", "portal → station"]
    assert list(timeline["summary"]) == [
        "connector 2: Energy.Active.Import.Register=1200Wh",
        "transactionId=7, idTagInfo=…",
    ]


def test_config_diff_puts_differences_first() -> None:
    mine = pd.DataFrame({"key": ["A", "B", "C"], "value": ["1", "2", "3"]})
    reference = pd.DataFrame({"key": ["A", "B", "D"], "value": ["1", "9", "4"]})
    diff = config_diff(mine, reference)
    assert list(diff["key"]) == ["B", "C", "D", "A"]
    assert list(diff["differs"]) == [True, True, True, False]


def test_an_offline_station_has_no_live_connectors() -> None:
    assert connectors_frame({"live": None}).empty
    live = {"live": {"connectors": {"1": {"status": "Charging", "errorCode": "NoError"}}}}
    assert connectors_frame(live).to_dict("records")[0]["status"] == "Charging"
