"""The OCPP 1.5 SOAP endpoint: stations, not portal users (their own identity and password)."""

from __future__ import annotations

from tests.portal.access_rows import Case, same

ROWS = {
    # no portal login is asked; a body that is not a SOAP envelope gets a SOAP Fault (400)
    ("POST", "/Ocpp/CentralSystemService15"): [
        Case("/Ocpp/CentralSystemService15", same(400, 400), body={})
    ],
}
