"""Every OCPP 1.5 station-initiated operation not covered by the session test gets a
schema-valid answer and leaves the same trace as over 1.6; re-sent transaction messages
are stored once."""

from __future__ import annotations

import pytest

from db import Store
from db.schema.models import ChargingSession, Event, MeterSample, Station
from tests.gateway.conftest import add_id_tag, add_station
from tests.gateway.ocpp15_rig import CS, checked, envelope, post, running


@pytest.mark.parametrize(
    ("body", "answer", "column", "value"),
    [
        (
            "<cs:firmwareStatusNotificationRequest><cs:status>Installed</cs:status>"
            "</cs:firmwareStatusNotificationRequest>",
            "firmwareStatusNotificationResponse",
            "firmware_status",
            "Installed",
        ),
        (
            "<cs:diagnosticsStatusNotificationRequest><cs:status>Uploaded</cs:status>"
            "</cs:diagnosticsStatusNotificationRequest>",
            "diagnosticsStatusNotificationResponse",
            "diagnostics_status",
            "Uploaded",
        ),
    ],
)
async def test_firmware_and_diagnostics_notifications_are_stored(
    store: Store, body: str, answer: str, column: str, value: str
) -> None:
    await store.write(lambda: add_station("CP15"))
    async with running(store) as rig:
        reply = await post(rig.url, envelope(body))
    assert checked(reply.content).tag == f"{{{CS}}}{answer}"
    stored = await store.read(lambda: getattr(Station.get(Station.charge_box_id == "CP15"), column))
    assert stored == value


async def test_a_data_transfer_is_answered_and_logged(store: Store) -> None:
    await store.write(lambda: add_station("CP15"))
    body = (
        "<cs:dataTransferRequest><cs:vendorId>acme</cs:vendorId><cs:messageId>hello</cs:messageId>"
        "<cs:data>42</cs:data></cs:dataTransferRequest>"
    )
    async with running(store) as rig:
        reply = await post(rig.url, envelope(body))
    assert checked(reply.content).findtext(f"{{{CS}}}status") == "UnknownVendorId"
    messages = await store.read(
        lambda: [e.message for e in Event.select().where(Event.kind == "station.data_transfer")]
    )
    assert messages == ["vendor acme message hello"]


async def test_resent_meter_values_and_stop_are_stored_once(store: Store) -> None:
    await store.write(lambda: add_station("CP15"))
    await store.write(lambda: add_id_tag("T15"))
    start = (
        "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>T15</cs:idTag>"
        "<cs:timestamp>2026-01-05T08:00:00Z</cs:timestamp><cs:meterStart>100</cs:meterStart>"
        "</cs:startTransactionRequest>"
    )
    async with running(store) as rig:
        tx = checked((await post(rig.url, envelope(start))).content).findtext(
            f"{{{CS}}}transactionId"
        )
        meter = (
            f"<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>"
            f"<cs:transactionId>{tx}</cs:transactionId><cs:values>"
            "<cs:timestamp>2026-01-05T08:05:00Z</cs:timestamp><cs:value>600</cs:value>"
            "</cs:values></cs:meterValuesRequest>"
        )
        stop = (
            f"<cs:stopTransactionRequest><cs:transactionId>{tx}</cs:transactionId>"
            "<cs:timestamp>2026-01-05T08:10:00Z</cs:timestamp><cs:meterStop>1100</cs:meterStop>"
            "</cs:stopTransactionRequest>"
        )
        for body in (meter, meter, stop, stop):  # each sent twice: the answer was lost
            checked((await post(rig.url, envelope(body))).content)

    def rows() -> tuple[int, int, int]:
        session = ChargingSession.get(ChargingSession.id == int(str(tx)))
        samples = MeterSample.select().where(MeterSample.session == session).count()
        return samples, session.energy_wh, ChargingSession.select().count()

    assert await store.read(rows) == (1, 1000, 1)
