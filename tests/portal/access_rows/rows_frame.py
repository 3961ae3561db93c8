"""Frame, login/logout, user settings, news, dashboard."""

from __future__ import annotations

from typing import Any

from db.schema.models import News
from tests.portal.access_rows import Case, expect, same

STAFF_PAGE = expect(302, 403, 200, 200, 200, 200)


def _news(world: Any) -> dict[str, Any]:
    return {"news_id": News.create(title="Maintenance tonight").id}


ROWS = {
    ("GET", "/"): [Case("/", same(302, 302))],
    ("GET", "/login"): [Case("/login", same(200, 302))],
    ("POST", "/login"): [Case("/login", same(400, 400), body={})],
    ("POST", "/logout"): [Case("/logout", same(302, 302))],
    ("GET", "/events/stations"): [Case("/events/stations", STAFF_PAGE)],
    ("GET", "/stations/state"): [Case("/stations/state", STAFF_PAGE)],
    ("GET", "/news"): [Case("/news", same(302, 200))],
    ("POST", "/news"): [Case("/news", expect(401, 403, 403, 403, 403, 400), body={"title": ""})],
    ("POST", "/news/<int:news_id>/delete"): [
        Case("/news/{news_id}/delete", expect(401, 403, 403, 403, 403, 302), setup=_news)
    ],
    ("GET", "/settings/"): [Case("/settings/", same(302, 200))],
    ("POST", "/settings/email"): [Case("/settings/email", same(401, 400), body={"email": "x"})],
    ("POST", "/settings/panels"): [Case("/settings/panels", same(401, 400), body={})],
    ("POST", "/settings/time-zone"): [
        Case("/settings/time-zone", same(401, 400), body={"time_zone": "Mars/Olympus"})
    ],
    ("POST", "/settings/password"): [
        Case("/settings/password", same(401, 400), body={"old_password": "nope"})
    ],
    ("GET", "/dashboard/"): [
        Case("/dashboard/", STAFF_PAGE),
        Case(
            "/dashboard/?node=site:{kista}",
            expect(302, 403, 200, 200, 404, 200),
            note="another site's node is 404 to a site administrator",
        ),
        Case("/dashboard/?node=station:{solna_station}", expect(302, 403, 200, 404, 200, 200)),
        Case("/dashboard/?node=site:999", expect(302, 403, 404, 404, 404, 404)),
    ],
}
