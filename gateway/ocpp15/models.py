"""spyne models of the OCPP 1.5 CentralSystemService messages (official WSDL, 2012/06)."""

from __future__ import annotations

from spyne import ComplexModel, DateTime, Integer, Unicode, XmlAttribute, XmlData

from ocpp15wire.schema import CS_NS

__all__ = ["OPERATIONS", "IdTagInfo", "MeterValue", "TransactionData"]


class _Cs(ComplexModel):
    __namespace__ = CS_NS


class IdTagInfo(_Cs):
    _type_info = [  # noqa: RUF012 (spyne reads it)
        ("status", Unicode(min_occurs=1, nillable=False)),
        ("expiryDate", DateTime),
        ("parentIdTag", Unicode(max_len=20)),
    ]


class MeterValueValue(_Cs):
    __type_name__ = "MeterValueValue"
    _type_info = [  # noqa: RUF012 (spyne reads it)
        ("value", XmlData(Unicode)),
        ("context", XmlAttribute(Unicode)),
        ("format", XmlAttribute(Unicode)),
        ("measurand", XmlAttribute(Unicode)),
        ("location", XmlAttribute(Unicode)),
        ("unit", XmlAttribute(Unicode)),
    ]


class MeterValue(_Cs):
    _type_info = [  # noqa: RUF012 (spyne reads it)
        ("timestamp", DateTime(min_occurs=1, nillable=False)),
        ("value", MeterValueValue.customize(min_occurs=1, max_occurs="unbounded")),
    ]


class TransactionData(_Cs):
    _type_info = [("values", MeterValue.customize(max_occurs="unbounded"))]  # noqa: RUF012 (spyne reads it)


def _req(name: str, fields: list[tuple[str, object]]) -> type[ComplexModel]:
    # spyne's bare style refuses an empty model: an optional element never sent stands in
    fields = fields or [("unused", Unicode(min_occurs=0))]
    return type(name, (_Cs,), {"__type_name__": name, "_type_info": fields})


def _one(kind: object) -> object:
    return kind.customize(min_occurs=1, nillable=False)  # type: ignore[attr-defined]


_ID = Unicode(max_len=20)

#: Operation -> (request model, response model), named as in the WSDL.
OPERATIONS: dict[str, tuple[type[ComplexModel], type[ComplexModel]]] = {
    "Authorize": (
        _req("AuthorizeRequest", [("idTag", _one(_ID))]),
        _req("AuthorizeResponse", [("idTagInfo", _one(IdTagInfo))]),
    ),
    "BootNotification": (
        _req(
            "BootNotificationRequest",
            [
                ("chargePointVendor", _one(Unicode(max_len=20))),
                ("chargePointModel", _one(Unicode(max_len=20))),
                ("chargePointSerialNumber", Unicode(max_len=25)),
                ("chargeBoxSerialNumber", Unicode(max_len=25)),
                ("firmwareVersion", Unicode(max_len=50)),
                ("iccid", Unicode(max_len=20)),
                ("imsi", Unicode(max_len=20)),
                ("meterType", Unicode(max_len=25)),
                ("meterSerialNumber", Unicode(max_len=25)),
            ],
        ),
        _req(
            "BootNotificationResponse",
            [
                ("status", _one(Unicode)),
                ("currentTime", _one(DateTime)),
                ("heartbeatInterval", _one(Integer)),
            ],
        ),
    ),
    "DataTransfer": (
        _req(
            "DataTransferRequest",
            [
                ("vendorId", _one(Unicode(max_len=255))),
                ("messageId", Unicode(max_len=50)),
                ("data", Unicode),
            ],
        ),
        _req("DataTransferResponse", [("status", _one(Unicode)), ("data", Unicode)]),
    ),
    "DiagnosticsStatusNotification": (
        _req("DiagnosticsStatusNotificationRequest", [("status", _one(Unicode))]),
        _req("DiagnosticsStatusNotificationResponse", []),
    ),
    "FirmwareStatusNotification": (
        _req("FirmwareStatusNotificationRequest", [("status", _one(Unicode))]),
        _req("FirmwareStatusNotificationResponse", []),
    ),
    "Heartbeat": (
        _req("HeartbeatRequest", []),
        _req("HeartbeatResponse", [("currentTime", _one(DateTime))]),
    ),
    "MeterValues": (
        _req(
            "MeterValuesRequest",
            [
                ("connectorId", _one(Integer)),
                ("transactionId", Integer),
                ("values", MeterValue.customize(max_occurs="unbounded")),
            ],
        ),
        _req("MeterValuesResponse", []),
    ),
    "StartTransaction": (
        _req(
            "StartTransactionRequest",
            [
                ("connectorId", _one(Integer)),
                ("idTag", _one(_ID)),
                ("timestamp", _one(DateTime)),
                ("meterStart", _one(Integer)),
                ("reservationId", Integer),
            ],
        ),
        _req(
            "StartTransactionResponse",
            [("transactionId", _one(Integer)), ("idTagInfo", _one(IdTagInfo))],
        ),
    ),
    "StatusNotification": (
        _req(
            "StatusNotificationRequest",
            [
                ("connectorId", _one(Integer)),
                ("status", _one(Unicode)),
                ("errorCode", _one(Unicode)),
                ("info", Unicode(max_len=50)),
                ("timestamp", DateTime),
                ("vendorId", Unicode(max_len=255)),
                ("vendorErrorCode", Unicode(max_len=50)),
            ],
        ),
        _req("StatusNotificationResponse", []),
    ),
    "StopTransaction": (
        _req(
            "StopTransactionRequest",
            [
                ("transactionId", _one(Integer)),
                ("idTag", _ID),
                ("timestamp", _one(DateTime)),
                ("meterStop", _one(Integer)),
                ("transactionData", TransactionData.customize(max_occurs="unbounded")),
            ],
        ),
        _req("StopTransactionResponse", [("idTagInfo", IdTagInfo)]),
    ),
}
