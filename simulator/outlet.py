"""One outlet (connector) of a station: the OCPP 1.6 status derived from what is happening."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from simulator.meter import Ev, Meter

__all__ = [
    "FAULTS",
    "Fault",
    "Outlet",
    "Reservation",
    "Status",
    "Transaction",
]


class Status(StrEnum):
    """ChargePointStatus of OCPP 1.6."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


@dataclass(frozen=True, slots=True)
class Fault:
    """An error a connector reports; blocking errors make it Faulted (SPEC §8 alarms)."""

    error_code: str
    vendor_error_code: str = ""
    info: str = ""
    blocking: bool = True


# Named faults for scenarios and the CLI (SPEC §8: hardware, fuse, temperature, mismatch).
FAULTS = {
    "hardware": Fault("InternalError", "HardwareFault", "Hardware fault"),
    "fuse": Fault("OverCurrentFailure", "Fuse", "Fuse blown"),
    "temperature": Fault("HighTemperature", "Temperature", "Temperature alarm"),
    "configuration": Fault("OtherError", "ConfigurationMismatch", "Configuration mismatch"),
    "meter": Fault("PowerMeterFailure", "PowerMeter", "Power meter failure", blocking=False),
    "reader": Fault("ReaderFailure", "Reader", "RFID reader failure", blocking=False),
    "ground": Fault("GroundFailure", "Ground", "Ground failure"),
}


@dataclass(slots=True)
class Transaction:
    """A charging session as the station knows it (transaction_id once answered)."""

    local_id: int
    id_tag: str
    meter_start: int
    started_at: str  # ISO timestamp sent in StartTransaction
    reservation_id: int | None = None
    transaction_id: int | None = None
    authorized: bool = True
    samples: list[dict] = field(default_factory=list)  # for transactionData
    next_sample: float = 0.0  # trio clock time of the next periodic MeterValues
    started_clock: float = 0.0  # trio clock time of the start


@dataclass(slots=True)
class Reservation:
    """A ReserveNow on this outlet (or connector 0) until ``expires_at`` (trio clock)."""

    reservation_id: int
    id_tag: str
    parent_id_tag: str | None
    expires_at: float


@dataclass(slots=True)
class Outlet:
    """A connector: plug, EV, transaction, reservation, availability, fault, meter."""

    connector_id: int
    meter: Meter = field(default_factory=Meter)
    plugged: bool = False
    ev: Ev | None = None
    transaction: Transaction | None = None
    pending_tag: str | None = None  # RFID first: authorized, waiting for the cable
    pending_until: float = 0.0
    reservation: Reservation | None = None
    operative: bool = True
    inoperative_scheduled: bool = False  # ChangeAvailability answered Scheduled
    finishing: bool = False  # transaction ended, cable still plugged
    fault: Fault | None = None
    evse_suspended: bool = False  # station-side pause besides a zero limit
    limit_w: float = 22_000.0
    reported: Status | None = None  # last status sent (None: never)
    reported_error: str = "NoError"
    observed: tuple[Status, str] | None = None  # last status seen by the station itself
    changes: list[tuple[int, Status, str, str]] = field(default_factory=list)  # to send:
    # (sequence, status, errorCode, timestamp), in the order they happened
    locked_cable: bool = False  # fixed (tethered) cable: unlock fails politely

    @property
    def status(self) -> Status:
        """The status the outlet is in now, derived from the facts above."""
        if self.fault is not None and self.fault.blocking:
            return Status.FAULTED
        if self.transaction is not None:
            if self.evse_suspended or self.limit_w <= 0:
                return Status.SUSPENDED_EVSE
            if self.ev is None or self.ev.full or not self.plugged:
                return Status.SUSPENDED_EV
            return Status.CHARGING
        if not self.operative:
            return Status.UNAVAILABLE
        if self.finishing:
            return Status.FINISHING
        if self.reservation is not None and not self.plugged:
            return Status.RESERVED
        if self.plugged or self.pending_tag is not None:
            return Status.PREPARING
        return Status.AVAILABLE

    @property
    def error_code(self) -> str:
        return self.fault.error_code if self.fault is not None else "NoError"

    @property
    def drawing(self) -> bool:
        """True when energy flows now."""
        return self.status == Status.CHARGING

    @property
    def busy(self) -> bool:
        """A session holds the outlet (ChangeAvailability must be Scheduled)."""
        return self.transaction is not None

    def status_changed(self) -> bool:
        """True when the derived status or error differs from what was last reported."""
        return self.reported != self.status or self.reported_error != self.error_code
