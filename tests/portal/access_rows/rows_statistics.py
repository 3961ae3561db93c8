"""Statistics pages, session details, export jobs and the sessions export API (issue 6)."""

from __future__ import annotations

from tests.portal.access_rows import Case, expect, same

#: everyone who logs in sees sessions, scoped (EV users: their own)
EVERYONE = same(302, 200)
#: the EV user's Solna session: other site's administrator must not see it
EV_SESSION = expect(302, 200, 200, 404, 200, 200)
#: an anonymous Kista session: neither the EV user nor Solna's administrator
KISTA_SESSION = expect(302, 404, 200, 200, 404, 200)

ROWS = {
    ("GET", "/statistics/"): [
        Case("/statistics/", EVERYONE),
        Case(
            "/statistics/?node=site:{kista}",
            expect(302, 200, 200, 200, 404, 200),
            note="another site's node is 404 to a site administrator; EV users have no nodes",
        ),
    ],
    ("GET", "/statistics/sessions/<int:session_id>"): [
        Case("/statistics/sessions/{ev_session}", EV_SESSION),
        Case("/statistics/sessions/{kista_session}", KISTA_SESSION),
    ],
    ("GET", "/statistics/sessions/<int:session_id>/meter-values"): [
        Case("/statistics/sessions/{ev_session}/meter-values", EV_SESSION),
        Case("/statistics/sessions/{kista_session}/meter-values", KISTA_SESSION),
    ],
    ("POST", "/statistics/exports"): [
        Case("/statistics/exports?format=pdf", same(401, 400), note="a refused format"),
    ],
    ("GET", "/statistics/exports/<job_id>"): [
        Case("/statistics/exports/nosuchjob", same(302, 404)),
    ],
    ("GET", "/statistics/exports/<job_id>/download"): [
        Case("/statistics/exports/nosuchjob/download", same(302, 404)),
    ],
    ("POST", "/statistics/exports/<job_id>/cancel"): [
        Case("/statistics/exports/nosuchjob/cancel", same(401, 404)),
    ],
    ("GET", "/api/v1/sessions/export.xlsx"): [
        Case("/api/v1/sessions/export.xlsx", same(401, 200)),
        Case("/api/v1/sessions/export.xlsx?energy_min=x", same(401, 400)),
    ],
    ("GET", "/api/v1/sessions/export.csv"): [
        Case("/api/v1/sessions/export.csv", same(401, 200)),
        Case("/api/v1/sessions/export.csv?sort=colour", same(401, 400)),
    ],
}

STAFF = expect(302, 403, 200, 200, 200, 200)
ROWS |= {
    ("GET", "/diagrams/"): [
        Case("/diagrams/", STAFF),
        Case("/diagrams/?node=site:{kista}", expect(302, 403, 200, 200, 404, 200)),
    ],
    ("GET", "/diagrams/data"): [
        Case("/diagrams/data?chart=energy-day", STAFF),
        Case(
            "/diagrams/data?chart=occupancy&node=site:{kista}", expect(302, 403, 200, 200, 404, 200)
        ),
    ],
    ("GET", "/diagrams/timeline"): [Case("/diagrams/timeline", STAFF)],
}

ROWS |= {
    ("GET", "/dashboard/panels/<key>"): [
        Case("/dashboard/panels/latest-sessions", STAFF),
        Case("/dashboard/panels/occupancy?node=site:{kista}", expect(302, 403, 200, 200, 404, 200)),
        Case("/dashboard/panels/nonsense", expect(302, 403, 404, 404, 404, 404)),
    ],
}
