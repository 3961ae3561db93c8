"""/Ocpp/CentralSystemService15 with raw SOAP: WS-Addressing answers, identity and password
checks, and a readable SOAP Fault for every kind of bad request (no other station harmed)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lxml import etree

from db import Store
from db.schema.models import Alarm, ChargingSession, Event
from ocpp15wire.envelope import WSA_NS
from tests.gateway.conftest import TEST_CONFIG, add_id_tag, add_station
from tests.gateway.ocpp15_rig import CS, checked, envelope, fault_reason, post, running

HEARTBEAT = "<cs:heartbeatRequest/>"
START = (
    "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>T15</cs:idTag>"
    "<cs:timestamp>2026-01-05T08:00:00Z</cs:timestamp><cs:meterStart>10</cs:meterStart>"
    "</cs:startTransactionRequest>"
)


async def test_an_answer_relates_to_the_request_and_names_its_action(store: Store) -> None:
    await store.write(lambda: add_station("CP15"))
    async with running(store) as rig:
        reply = await post(rig.url, envelope(HEARTBEAT, message_id="urn:uuid:abc"))
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/soap+xml")
    root = etree.fromstring(reply.content)
    assert root.findtext(f".//{{{WSA_NS}}}RelatesTo") == "urn:uuid:abc"
    assert root.findtext(f".//{{{WSA_NS}}}Action") == "/HeartbeatResponse"
    assert checked(reply.content).tag == f"{{{CS}}}heartbeatResponse"


async def test_an_unregistered_identity_gets_a_fault_and_not_registered(store: Store) -> None:
    async with running(store) as rig:
        reply = await post(rig.url, envelope(HEARTBEAT, charge_box_id="NOBODY"))
        assert not rig.gateway.is_online("NOBODY")
        refused = rig.gateway.refusals.statistics()
    assert reply.status_code == 404
    assert fault_reason(reply.content) == "Not registered"
    assert refused["unknownAttempts"] == 1  # counted as for 1.6: raises "Not registered"


async def test_a_station_with_a_password_must_send_it(store: Store) -> None:
    await store.write(lambda: add_station("CP15", password="s3cret-pass"))
    async with running(store) as rig:
        without = await post(rig.url, envelope(HEARTBEAT))
        wrong = await post(rig.url, envelope(HEARTBEAT), auth=("CP15", "nope"))
        right = await post(rig.url, envelope(HEARTBEAT), auth=("CP15", "s3cret-pass"))
        await rig.gateway.refusals.flush()
    assert (without.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    kinds = await store.read(
        lambda: [e.kind for e in Event.select().where(Event.charge_box_id == "CP15")]
    )
    assert kinds == ["station.security"]  # the refused password, as for 1.6
    assert "password" in fault_reason(without.content)
    checked(right.content)


async def test_wrong_passwords_are_throttled_as_over_16_then_even_the_right_one_waits(
    store: Store,
) -> None:
    await store.write(lambda: add_station("CP15", password="s3cret-pass"))
    await store.write(lambda: add_station("CP15B", password="s3cret-pass"))
    config = replace(TEST_CONFIG, auth_failures_per_station=3, auth_failures_per_address=100)
    async with running(store, config) as rig:
        wrong = [
            await post(rig.url, envelope(HEARTBEAT), auth=("CP15", f"guess-{i}")) for i in range(3)
        ]
        throttled = await post(rig.url, envelope(HEARTBEAT), auth=("CP15", "s3cret-pass"))
        other = await post(
            rig.url, envelope(HEARTBEAT, charge_box_id="CP15B"), auth=("CP15B", "s3cret-pass")
        )
        checks = rig.gateway.auth_throttle.statistics()
    assert [r.status_code for r in wrong] == [401, 401, 401]
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert "too many failed" in fault_reason(throttled.content).lower()
    assert other.status_code == 200  # another station is not locked out
    assert checks["blockedAttempts"] == 1


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (b"<not xml", 400, "not well-formed XML"),
        (b"<a/>", 400, "not a SOAP 1.2 envelope"),
        (envelope("<cs:rebootTheWorldRequest/>"), 400, "unknown operation 'rebootTheWorldRequest'"),
        (
            envelope(
                "<cs:authorizeRequest><cs:idTag>123456789012345678901</cs:idTag></cs:authorizeRequest>"
            ),
            400,
            "maxLength",
        ),
        (
            envelope(
                "<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId><cs:status>Charging</cs:status><cs:errorCode>NoError</cs:errorCode></cs:statusNotificationRequest>"
            ),
            400,
            "Charging",
        ),
        (envelope(HEARTBEAT, charge_box_id=None), 400, "chargeBoxIdentity"),
        (
            envelope(
                "<cs:dataTransferRequest><cs:vendorId>"
                + "x" * 300_000
                + "</cs:vendorId></cs:dataTransferRequest>"
            ),
            413,
            "bytes",
        ),
    ],
)
async def test_a_bad_request_gets_a_readable_fault_and_harms_no_other_station(
    store: Store, data: bytes, status: int, reason: str
) -> None:
    await store.write(lambda: add_station("CP15"))
    async with running(store) as rig:
        reply = await post(rig.url, data)
        after = await post(rig.url, envelope(HEARTBEAT))
    assert reply.status_code == status
    assert reason in fault_reason(reply.content)
    assert after.status_code == 200


async def test_a_resent_start_transaction_is_stored_once(store: Store) -> None:
    await store.write(lambda: add_station("CP15"))
    await store.write(lambda: add_id_tag("T15"))
    async with running(store) as rig:
        first = await post(rig.url, envelope(START, message_id="urn:uuid:s1"))
        again = await post(rig.url, envelope(START, message_id="urn:uuid:s2"))
    ids = [checked(r.content).findtext(f"{{{CS}}}transactionId") for r in (first, again)]
    assert ids[0] == ids[1]
    count = await store.read(
        lambda: ChargingSession.select().where(ChargingSession.charge_box_id == "CP15").count()
    )
    assert count == 1


async def test_a_connector_fault_raises_the_same_alarm_as_over_16(store: Store) -> None:
    await store.write(lambda: add_station("CP15"))
    status = (
        "<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
        "<cs:status>Faulted</cs:status><cs:errorCode>HighTemperature</cs:errorCode>"
        "</cs:statusNotificationRequest>"
    )
    async with running(store) as rig:
        reply = await post(rig.url, envelope(status))
        snapshot = rig.gateway.snapshot("CP15")
    checked(reply.content)
    assert snapshot is not None
    assert snapshot.online
    alarms = await store.read(
        lambda: [(a.kind, a.connector_id) for a in Alarm.select().where(Alarm.cleared_at.is_null())]
    )
    assert alarms == [("Temperature", 1)]


async def test_a_connector_beyond_the_outlets_is_refused_as_over_16(store: Store) -> None:
    await store.write(lambda: add_station("CP15", outlets=2))
    status = (
        "<cs:statusNotificationRequest><cs:connectorId>3</cs:connectorId>"
        "<cs:status>Available</cs:status><cs:errorCode>NoError</cs:errorCode>"
        "</cs:statusNotificationRequest>"
    )
    async with running(store) as rig:
        reply = await post(rig.url, envelope(status))
    assert reply.status_code == 400
    assert "connectorId: 3 is beyond this station's 2 outlets" in fault_reason(reply.content)


async def test_over_tls_the_endpoint_speaks_https(
    store: Store, certificate: tuple[str, str]
) -> None:
    cert, _ = certificate
    await store.write(lambda: add_station("CP15", password="s3cret-pass"))
    async with running(store, tls=certificate) as rig:
        assert rig.url.startswith("https://")
        reply = await post(rig.url, envelope(HEARTBEAT), ("CP15", "s3cret-pass"), verify=cert)
    assert reply.status_code == 200
    checked(reply.content)
