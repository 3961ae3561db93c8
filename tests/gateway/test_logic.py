"""Station logic called directly, with a plain context over the real database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import trio

from db import Store
from db.ocpp.authorization import tag_authorization
from db.ocpp.ocpp_transactions import MeterIn, MeterResult
from db.schema.models import Alarm, utcnow
from gateway.batching import BatchingStore, WriteBatcher
from gateway.config import GatewayConfig
from gateway.logic import ALARM_FOR_ERROR, HANDLERS, flatten_meter_values
from gateway.logic.station import alarm_kind
from gateway.state import StationState
from tests.gateway.conftest import add_id_tag, add_station


class Context:
    """A StationContext without a connection: what an actor would provide."""

    def __init__(self, store: Store, station_id: int, *, imported: bool = True) -> None:
        from db.ocpp.ocpp_transactions import record_meter_batch

        self.charge_box_id = "CP1"
        self.state = StationState("CP1", station_id, None)
        self.store = BatchingStore(store)
        self.meter_writer: WriteBatcher[MeterIn, MeterResult] = WriteBatcher(
            store, record_meter_batch
        )
        self.config = GatewayConfig()
        self.unique_id = "u1"
        self.raw = ""
        self.config_imported = imported
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.imports = 0

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append((kind, data))

    def import_configuration_soon(self) -> None:
        self.imports += 1

    def start_soon(self, task: Any) -> None:
        raise AssertionError("no background task expected here")

    async def call(self, action: str, payload: Any, timeout: float | None = None) -> Any:
        raise AssertionError("no call to the station expected here")


async def handle(ctx: Context, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    return await HANDLERS[action](ctx, payload)


def active_alarms() -> list[tuple[str, int]]:
    return sorted(
        (a.kind, a.connector_id) for a in Alarm.select().where(Alarm.cleared_at.is_null())
    )


def test_every_status_error_code_that_means_trouble_maps_to_a_spec_alarm() -> None:
    spec_alarms = {"Hardware fault", "Configuration mismatch", "Fuse", "Temperature"}
    assert set(ALARM_FOR_ERROR.values()) <= spec_alarms
    assert ALARM_FOR_ERROR["OverCurrentFailure"] == "Fuse"
    assert ALARM_FOR_ERROR["HighTemperature"] == "Temperature"
    assert "NoError" not in ALARM_FOR_ERROR


async def test_changing_error_code_moves_the_alarm(store: Store, db_write) -> None:
    ctx = Context(store, await db_write(add_station, "CP1"))
    status = {"connectorId": 2, "status": "Faulted"}
    await handle(ctx, "StatusNotification", {**status, "errorCode": "OverCurrentFailure"})
    assert await store.read(active_alarms) == [("Fuse", 2)]
    await handle(ctx, "StatusNotification", {**status, "errorCode": "HighTemperature"})
    assert await store.read(active_alarms) == [("Temperature", 2)]
    await handle(ctx, "StatusNotification", {**status, "errorCode": "HighTemperature"})
    assert await store.read(lambda: Alarm.select().count()) == 2  # a repeat adds no alarm
    await handle(
        ctx, "StatusNotification", {**status, "errorCode": "NoError", "status": "Available"}
    )
    assert await store.read(active_alarms) == []
    kinds = [kind for kind, _ in ctx.events]
    assert kinds.count("alarm.raised") == 2
    assert kinds.count("alarm.cleared") == 2
    assert ctx.state.connectors[2].status == "Available"


def test_other_error_is_refined_by_its_vendor_code() -> None:
    assert alarm_kind("OtherError", "ConfigurationMismatch") == "Configuration mismatch"
    assert alarm_kind("OtherError", "FUSE") == "Fuse"
    assert alarm_kind("OtherError", "over-temperature") == "Temperature"
    assert alarm_kind("OtherError", "E42") == "Hardware fault"
    assert alarm_kind("GroundFailure") == "Fuse"
    assert alarm_kind("NoError", "ConfigurationMismatch") is None


async def test_a_vendor_coded_alarm_clears_when_the_fault_goes(store: Store, db_write) -> None:
    ctx = Context(store, await db_write(add_station, "CP1"))
    faulted = {"connectorId": 1, "status": "Faulted", "errorCode": "OtherError"}
    await handle(ctx, "StatusNotification", {**faulted, "vendorErrorCode": "ConfigurationMismatch"})
    assert await store.read(active_alarms) == [("Configuration mismatch", 1)]
    await handle(
        ctx,
        "StatusNotification",
        {"connectorId": 1, "status": "Available", "errorCode": "NoError"},
    )
    assert await store.read(active_alarms) == []


async def test_boot_asks_for_a_configuration_import_only_once(store: Store, db_write) -> None:
    ctx = Context(store, await db_write(add_station, "CP1"), imported=False)
    boot = {"chargePointVendor": "V", "chargePointModel": "M"}
    reply = await handle(ctx, "BootNotification", boot)
    assert reply["status"] == "Accepted"
    assert ctx.imports == 1
    ctx.config_imported = True
    await handle(ctx, "BootNotification", boot)
    assert ctx.imports == 1


async def test_meter_values_update_live_state(store: Store, db_write) -> None:
    ctx = Context(store, await db_write(add_station, "CP1"))
    await db_write(add_id_tag, "TAG1")
    start = await handle(
        ctx,
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "TAG1",
            "meterStart": 1000,
            "timestamp": "2030-01-01T08:00:00Z",
        },
    )
    await handle(
        ctx,
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": start["transactionId"],
            "meterValue": [
                {
                    "timestamp": "2030-01-01T08:10:00Z",
                    "sampledValue": [{"value": "1.5", "unit": "kWh"}],
                },
                {"timestamp": "2030-01-01T08:05:00Z", "sampledValue": [{"value": "1200"}]},
            ],
        },
    )
    connector = ctx.state.connectors[1].snapshot()
    assert (connector.meter_wh, connector.energy_wh) == (1500, 500)


def test_flattened_samples_keep_defaults_and_utc() -> None:
    rows = flatten_meter_values(
        [{"timestamp": "2030-01-01T10:00:00+01:00", "sampledValue": [{"value": "7"}]}]
    )
    assert rows[0].timestamp == dt.datetime(2030, 1, 1, 9, 0)
    assert (rows[0].measurand, rows[0].unit, rows[0].context) == (
        "Energy.Active.Import.Register",
        "Wh",
        "Sample.Periodic",
    )


async def test_tag_authorization_follows_expiry_and_parents(store: Store, db_write) -> None:
    past = utcnow() - dt.timedelta(hours=1)
    await db_write(add_id_tag, "PARENT", expiry=past)
    await db_write(add_id_tag, "CHILD", parent="PARENT")
    await db_write(add_id_tag, "ME", email="me@example.com")

    def verdicts() -> dict[str, str]:
        return {tag: tag_authorization(tag).status for tag in ("PARENT", "CHILD", "ME", "NONE")}

    assert await store.read(verdicts) == {
        "PARENT": "Expired",
        "CHILD": "Expired",
        "ME": "Accepted",
        "NONE": "Invalid",
    }
    me = await store.read(lambda: tag_authorization("ME"))
    assert me.user_email == "me@example.com"
    with trio.fail_after(5):
        assert (await store.read(lambda: tag_authorization("CHILD"))).parent_id_tag == "PARENT"
