"""What happens at the outlets: plug, badge, transactions, meter samples, faults (a mixin)."""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import TYPE_CHECKING, Any

import trio

from simulator.errors import CallErrorReceived, CallTimeoutError, StationOfflineError
from simulator.meter import Ev, sampled_values
from simulator.outlet import FAULTS, Fault, Outlet, Reservation, Transaction
from simulator.profiles import parse_time
from simulator.txqueue import TxMessage

if TYPE_CHECKING:
    from simulator.config import StationConfiguration
    from simulator.localauth import LocalAuth
    from simulator.profiles import ChargingProfiles
    from simulator.txqueue import TxQueue

__all__ = ["STOP_REASONS", "SessionsMixin"]

STOP_REASONS = frozenset(
    {
        "EmergencyStop",
        "EVDisconnected",
        "HardReset",
        "Local",
        "Other",
        "PowerLoss",
        "Reboot",
        "Remote",
        "SoftReset",
        "UnlockCommand",
        "DeAuthorized",
    }
)
_TX_DATA_MAX = 20  # periodic samples kept for StopTransaction.transactionData


class SessionsMixin:
    """Outlet behaviour of :class:`~simulator.station.SimulatedStation`."""

    if TYPE_CHECKING:
        outlets: list[Outlet]
        connector0: Outlet
        config: StationConfiguration
        profiles: ChargingProfiles
        local_auth: LocalAuth
        txq: TxQueue
        rng: random.Random
        pending_profiles: dict[int, dict[str, Any]]
        _local_ids: int
        counters: dict[str, int]
        _aligned_slot: int | None
        _seq: int

        @property
        def online(self) -> bool: ...

        settings: Any

        def outlet(self, connector_id: int) -> Outlet: ...
        def now(self) -> datetime: ...
        def timestamp(self) -> str: ...
        def _kick(self) -> None: ...
        def _notify(self) -> None: ...
        async def call(
            self, action: str, payload: dict[str, Any], *, timeout: float | None = None
        ) -> dict[str, Any]: ...

    # ----------------------------------------------------------------- people
    async def plug_in(self, connector_id: int, ev: Ev | None = None, *, free: bool = False) -> None:
        """The driver plugs a car in; a waiting badge or ``free`` (open outlet) starts charging."""
        outlet = self.outlet(connector_id)
        outlet.plugged = True
        outlet.finishing = False
        outlet.ev = ev or Ev()
        if outlet.transaction is None:
            if outlet.pending_tag is not None:
                tag, outlet.pending_tag = outlet.pending_tag, None
                self.start_transaction(outlet, tag)
            elif free:
                self.start_transaction(outlet, self.settings.open_id_tag)
        self.changed()

    async def unplug(self, connector_id: int) -> None:
        """The driver takes the cable out (EV side disconnect)."""
        outlet = self.outlet(connector_id)
        if not outlet.plugged:
            return
        self._advance(outlet)
        if outlet.transaction is not None and self.config.get_bool(
            "StopTransactionOnEVSideDisconnect"
        ):
            self.stop_transaction(outlet, "EVDisconnected")  # StopTransaction, Finishing...
        outlet.plugged = False
        outlet.finishing = False
        outlet.ev = None
        self.changed()  # ...then Available

    async def present_tag(self, connector_id: int, id_tag: str) -> str:
        """A badge at the reader of an outlet: start, stop or refuse; the idTagInfo status."""
        outlet = self.outlet(connector_id)
        tx = outlet.transaction
        if tx is not None:
            if id_tag == tx.id_tag:
                self.stop_transaction(outlet, "Local", id_tag=id_tag)
                self.changed()
                return "Accepted"
            info = await self.authorize(id_tag)
            if info.get("status") == "Accepted" and info.get("parentIdTag") == tx.id_tag:
                self.stop_transaction(outlet, "Local", id_tag=id_tag)
                self.changed()
            return str(info.get("status"))
        if outlet.status in ("Faulted", "Unavailable"):
            return "Invalid"
        info = await self.authorize(id_tag)
        status = str(info.get("status"))
        if status != "Accepted":
            return status
        reservation = outlet.reservation
        if reservation is not None and id_tag != reservation.id_tag:
            parent = info.get("parentIdTag")
            if parent is None or parent != reservation.parent_id_tag:
                return "Invalid"
        self.accept_tag(outlet, id_tag)
        return status

    def accept_tag(self, outlet: Outlet, id_tag: str) -> None:
        """An authorized tag (badge or RemoteStart): start now if plugged, else wait."""
        if outlet.plugged:
            self.start_transaction(outlet, id_tag)
        else:
            outlet.pending_tag = id_tag
            outlet.pending_until = trio.current_time() + self.config.get_int("ConnectionTimeOut")
        self.changed()

    async def authorize(self, id_tag: str) -> dict[str, Any]:
        """idTagInfo for a badge: local list first if allowed, the central system, offline rules."""
        now = self.now()
        use_list = self.config.get_bool("LocalAuthListEnabled")
        use_cache = self.config.get_bool("AuthorizationCacheEnabled")
        if self.online:
            if self.config.get_bool("LocalPreAuthorize"):
                info = self.local_auth.lookup(id_tag, now, use_list=use_list, use_cache=use_cache)
                if info is not None and info.get("status") == "Accepted":
                    return info
            try:
                answer = await self.call("Authorize", {"idTag": id_tag})
            except (StationOfflineError, CallTimeoutError):
                pass
            except CallErrorReceived:
                return {"status": "Invalid"}
            else:
                info = answer.get("idTagInfo") or {"status": "Invalid"}
                if use_cache:
                    self.local_auth.remember(id_tag, info)
                return info
        if self.config.get_bool("LocalAuthorizeOffline"):
            info = self.local_auth.lookup(id_tag, now, use_list=use_list, use_cache=use_cache)
            if info is not None:
                return info
        if self.config.get_bool("AllowOfflineTxForUnknownId"):
            return {"status": "Accepted"}
        return {"status": "Invalid"}

    def set_fault(self, connector_id: int, fault: str | Fault) -> None:
        """Inject a connector error (SPEC §8: hardware, fuse, temperature, configuration)."""
        outlet = self.connector0 if connector_id == 0 else self.outlet(connector_id)
        outlet.fault = FAULTS[fault] if isinstance(fault, str) else fault
        if outlet.fault.blocking and outlet.transaction is not None:
            self.stop_transaction(outlet, "Other")
        self.changed()

    def clear_fault(self, connector_id: int) -> None:
        outlet = self.connector0 if connector_id == 0 else self.outlet(connector_id)
        outlet.fault = None
        self.changed()

    def changed(self) -> None:
        """Re-derive power and status now; notify the sender and the waiting tests."""
        for outlet in self.outlets:
            self._advance(outlet)
        self.observe(self.connector0)
        self._kick()
        self._notify()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def observe(self, outlet: Outlet, *, again: bool = False) -> None:
        """Note a status change (every one is reported, in order); ``again``: report anyway."""
        state = (outlet.status, outlet.error_code)
        if state == outlet.observed and not again:
            return
        outlet.observed = state
        outlet.changes.append((self.next_seq(), state[0], state[1], self.timestamp()))
        if len(outlet.changes) > 16:  # a flapping outlet: keep the latest
            del outlet.changes[0]
        self._kick()

    # ----------------------------------------------------------------- transactions
    def start_transaction(
        self, outlet: Outlet, id_tag: str, *, reservation_id: int | None = None
    ) -> Transaction:
        """Begin a session and queue StartTransaction (delivered in order, even offline)."""
        self._advance(outlet)
        if reservation_id is None and outlet.reservation is not None:
            reservation_id = outlet.reservation.reservation_id
        outlet.reservation = None
        self._local_ids += 1
        now = trio.current_time()
        tx = Transaction(
            local_id=self._local_ids,
            id_tag=id_tag,
            meter_start=outlet.meter.register_wh,
            started_at=self.timestamp(),
            reservation_id=reservation_id,
            started_clock=now,
        )
        interval = self.config.get_int("MeterValueSampleInterval")
        tx.next_sample = now + interval if interval > 0 else math.inf
        outlet.transaction = tx
        self.counters["sessions"] += 1
        outlet.pending_tag = None
        outlet.finishing = False
        tx.samples.append(self._meter_value(outlet, "Transaction.Begin", stop_txn=True))
        payload = {
            "connectorId": outlet.connector_id,
            "idTag": id_tag,
            "meterStart": tx.meter_start,
            "timestamp": tx.started_at,
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id

        def on_result(answer: dict[str, Any]) -> None:
            self._started(outlet, tx, answer)

        self.txq.push(
            TxMessage("StartTransaction", lambda: payload, on_result, seq=self.next_seq())
        )
        self._advance(outlet)
        self._kick()
        return tx

    def _started(self, outlet: Outlet, tx: Transaction, answer: dict[str, Any]) -> None:
        tx.transaction_id = answer.get("transactionId")
        info = answer.get("idTagInfo") or {}
        if self.config.get_bool("AuthorizationCacheEnabled") and tx.id_tag:
            self.local_auth.remember(tx.id_tag, info)
        pending = self.pending_profiles.pop(outlet.connector_id, None)
        if pending is not None and outlet.transaction is tx:
            self.profiles.install(outlet.connector_id, pending, tx.transaction_id)
        if info.get("status") != "Accepted" and outlet.transaction is tx:
            tx.authorized = False
            if self.config.get_bool("StopTransactionOnInvalidId"):
                self.stop_transaction(outlet, "DeAuthorized")
            else:
                outlet.evse_suspended = True
        self.changed()

    def stop_transaction(self, outlet: Outlet, reason: str, *, id_tag: str | None = None) -> None:
        """End the session and queue StopTransaction with meterStop and transactionData."""
        tx = outlet.transaction
        if tx is None:
            return
        self._advance(outlet)
        tx.samples.append(self._meter_value(outlet, "Transaction.End", stop_txn=True))
        payload: dict[str, Any] = {
            "meterStop": outlet.meter.register_wh,
            "timestamp": self.timestamp(),
            "reason": reason,
            "transactionData": list(tx.samples),
        }
        if id_tag:
            payload["idTag"] = id_tag

        def build() -> dict[str, Any] | None:
            if tx.transaction_id is None:
                return None
            return {"transactionId": tx.transaction_id, **payload}

        def on_result(answer: dict[str, Any]) -> None:
            info = answer.get("idTagInfo")
            if info and id_tag and self.config.get_bool("AuthorizationCacheEnabled"):
                self.local_auth.remember(id_tag, info)

        self.txq.push(TxMessage("StopTransaction", build, on_result, seq=self.next_seq()))
        outlet.transaction = None
        outlet.evse_suspended = False
        outlet.finishing = outlet.plugged
        self.profiles.end_transaction(tx.transaction_id)
        if outlet.inoperative_scheduled:
            outlet.inoperative_scheduled = False
            outlet.operative = False
        self._advance(outlet)
        self._kick()

    def queue_meter_values(self, outlet: Outlet, context: str = "Sample.Periodic") -> None:
        """Sample now and queue MeterValues (with the transactionId once it is known)."""
        self._advance(outlet)
        tx = outlet.transaction
        value = self._meter_value(outlet, context)
        if tx is not None and context == "Sample.Periodic":
            stop_sample = self._meter_value(outlet, context, stop_txn=True)
            if stop_sample["sampledValue"]:
                tx.samples.append(stop_sample)
                if len(tx.samples) > _TX_DATA_MAX:
                    del tx.samples[1]
        connector_id = outlet.connector_id

        def build() -> dict[str, Any] | None:
            payload: dict[str, Any] = {"connectorId": connector_id, "meterValue": [value]}
            if tx is not None:
                if tx.transaction_id is None:
                    return None
                payload["transactionId"] = tx.transaction_id
            return payload

        self.txq.push(TxMessage("MeterValues", build, seq=self.next_seq()))
        self._kick()
        self._notify()

    def _meter_value(self, outlet: Outlet, context: str, *, stop_txn: bool = False) -> dict:
        if context == "Sample.Clock":
            key = "StopTxnAlignedData" if stop_txn else "MeterValuesAlignedData"
        else:
            key = "StopTxnSampledData" if stop_txn else "MeterValuesSampledData"
        measurands = self.config.get_list(key)
        if context.startswith("Transaction.") and not measurands:
            measurands = ["Energy.Active.Import.Register"]
        values = sampled_values(
            outlet.meter, outlet.ev, measurands, context=context, limit_w=outlet.limit_w
        )
        return {"timestamp": self.timestamp(), "sampledValue": values}

    # ----------------------------------------------------------------- physics and timers
    def _limit_for(self, outlet: Outlet) -> float:
        if len(self.profiles) == 0:
            return self.settings.max_power_w
        tx = outlet.transaction
        tx_start = None
        if tx is not None:
            tx_start = parse_time(tx.started_at)
        return self.profiles.limit_w(
            outlet.connector_id,
            self.now(),
            tx_start=tx_start,
            tx_id=tx.transaction_id if tx else None,
        )

    def _advance(self, outlet: Outlet) -> None:
        outlet.limit_w = self._limit_for(outlet)
        outlet.meter.advance(
            trio.current_time(), outlet.ev, limit_w=outlet.limit_w, drawing=outlet.drawing
        )
        self.observe(outlet)

    def tick(self, now: float) -> float:
        """Do what is due at ``now`` (trio clock); return when the next thing is due."""
        deadline = math.inf
        interval = self.config.get_int("MeterValueSampleInterval")
        aligned = self.config.get_int("ClockAlignedDataInterval")
        moved = False
        for outlet in self.outlets:
            before = outlet.status
            self._advance(outlet)
            tx = outlet.transaction
            if tx is not None and interval > 0:
                if tx.next_sample == math.inf:
                    tx.next_sample = now + interval
                if now >= tx.next_sample:
                    self.queue_meter_values(outlet)
                    tx.next_sample = max(tx.next_sample + interval, now + 1e-3)
                deadline = min(deadline, tx.next_sample)
            reservation = outlet.reservation
            if reservation is not None:
                if now >= reservation.expires_at:
                    outlet.reservation = None
                else:
                    deadline = min(deadline, reservation.expires_at)
            if outlet.pending_tag is not None:
                if now >= outlet.pending_until:
                    outlet.pending_tag = None
                else:
                    deadline = min(deadline, outlet.pending_until)
            full_in = outlet.meter.seconds_until_full(outlet.ev)
            if full_in is not None:
                deadline = min(deadline, now + max(full_in, 0.5))
            if outlet.status != before:
                moved = True
        if aligned > 0:
            wall = self.now().timestamp()
            slot = math.floor(wall / aligned)
            last = self._aligned_slot
            if last is not None and slot > last:
                for outlet in self.outlets:
                    self.queue_meter_values(outlet, "Sample.Clock")
            self._aligned_slot = slot
            deadline = min(deadline, now + (slot + 1) * aligned - wall + 1e-3)
        if len(self.profiles):
            starts = [parse_time(o.transaction.started_at) for o in self.outlets if o.transaction]
            change = self.profiles.next_change(self.now(), starts)
            deadline = min(deadline, now + (change + 0.01 if change is not None else 3600))
        if moved:
            self._kick()
            self._notify()
        return deadline

    def reserve(
        self, connector_id: int, reservation_id: int, id_tag: str, parent: str | None, expiry: float
    ) -> str:
        """ReserveNow semantics: Accepted, Faulted, Occupied, Rejected or Unavailable."""
        if connector_id == 0:
            if not self.config.get_bool("ReserveConnectorZeroSupported"):
                return "Rejected"
            free = [o for o in self.outlets if o.status == "Available"]
            if not free:
                return "Occupied"
            target = free[-1]
        else:
            target = self.outlet(connector_id)
        for outlet in self.outlets:
            if outlet.reservation and outlet.reservation.reservation_id == reservation_id:
                outlet.reservation = None
        status = target.status
        if status == "Faulted":
            return "Faulted"
        if status == "Unavailable":
            return "Unavailable"
        if status != "Available":
            return "Occupied"
        target.reservation = Reservation(reservation_id, id_tag, parent, expiry)
        self.changed()
        return "Accepted"

    def cancel_reservation(self, reservation_id: int) -> str:
        for outlet in self.outlets:
            if outlet.reservation and outlet.reservation.reservation_id == reservation_id:
                outlet.reservation = None
                self.changed()
                return "Accepted"
        return "Rejected"

    def end_all_transactions(self, reason: str) -> None:
        for outlet in self.outlets:
            if outlet.transaction is not None:
                self.stop_transaction(outlet, reason)
        self.changed()
