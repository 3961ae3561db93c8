"""Pure parts of the simulator: outlet states, meter, configuration, local list, profiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.config import StationConfiguration, default_specs
from simulator.localauth import LocalAuth
from simulator.meter import Ev, Meter, sampled_values
from simulator.outlet import FAULTS, Outlet, Reservation, Status, Transaction
from simulator.profiles import ChargingProfiles
from simulator.protocol import Call, CallError, CallResult, FrameError, parse_frame

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def tx() -> Transaction:
    return Transaction(local_id=1, id_tag="T", meter_start=0, started_at="2026-01-05T08:00:00Z")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({}, Status.AVAILABLE),
        ({"plugged": True}, Status.PREPARING),
        ({"pending_tag": "T"}, Status.PREPARING),
        ({"plugged": True, "ev": Ev(), "transaction": tx()}, Status.CHARGING),
        (
            {"plugged": True, "ev": Ev(delivered_wh=20_000), "transaction": tx()},
            Status.SUSPENDED_EV,
        ),
        ({"plugged": True, "ev": Ev(), "transaction": tx(), "limit_w": 0}, Status.SUSPENDED_EVSE),
        ({"plugged": True, "finishing": True}, Status.FINISHING),
        ({"reservation": Reservation(1, "T", None, 99.0)}, Status.RESERVED),
        ({"operative": False}, Status.UNAVAILABLE),
        ({"fault": FAULTS["fuse"], "transaction": tx()}, Status.FAULTED),
        ({"fault": FAULTS["meter"]}, Status.AVAILABLE),  # a non-blocking error
    ],
)
def test_outlet_status_follows_what_happens_at_the_outlet(setup, expected):
    outlet = Outlet(1, **setup)
    assert outlet.status == expected


def test_outlet_reports_only_changes():
    outlet = Outlet(1)
    assert outlet.status_changed()
    outlet.reported, outlet.reported_error = outlet.status, outlet.error_code
    assert not outlet.status_changed()
    outlet.fault = FAULTS["temperature"]
    assert outlet.status_changed()
    assert outlet.error_code == "HighTemperature"


def test_meter_accumulates_energy_at_the_limited_power_until_the_ev_is_full():
    ev = Ev(max_power_w=11_000, wanted_wh=1_000)
    meter = Meter()
    meter.advance(0.0, ev, limit_w=7_400, drawing=True)
    assert meter.power_w == 7_400
    meter.advance(360.0, ev, limit_w=7_400, drawing=True)  # 0.1 h at 7.4 kW
    assert meter.register_wh == 740
    assert meter.seconds_until_full(ev) == pytest.approx(260 * 3600 / 7_400)
    meter.advance(3600.0, ev, limit_w=7_400, drawing=True)
    assert meter.register_wh == 1_000  # never more than the car takes
    assert ev.full
    assert meter.power_w == 0


def test_sampled_values_carry_units_and_context():
    meter = Meter(energy_wh=1234.7, power_w=6900)
    values = sampled_values(
        meter,
        Ev(),
        ["Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "SoC"],
        context="Sample.Clock",
        limit_w=11_000,
    )
    assert [(v["measurand"], v["value"], v.get("unit")) for v in values] == [
        ("Energy.Active.Import.Register", "1234", "Wh"),
        ("Power.Active.Import", "6900.0", "W"),
        ("Current.Import", "10.0", "A"),
        ("SoC", "67", "Percent"),
    ]
    assert {v["context"] for v in values} == {"Sample.Clock"}


def make_config() -> StationConfiguration:
    specs = default_specs(outlets=2, vendor="V", model="M", firmware="1.0", identity="SIM1")
    return StationConfiguration(specs)


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("HeartbeatInterval", "120", "Accepted"),
        ("heartbeatinterval", "120", "Accepted"),
        ("HeartbeatInterval", "-5", "Rejected"),
        ("HeartbeatInterval", "soon", "Rejected"),
        ("NumberOfConnectors", "4", "Rejected"),
        ("WebSocketPingInterval", "60", "RebootRequired"),
        ("LocalAuthorizeOffline", "maybe", "Rejected"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Voltage", "Accepted"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Smell", "Rejected"),
        ("NoSuchKey", "1", "NotSupported"),
    ],
)
def test_change_configuration_semantics(key, value, status):
    config = make_config()
    assert config.change(key, value) == status


def test_get_configuration_lists_keys_hides_write_only_and_names_unknown():
    config = make_config()
    config.set("AuthorizationKey", "secret")
    everything = config.report()
    keys = {k["key"] for k in everything["configurationKey"]}
    assert "AuthorizationKey" not in keys
    assert {"HeartbeatInterval", "NumberOfConnectors", "FirmwareVersion"} <= keys
    assert "unknownKey" not in everything
    some = config.report(["FirmwareVersion", "Bogus", "AuthorizationKey"])
    assert some == {
        "configurationKey": [{"key": "FirmwareVersion", "readonly": True, "value": "1.0"}],
        "unknownKey": ["Bogus", "AuthorizationKey"],
    }


def test_local_list_full_then_differential_and_expiry():
    auth = LocalAuth(max_length=3)
    assert (
        auth.send_local_list(1, "Full", [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}])
        == "Accepted"
    )
    assert auth.send_local_list(1, "Differential", []) == "VersionMismatch"
    expired = {"status": "Accepted", "expiryDate": "2020-01-01T00:00:00Z"}
    update = [{"idTag": "B", "idTagInfo": expired}, {"idTag": "A"}]
    assert auth.send_local_list(2, "Differential", update) == "Accepted"
    assert auth.lookup("A", T0) is None
    assert auth.lookup("B", T0) == {**expired, "status": "Expired"}
    many = [{"idTag": f"T{i}", "idTagInfo": {"status": "Accepted"}} for i in range(4)]
    assert auth.send_local_list(3, "Full", many) == "Failed"
    assert auth.version == 2


def test_cache_is_consulted_after_the_list_and_can_be_cleared():
    auth = LocalAuth()
    auth.remember("C", {"status": "Blocked"})
    assert auth.lookup("C", T0) == {"status": "Blocked"}
    assert auth.lookup("C", T0, use_cache=False) is None
    auth.clear_cache()
    assert auth.lookup("C", T0) is None


def profile(pid, purpose, periods, *, level=0, kind="Absolute", unit="W", start=T0, **extra):
    schedule = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in periods],
    }
    if start is not None:
        schedule["startSchedule"] = start.isoformat()
    return {
        "chargingProfileId": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
        **extra,
    }


def test_tx_default_profile_limits_power_over_time_and_higher_stack_wins():
    profiles = ChargingProfiles(22_000)
    assert (
        profiles.install(0, profile(1, "TxDefaultProfile", [(0, 11_000), (3600, 3_700)]), None)
        == "Accepted"
    )
    assert profiles.limit_w(1, T0 + timedelta(minutes=10)) == 11_000
    assert profiles.limit_w(2, T0 + timedelta(hours=2)) == 3_700
    profiles.install(1, profile(2, "TxDefaultProfile", [(0, 5_000)], level=1), None)
    assert profiles.limit_w(1, T0 + timedelta(minutes=10)) == 5_000
    assert profiles.limit_w(2, T0 + timedelta(minutes=10)) == 11_000


def test_tx_profile_needs_a_transaction_and_overrides_the_default():
    profiles = ChargingProfiles(22_000)
    profiles.install(0, profile(1, "TxDefaultProfile", [(0, 11_000)]), None)
    assert profiles.install(1, profile(2, "TxProfile", [(0, 16)], unit="A"), None) == "Rejected"
    assert profiles.install(1, profile(2, "TxProfile", [(0, 16)], unit="A"), 42) == "Accepted"
    assert profiles.limit_w(1, T0, tx_id=42) == pytest.approx(16 * 230 * 3)
    profiles.end_transaction(42)
    assert profiles.limit_w(1, T0, tx_id=42) == 11_000


def test_charge_point_max_profile_caps_every_outlet_and_only_on_connector_zero():
    profiles = ChargingProfiles(22_000)
    assert (
        profiles.install(1, profile(1, "ChargePointMaxProfile", [(0, 7_000)]), None) == "Rejected"
    )
    assert (
        profiles.install(0, profile(1, "ChargePointMaxProfile", [(0, 7_000)]), None) == "Accepted"
    )
    assert profiles.limit_w(2, T0) == 7_000


def test_daily_recurring_profile_repeats():
    profiles = ChargingProfiles(22_000)
    night = profile(
        1,
        "TxDefaultProfile",
        [(0, 2_000), (6 * 3600, 11_000)],
        kind="Recurring",
        recurrencyKind="Daily",
        start=datetime(2026, 1, 1, tzinfo=UTC),
    )
    profiles.install(0, night, None)
    assert profiles.limit_w(1, datetime(2026, 1, 9, 3, tzinfo=UTC)) == 2_000
    assert profiles.limit_w(1, datetime(2026, 1, 9, 12, tzinfo=UTC)) == 11_000


def test_composite_schedule_merges_profiles_into_periods():
    profiles = ChargingProfiles(22_000)
    profiles.install(0, profile(1, "TxDefaultProfile", [(0, 11_000), (600, 3_000)]), None)
    profiles.install(0, profile(2, "ChargePointMaxProfile", [(0, 8_000)]), None)
    composite = profiles.composite(1, 1200, "W", T0)
    assert composite["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 8_000},
        {"startPeriod": 600, "limit": 3_000},
    ]
    assert profiles.clear(purpose="ChargePointMaxProfile")
    assert not profiles.clear(profile_id=99)
    assert profiles.composite(1, 1200, "A", T0)["chargingSchedulePeriod"][0][
        "limit"
    ] == pytest.approx(15.9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[2,"1","Heartbeat",{}]', Call("1", "Heartbeat", {})),
        ('[3,"1",{"a":1}]', CallResult("1", {"a": 1})),
        ('[4,"1","NotImplemented","no",{}]', CallError("1", "NotImplemented", "no", {})),
    ],
)
def test_frames_parse(text, expected):
    assert parse_frame(text) == expected
    assert parse_frame(expected.to_json()) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "FormationViolation"),
        ('{"a": 1}', "FormationViolation"),
        ('[2,"1","Heartbeat"]', "FormationViolation"),
        ('[2,"1","Heartbeat",[]]', "FormationViolation"),
        ('[9,"1",{}]', "ProtocolError"),
        ('[2,1,"Heartbeat",{}]', "FormationViolation"),
    ],
)
def test_bad_frames_have_ocpp_codes(text, code):
    with pytest.raises(FrameError) as info:
        parse_frame(text)
    assert info.value.code == code


def test_reconnect_backoff_doubles_with_jitter_up_to_the_maximum():
    import random

    from simulator.station import backoff_delay

    rng = random.Random(5)
    delays = [backoff_delay(a, 1.0, 60.0, rng) for a in range(10)]
    for attempt, delay in enumerate(delays):
        ceiling = min(60.0, 2.0**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 60.0
    assert len({round(d, 6) for d in delays}) == len(delays)  # jittered, not lock-step
