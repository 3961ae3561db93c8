"""Range checks at the protocol edge: values the schemas allow but storage cannot hold.

The OCPP 1.6 schemas say ``integer``, ``string`` and ``date-time`` without bounds; a
database column, a datetime and UTF-8 have bounds. Every payload a station sends is
checked here after the schema and before any handler runs, so that no write batch
ever fails because of what one station sent (a batch then fails only for storage
reasons). Errors name the field: ``meterValue[0].sampledValue[1].value``.
"""

from __future__ import annotations

import math
from typing import Any

from gateway.ocpp16.convert import parse_datetime
from gateway.ocpp16.framing import OcppError

__all__ = [
    "INT32",
    "MAX_CONNECTOR_ID",
    "MAX_METER_WH",
    "MAX_SAMPLE_VALUE_LENGTH",
    "MAX_SIGNED_VALUE_LENGTH",
    "check_payload",
    "connector_id_of",
]

INT32 = 2**31 - 1
#: outlet numbers are SMALLINT columns; real stations have 1..4
MAX_CONNECTOR_ID = 2**15 - 1
#: meter registers (Wh): exact in a float, far inside BIGINT even after subtraction
MAX_METER_WH = 2**53
#: a plain reading is a number: nothing real is longer
MAX_SAMPLE_VALUE_LENGTH = 64
#: meter_sample.value is VARCHAR(4096): signed readings (OCMF, format SignedData) fit
MAX_SIGNED_VALUE_LENGTH = 4096

#: integer fields by name -> (lowest, highest); any other integer must fit INT32
_INT_RANGES: dict[str, tuple[int, int]] = {
    "connectorId": (0, MAX_CONNECTOR_ID),
    "transactionId": (-INT32 - 1, INT32),
    "reservationId": (-INT32 - 1, INT32),
    "meterStart": (-MAX_METER_WH, MAX_METER_WH),
    "meterStop": (-MAX_METER_WH, MAX_METER_WH),
}
_DEFAULT_RANGE = (-INT32 - 1, INT32)


def _violation(field: str, message: str) -> OcppError:
    return OcppError("PropertyConstraintViolation", f"{field}: {message}", {"field": field})


def _unicode(value: str) -> bool:
    """Whether ``value`` holds no lone surrogate (UTF-8 can carry it)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_string(field: str, value: str) -> None:
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise _violation(field, "NUL characters are not accepted")
    if not _unicode(value):
        raise OcppError(
            "TypeConstraintViolation",
            f"{field}: not a Unicode string (lone surrogate)",
            {"field": field},
        )


def _check_timestamp(field: str, value: str) -> None:
    try:
        parse_datetime(value)
    except (ValueError, OverflowError):
        raise _violation(
            field, f"{value!r} is not a date-time between years 1 and 9999 UTC"
        ) from None


def _sample_problem(sample: dict[str, Any]) -> str | None:
    """What is wrong with a sampled value's ``value`` (None: nothing)."""
    value = sample.get("value")
    if not isinstance(value, str):
        return None  # the schema refused it already
    signed = sample.get("format") == "SignedData"
    longest = MAX_SIGNED_VALUE_LENGTH if signed else MAX_SAMPLE_VALUE_LENGTH
    if len(value) > longest:
        return f"longer than {longest} characters"
    if signed:
        return None
    try:
        number = float(value)
    except ValueError:
        return None  # not a number: stored as text, never read as a reading
    limit = MAX_METER_WH / 1000 if str(sample.get("unit", "")).startswith("k") else MAX_METER_WH
    if not math.isfinite(number) or abs(number) > limit:
        return f"{value[:24]!r} is not a finite number up to {limit:g}"
    return None


def _check_sample(field: str, sample: dict[str, Any]) -> None:
    problem = _sample_problem(sample)
    if problem is not None:
        raise _violation(f"{field}.value", problem)


def _walk(value: Any, field: str, key: str) -> None:
    kind = type(value)
    if kind is str:
        _check_string(field, value)
        if key == "timestamp":
            _check_timestamp(field, value)
    elif kind is int:
        low, high = _INT_RANGES.get(key, _DEFAULT_RANGE)
        if not low <= value <= high:
            raise _violation(field, f"{str(value)[:24]} is outside {low}..{high}")
    elif kind is float:
        if not math.isfinite(value):
            raise _violation(field, "not a finite number")
    elif kind is dict:
        for name, item in value.items():
            _check_string(f"{field}.<key>" if field else "<key>", name)
            _walk(item, f"{field}.{name}" if field else name, name)
        if key == "sampledValue":
            _check_sample(field, value)
    elif kind is list:
        for index, item in enumerate(value):
            _walk(item, f"{field}[{index}]", key)


def _fine(value: Any, key: str, strings: bool) -> bool:
    """Whether ``value`` (found under ``key``) passes every check of ``_walk``: the same
    checks without building a field name for each value (most payloads are fine).
    ``strings``: check strings for NUL and lone surrogates (False when none can hold one)."""
    kind = type(value)
    if kind is str:
        if strings and ("\x00" in value or not _unicode(value)):
            return False
        if key == "timestamp":
            try:
                parse_datetime(value)
            except (ValueError, OverflowError):
                return False
        return True
    if kind is int:
        low, high = _INT_RANGES.get(key, _DEFAULT_RANGE)
        return low <= value <= high
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        for name, item in value.items():
            if strings and ("\x00" in name or not _unicode(name)):
                return False
            if not _fine(item, name, strings):
                return False
        return key != "sampledValue" or _sample_problem(value) is None
    if kind is list:
        for item in value:
            if not _fine(item, key, strings):
                return False
    return True


def check_payload(payload: dict[str, Any], text: str | None = None) -> None:
    """Raise ``OcppError`` naming the field when a value cannot be stored as sent.

    Integers outside their column's range, lone surrogates and NUL in strings, date-times
    that leave years 1..9999 when converted to UTC, and sampled values that are not
    finite, too large or too long. A payload that passes (nearly all) is checked once
    without field names (``_fine``); only a refused one is walked again to name the
    field (``_walk``).

    ``text``: the JSON text the payload was decoded from. In valid Unicode text, JSON
    carries NUL and lone surrogates only as ``\\u`` escapes (a raw control character
    inside a string is not JSON), so without a backslash-u no string needs those checks.
    """
    strings = text is None or "\\u" in text or not _unicode(text)
    if not _fine(payload, "", strings):
        _walk(payload, "", "")


def connector_id_of(payload: dict[str, Any]) -> int | None:
    """The payload's connectorId, when it names one (StatusNotification, Start, MeterValues)."""
    value = payload.get("connectorId")
    return value if type(value) is int else None
