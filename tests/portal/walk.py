"""The browser walk: log in as a role, open every menu page and tab it may see at every
Navigator level, and record what went wrong on each page (console errors, uncaught
exceptions, failed or 4xx/5xx requests the page made itself, horizontal overflow) and
how long it took. Used by the walk test and by ``benchmarks/portal_walk.py``.

Everything here is Playwright's sync API: call it inside ``BrowserThread.run``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from db.demo.seed import ensure_settings, seed_demo
from db.provisioning import provision_station
from db.schema.models import IdTag, Site, User
from db.system.settings import update_settings

__all__ = [
    "LIVE",
    "ROLES",
    "PageVisit",
    "RoleWalk",
    "Walker",
    "forbidden_answer",
    "give_walk_badge",
    "seed_demo_world",
]

ROLES = {
    "admin": "admin@example.com",
    "site-admin": "site-admin@example.com",
    "support": "support@example.com",
    "ev-user": "ev-user@example.com",
}
#: the demo stations that run as simulated stations: (charge box id, outlets)
LIVE = (("CP-SOLNA-1", 1), ("CP-SOLNA-2", 2), ("CP-SOLNA-4", 4))


def seed_demo_world(hashed: str) -> None:
    """``init-db --demo``, a second site the site administrator must not see, a user of
    every role (the sessions come from db.demo.demo_data)."""
    ensure_settings()
    seed_demo()
    update_settings({"map.tile_url": ""})  # an intranet install: no tile server to reach
    provision_station("KISTA-1", site="Kista", outlets=1, name="Kista one")
    solna = Site.get(Site.name == "Solna")
    for role, email in ROLES.items():
        user = User.create(
            email=email,
            role=role,
            site=solna if role in ("site-admin", "ev-user") else None,
            password_hash=hashed,
            first_name=role.title(),
            last_name="Walker",
        )
        if role == "ev-user":
            IdTag.create(id_tag="1001", user=user)


#: The badge the walk charges with: given after the demo sessions are made, so no
#: demo session can hold it (a demo badge may be charging elsewhere "now", depending
#: on the time of day the test runs, and the station would answer ConcurrentTx).
WALK_BADGE = "WALK-0001"


def give_walk_badge() -> str:
    """Give the EV user a badge no session has used yet; returns it."""
    user = User.get(User.email == ROLES["ev-user"])
    IdTag.create(id_tag=WALK_BADGE, user=user)
    return WALK_BADGE


#: Longest a page may take to finish its own requests before the walk calls it stuck.
SETTLE_TIMEOUT = 15.0
#: The window widths each page is checked at (operators' laptops and desktops).
WIDTHS = (1280, 1366, 1440)
#: How long no request of the page's own may be running for it to count as settled.
QUIET = 0.25

#: The elements wider than their container, outermost only (a child of an element
#: that already sticks out is not reported again). Containers that clip or scroll
#: (overflow other than visible) hold their content by definition; positioned
#: overlays (menus, dialogs, the timeline's handles) are not laid out in their parent.
OVERFLOW_JS = """() => {
  const found = [];
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    const id = el.getAttribute("id");
    if (id) s += "#" + id;
    const cls = (el.getAttribute("class") || "").trim().split(/\\s+/).filter(Boolean);
    if (cls.length) s += "." + cls.slice(0, 3).join(".");
    const tid = el.getAttribute("data-testid");
    if (tid) s += "[data-testid=" + tid + "]";
    return s;
  };
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      parts.unshift(describe(e));
    }
    return parts.join(" > ");
  };
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) {
    found.push("the page scrolls sideways: " + doc.scrollWidth + " px in "
      + doc.clientWidth + " px");
  }
  const sidebar = document.getElementById("sidebar");
  if (sidebar && sidebar.scrollWidth > sidebar.clientWidth + 1) {
    found.push("the sidebar scrolls sideways: " + sidebar.scrollWidth + " px in "
      + sidebar.clientWidth + " px");
  }
  const reported = new Set();
  for (const el of document.querySelectorAll("body *")) {
    const parent = el.parentElement;
    if (!parent || el.closest("svg") && el.tagName.toLowerCase() !== "svg") continue;
    if (el.getClientRects().length === 0 || !el.checkVisibility()) continue;
    const style = getComputedStyle(el);
    if (style.position === "absolute" || style.position === "fixed") continue;
    let skip = false;
    for (let a = parent; a; a = a.parentElement) { if (reported.has(a)) { skip = true; break; } }
    if (skip) continue;
    const ps = getComputedStyle(parent);
    if (ps.overflowX !== "visible" || ps.display === "contents") continue;
    const r = el.getBoundingClientRect(), p = parent.getBoundingClientRect();
    const room = p.right - parseFloat(ps.borderRightWidth || "0");
    if (r.right > room + 1.5 && r.width > 0) {
      reported.add(el);
      found.push(path(el) + " is " + Math.round(r.width) + " px wide and ends "
        + Math.round(r.right - room) + " px past its container " + describe(parent)
        + " (" + Math.round(p.width) + " px)");
    }
  }
  return found;
}"""


#: The links a page offers further (tabs, chart menu; session details), in one round trip.
LINKS_JS = """() => [
  [...document.querySelectorAll("main nav.tabs a, main .chart-menu a")].map(e => e.href),
  [...document.querySelectorAll("main a[data-show]")].map(e => e.href)]"""


@dataclass
class PageVisit:
    """One page as the walk saw it."""

    role: str
    level: str  # system | site | floor | station | outlet
    url: str
    status: int = 0
    seconds: float = 0.0  # from the navigation until the page's own requests finished
    problems: list[str] = field(default_factory=list)


@dataclass
class RoleWalk:
    role: str
    visits: list[PageVisit] = field(default_factory=list)
    nodes: dict[str, str] = field(default_factory=dict)  # level → node key walked
    paths: set[str] = field(default_factory=set)  # page paths this role was offered


def _path_and_node(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return parts.path, query.get("node", "")


def _without_origin(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _with_node(url: str, key: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "node"]
    if key and key != "system":
        query.append(("node", key))
    return parts.path + (f"?{urlencode(query)}" if query else "")


class Walker:
    """Watches one Playwright page: what it logs, throws and requests by itself."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.generation = 0
        self.problems: list[str] = []
        self.inflight: dict[Any, int] = {}
        self.last_activity = time.monotonic()
        page.on("console", self._console)
        page.on("pageerror", self._page_error)
        page.on("request", self._request)
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    # --- listeners --------------------------------------------------------------------

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _page_error(self, error: Any) -> None:
        self.problems.append(f"uncaught exception: {error}")

    def _own(self, request: Any) -> bool:
        """A request the page made itself (not the navigation the walk asked for)."""
        return not (request.is_navigation_request() and request.frame == self.page.main_frame)

    def _request(self, request: Any) -> None:
        self.last_activity = time.monotonic()
        if request.resource_type == "eventsource":
            return  # the live stream stays open as long as the page
        self.inflight[request] = self.generation

    def _finished(self, request: Any) -> None:
        self.inflight.pop(request, None)
        self.last_activity = time.monotonic()

    def _failed(self, request: Any) -> None:
        self.inflight.pop(request, None)
        self.last_activity = time.monotonic()
        text = request.failure or ""
        if "ERR_ABORTED" in text:
            return  # cancelled by the page (htmx replacing a panel) or by leaving it
        if self._own(request):
            self.problems.append(f"request failed: {request.method} {request.url} ({text})")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and self._own(response.request):
            request = response.request
            self.problems.append(f"{response.status} from {request.method} {response.url}")

    # --- visiting ---------------------------------------------------------------------

    def settle(self, timeout: float = SETTLE_TIMEOUT) -> bool:
        """Wait until none of this page's requests has run for ``QUIET`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = [r for r, g in self.inflight.items() if g == self.generation]
            if not busy and time.monotonic() - self.last_activity >= QUIET:
                return True
            self.page.wait_for_timeout(25)
        return False

    def visit(self, role: str, level: str, url: str) -> PageVisit:
        """Open ``url`` and check it; the visit's problems are this page's alone."""
        self.generation += 1
        self.problems = []
        visit = PageVisit(role, level, _without_origin(url))
        started = time.monotonic()
        response = self.page.goto(url, wait_until="load")
        visit.status = response.status if response is not None else 0
        settled = self.settle()
        visit.seconds = time.monotonic() - started - (QUIET if settled else 0.0)
        if not settled:
            pending = [r.url for r, g in self.inflight.items() if g == self.generation]
            self.problems.append(f"still loading after {SETTLE_TIMEOUT:.0f} s: {pending[:3]}")
        if visit.status != 200:
            visit.problems.append(f"the page answered {visit.status}")
        visit.problems.extend(self.overflow())
        visit.problems.extend(self.problems)
        return visit

    def overflow(self) -> list[str]:
        """Horizontal overflow at each width of ``WIDTHS`` (the page is resized, not reloaded)."""
        found: dict[str, list[int]] = {}
        for width in WIDTHS:  # narrowest first: a chart shrinks after a resize, not at once
            self.page.set_viewport_size({"width": width, "height": 800})
            for problem in self.page.evaluate(OVERFLOW_JS):
                found.setdefault(problem, []).append(width)
        self.page.set_viewport_size({"width": WIDTHS[0], "height": 800})
        return [f"{p} (at {', '.join(map(str, w))} px)" for p, w in found.items()]

    # --- a role's walk ----------------------------------------------------------------

    def log_in(self, email: str, password: str) -> None:
        self.page.goto("/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector('[data-testid="logout"]', state="attached")

    def log_out(self) -> None:
        self.page.context.clear_cookies()

    def _links(self, selector: str) -> list[str]:
        hrefs = self.page.eval_on_selector_all(selector, "els => els.map(e => e.href)")
        return [str(h) for h in hrefs if h]

    def navigator_nodes(self) -> dict[str, str]:
        """One node key per Navigator level this role sees (the first of each kind);
        closed levels of a big tree are opened as a user would, then forgotten again."""
        nodes = self._scan_navigator()
        opened = False
        for _ in range(3):
            if {"site", "floor", "station", "outlet"} <= set(nodes):
                break
            closed = [
                details
                for kind in ("site", "floor", "station")
                for details in self.page.query_selector_all(
                    f'[data-testid="navigator"] details[data-lazy="1"][data-key^="{kind}:"]'
                )[:2]
            ]
            if not closed:
                break
            for details in closed:
                details.evaluate("d => { d.open = true; }")
            opened = True
            self.page.wait_for_function(  # every opened level loaded (or failed to)
                """() => !document.querySelector(
                     '[data-testid="navigator"] details[open][data-lazy]')"""
            )
            self.settle()
            nodes = self._scan_navigator()
        if opened:  # back to no remembered state: the walk measures what a newcomer sees
            self.page.evaluate("document.cookie = 'cp_nav=; path=/; max-age=0'")
        return nodes

    def _scan_navigator(self) -> dict[str, str]:
        found = self.page.eval_on_selector_all(
            '[data-testid="navigator"] a.nav-node[href]',
            """els => els.map(e => [
                 ["system", "site", "floor", "station", "outlet"].find(
                   k => e.classList.contains(k)),
                 new URL(e.href).searchParams.get("node") || "system"])""",
        )
        nodes: dict[str, str] = {}
        for kind, key in found:
            if kind and kind not in nodes:
                nodes[kind] = key
        return nodes

    def walk(self, role: str, email: str, password: str) -> RoleWalk:
        """Every menu page, tab and chart this role is offered, at every level it sees."""
        result = RoleWalk(role)
        self.log_in(email, password)
        result.nodes = self.navigator_nodes() or {"system": "system"}
        if role == "ev-user":
            result.nodes = {"system": "system"}
        seen: set[str] = set()
        frame_pages = self._links(".user-menu .dropdown-panel a, [data-bell] .dropdown-panel a")
        menu = [_without_origin(u) for u in self._links("nav.sidebar .menu a")]
        for level, key in result.nodes.items():
            # as the Navigator does: the same pages, scoped to the node (?node=key)
            queue = [_with_node(u, key) for u in menu]
            if level == next(iter(result.nodes)):
                queue += [_without_origin(u) for u in frame_pages]
            while queue:
                url = queue.pop(0)
                if url in seen:
                    continue
                seen.add(url)
                visit = self.visit(role, level, url)
                result.visits.append(visit)
                result.paths.add(_path_and_node(url)[0])
                if visit.status != 200:
                    continue
                tabs, shows = self.page.evaluate(LINKS_JS)
                more = [str(h) for h in tabs if h]
                more += [str(h) for h in shows if h][:1]  # one session's details
                for link in more:
                    if urlsplit(link).netloc != urlsplit(self.page.url).netloc:
                        continue
                    local = _without_origin(link)
                    if local not in seen and local not in queue:
                        queue.append(local)
        self.log_out()
        return result


def forbidden_answer(page: Any, url: str) -> tuple[int, str]:
    """Status and body of ``url`` fetched with the page's cookies (not rendered)."""
    response = page.context.request.get(url, max_redirects=0)
    return response.status, response.text()
