"""One error model: a refusal's HTTP status comes from its kind, never from its words."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gateway.errors as gateway_errors
from db.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound, Unavailable
from gateway.errors import (
    CallErrorReply,
    CommandTimeoutError,
    StationBusyError,
    StationOfflineError,
    UnknownStationError,
)
from portal.errors import json_error, page_error

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        (Invalid("That time is already past."), 400),  # "already" used to mean 409
        (Conflict("Nothing in common with 'already'."), 409),
        (NotFound("No such image."), 404),
        (NotAllowed("The role support may not use Firmware update."), 403),
        (Unavailable("The embedded FTP server is not running."), 503),
        (DomainError("Refused."), 400),
        (UnknownStationError("no station 'X'"), 404),
        (StationOfflineError("CP1 is offline: nothing was sent."), 409),
        (StationBusyError("CP1: 16 commands already queued"), 503),
        (CommandTimeoutError("CP1: Reset was not sent", sent=False), 504),
        (CallErrorReply("NotSupported", "no"), 502),
    ],
)
def test_the_status_follows_the_kind_on_pages_and_in_the_api(
    refusal: Exception, status: int
) -> None:
    assert page_error(refusal)[0] == status
    assert json_error(refusal)[0] == status


def test_a_timeout_tells_the_api_caller_whether_the_call_was_sent() -> None:
    _, body = json_error(CommandTimeoutError("CP1: Reset was not sent", sent=False))
    assert (body["error"], body["sent"]) == ("timeout", False)


def test_the_gateway_knows_no_http() -> None:
    for name in gateway_errors.__all__:
        assert not hasattr(getattr(gateway_errors, name), "http_status"), name


def test_no_module_chooses_a_status_by_reading_a_message() -> None:
    """No ``"..." in exc.message`` (or ``str(exc)``) anywhere in the portal."""
    offenders = []
    for path in (ROOT / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, ast.In | ast.NotIn) for op in node.ops
            ):
                target = ast.unparse(node.comparators[0])
                if target.endswith(".message") or target.startswith("str(exc"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
