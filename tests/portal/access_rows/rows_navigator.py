"""The Navigator's lazy levels, pages of long station lists, and search."""

from __future__ import annotations

from tests.portal.access_rows import Case, expect

ROWS = {
    ("GET", "/navigator/children"): [
        Case("/navigator/children?key=site:{solna}", expect(302, 403, 200, 404, 200, 200)),
        Case("/navigator/children?key=floor:{solna_floor}", expect(302, 403, 200, 404, 200, 200)),
        Case(
            "/navigator/children?key=station:{solna_station}", expect(302, 403, 200, 404, 200, 200)
        ),
        Case("/navigator/children?key=outlet:{solna_outlet}", expect(302, 403, 404, 404, 404, 404)),
    ],
    ("GET", "/navigator/page"): [
        Case("/navigator/page?key=site:{solna}&start=0", expect(302, 403, 200, 404, 200, 200)),
        Case(
            "/navigator/page?key=floor:{solna_floor}&before=50",
            expect(302, 403, 200, 404, 200, 200),
        ),
        Case("/navigator/page?key=site:{solna}", expect(302, 403, 400, 400, 400, 400)),
        Case(
            "/navigator/page?key=station:{solna_station}&start=0",
            expect(302, 403, 404, 404, 404, 404),
        ),
    ],
    ("GET", "/navigator/search"): [
        Case("/navigator/search?q=solna", expect(302, 403, 200, 200, 200, 200)),
    ],
}
