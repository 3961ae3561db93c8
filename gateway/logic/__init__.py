"""Station logic, written once: what the central system does for each station message.

Handlers take the station context and an OCPP 1.6-shaped payload (other protocol
adapters convert to this shape at their edge) and return the reply payload. Anything
a station must not lose is committed (``await ctx.store.write``) before returning.
"""

from gateway.logic.charging import (
    flatten_meter_values,
    meter_values,
    start_transaction,
    stop_transaction,
)
from gateway.logic.context import Handler, StationContext, id_tag_info
from gateway.logic.security import (
    log_status_notification,
    security_event_notification,
    sign_certificate,
    signed_firmware_status_notification,
)
from gateway.logic.station import (
    ALARM_FOR_ERROR,
    STATUS_ALARM_KINDS,
    authorize,
    boot_notification,
    data_transfer,
    diagnostics_status_notification,
    firmware_status_notification,
    heartbeat,
    status_notification,
)

__all__ = [
    "ALARM_FOR_ERROR",
    "HANDLERS",
    "STATUS_ALARM_KINDS",
    "Handler",
    "StationContext",
    "flatten_meter_values",
    "id_tag_info",
]

#: The routing table: station-initiated action -> handler. A known action missing here
#: is answered NotSupported; an unknown one NotImplemented.
HANDLERS: dict[str, Handler] = {
    "Authorize": authorize,
    "BootNotification": boot_notification,
    "DataTransfer": data_transfer,
    "DiagnosticsStatusNotification": diagnostics_status_notification,
    "FirmwareStatusNotification": firmware_status_notification,
    "Heartbeat": heartbeat,
    "LogStatusNotification": log_status_notification,
    "MeterValues": meter_values,
    "SecurityEventNotification": security_event_notification,
    "SignCertificate": sign_certificate,
    "SignedFirmwareStatusNotification": signed_firmware_status_notification,
    "StartTransaction": start_transaction,
    "StatusNotification": status_notification,
    "StopTransaction": stop_transaction,
}
