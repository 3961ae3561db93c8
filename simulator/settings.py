"""How a simulated station is set up: identity and endpoint, faults to inject, observers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["CallObserver", "FaultSettings", "StationSettings"]


class CallObserver(Protocol):
    """Receives every CALL outcome of a station (the load runner counts and times them)."""

    def call_done(self, action: str, seconds: float, outcome: str) -> None: ...

    def station_state(self, charge_box_id: str, state: str) -> None: ...


@dataclass(slots=True)
class StationSettings:
    """How a simulated station presents itself and where it connects."""

    url: str  # several central system nodes: "ws://a/...,ws://b/..." (tried in turn)
    charge_box_id: str
    password: str | None = None
    outlets: int = 2
    ca_file: str | None = None
    vendor: str = "ChargePortal"
    model: str = "SimCharger"
    serial_number: str = ""
    firmware_version: str = "1.0.0"
    max_power_w: float = 22_000.0
    call_timeout: float = 30.0
    connect_timeout: float = 20.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    reboot_delay: float = 1.0
    boot_on_reconnect: bool = False
    fixed_cable: bool = False
    open_id_tag: str = "FreeCharging"  # idTag of sessions without a badge (open outlets)
    history: int = 500  # frames kept for assertions (0: none, for big fleets)
    heartbeat_interval: float | None = None  # overrides the central system's interval
    config: dict[str, str] = field(default_factory=dict)  # initial key overrides
    # OCPP 1.6 security: the client certificate and key (PEM files) for profile 3, the
    # profile to start with (None: what the credentials allow), and how many failed
    # connections with a new profile before falling back to the previous one
    client_cert: str | None = None
    client_key: str | None = None
    security_profile: int | None = None
    profile_fallback_after: int = 3


@dataclass(slots=True)
class FaultSettings:
    """Misbehaviour to inject (changed at run time by tests, scenarios or the CLI)."""

    silent: bool = False  # connected but mute: no heartbeat, nothing sent, nothing answered
    answer_delay: float = 0.0  # seconds before answering a central-system CALL
    drop_answers: int = 0  # the next N central-system CALLs get no answer at all
    unlock_fails: bool = False
    download_fails: bool = False
    install_fails: bool = False
    upload_fails: bool = False
    # OCPP 1.5 link: the next N answers to an action are lost on their way back (the
    # central system got the request; the station times out and re-sends it)
    lost_replies: dict[str, int] = field(default_factory=dict)
