"""The JSON API's kept OCPP messages, connection log and meter samples: scoped like stations
and sessions."""

from __future__ import annotations

from tests.portal.access_rows import Case, expect

V = "/api/v1"
SOLNA_READ = expect(401, 403, 200, 404, 200, 200)
#: an EV user sees his own session; other sites' sessions do not exist
EV_SESSION = expect(401, 200, 200, 404, 200, 200)
KISTA_SESSION = expect(401, 404, 200, 200, 404, 200)
STAFF_READ = expect(401, 403, 200, 200, 200, 200)

ROWS = {
    ("GET", f"{V}/stations/<cbid>/messages"): [
        Case(f"{V}/stations/SOLNA-1/messages", SOLNA_READ),
    ],
    ("GET", f"{V}/stations/<cbid>/connections"): [
        Case(f"{V}/stations/SOLNA-1/connections", SOLNA_READ),
    ],
    ("GET", f"{V}/connections"): [Case(f"{V}/connections", STAFF_READ)],
    ("GET", f"{V}/sessions/<int:session_id>/messages"): [
        Case(f"{V}/sessions/{{ev_session}}/messages", EV_SESSION),
        Case(f"{V}/sessions/{{kista_session}}/messages", KISTA_SESSION),
    ],
    ("GET", f"{V}/sessions/<int:session_id>/meter-values"): [
        Case(f"{V}/sessions/{{ev_session}}/meter-values", EV_SESSION),
        Case(f"{V}/sessions/{{kista_session}}/meter-values", KISTA_SESSION),
    ],
}
