"""Cookie flags, CSRF tokens and login throttling for the portal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from quart import current_app, request
from quart.wrappers import Response

from db.accounts.failure_window import FailureWindow

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LoginThrottle",
    "cookies_secure",
    "csrf_exempt",
    "csrf_token",
    "csrf_valid",
    "local_redirect_target",
    "set_csrf_cookie",
]

CSRF_COOKIE = "cp_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_exempt(view: Any) -> Any:
    """Mark a view that machines post to without a browser session (e.g. the OCPP 1.5
    SOAP endpoint): no CSRF token is asked. Never use it on a view a cookie reaches."""
    view.csrf_exempt = True
    return view


def cookies_secure() -> bool:
    """Whether cookies get the ``Secure`` flag on this request.

    ``PORTAL_COOKIE_SECURE`` = "auto" (default): Secure exactly when the request came
    over TLS. Over plain http a browser drops Secure cookies and nobody could log in
    (STACK.md), so development on http works and TLS deployments stay Secure.
    Behind a TLS-terminating proxy set it to True (or let the proxy set the scheme).
    """
    setting = current_app.config.get("PORTAL_COOKIE_SECURE", "auto")
    if setting == "auto":
        return bool(request.is_secure)
    return bool(setting)


def _leads_elsewhere(url: str) -> bool:
    """Whether a browser could read ``url`` as anything but a path on this site.

    Browsers are lenient: a backslash counts as ``/`` (``/\\evil.example`` is the
    host ``evil.example``), tabs and newlines are dropped anywhere (``/\t/evil``
    becomes ``//evil``), leading spaces and controls are trimmed.
    """
    if not url.startswith("/") or url[1:2] in ("/", "\\") or url[1:2].isspace():
        return True
    return any(char == "\\" or unicodedata.category(char) in _INVISIBLE for char in url)


#: Control, format, surrogate, private, unassigned, line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def local_redirect_target(target: str, *, max_decodings: int = 4) -> str | None:
    """``target`` when it is a path on this site (``/…``), else None (open redirects
    help phishing).

    Neither the target nor any of its percent-decodings may lead elsewhere (a page
    that decodes once more turns ``/%2F%2Fevil`` into ``//evil``); a target still
    encoded after ``max_decodings`` rounds is refused too.
    """
    if not target or len(target) > 2048:
        return None
    current = target
    for _ in range(max_decodings + 1):
        if _leads_elsewhere(current):
            return None
        decoded = unquote(current)
        if decoded == current:
            return target
        current = decoded
    return None


def _sign(raw: str) -> str:
    key = str(current_app.secret_key).encode()
    return hmac.new(key, b"csrf:" + raw.encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token forms must echo in ``csrf_token`` (or the X-CSRF-Token header).

    Double-submit: a random value lives in an HttpOnly SameSite cookie; the form
    carries its HMAC, which another site can neither read nor compute.
    """
    from quart import g

    raw = g.get("csrf_raw") or request.cookies.get(CSRF_COOKIE, "")
    if not raw:
        raw = secrets.token_urlsafe(24)
    g.csrf_raw = raw
    return _sign(raw)


def set_csrf_cookie(response: Response) -> Response:
    """Issue the CSRF cookie when this request created a new one."""
    from quart import g

    raw = g.get("csrf_raw")
    if raw and request.cookies.get(CSRF_COOKIE) != raw:
        response.set_cookie(
            CSRF_COOKIE,
            raw,
            httponly=True,
            samesite="Lax",
            secure=cookies_secure(),
            path="/",
        )
    return response


async def csrf_valid() -> bool:
    """True when this state-changing request carries the right token."""
    raw = request.cookies.get(CSRF_COOKIE, "")
    if not raw:
        return False
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.form
        sent = form.get(CSRF_FIELD, "")
    return bool(sent) and hmac.compare_digest(sent, _sign(raw))


class LoginThrottle:
    """Failed logins counted per account and per address in a sliding window.

    ``retry_after(account, address)`` is 0 when a new attempt may be tried, else the
    seconds to wait. Memory is bounded: the oldest keys are dropped past ``max_keys``.
    """

    def __init__(
        self,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window: float = 900.0,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self._failures = FailureWindow(window=window, max_keys=max_keys, clock=clock)

    @property
    def window(self) -> float:
        return self._failures.window

    def retry_after(self, account: str, address: str) -> float:
        limits = ((f"a:{account}", self.per_account), (f"ip:{address}", self.per_address))
        return self._failures.wait(limits)[0]

    def failed(self, account: str, address: str) -> None:
        self._failures.failed((f"a:{account}", f"ip:{address}"))

    def succeeded(self, account: str) -> None:
        self._failures.forget(f"a:{account}")

    def load(self, key: str, ages: list[float]) -> None:
        """Replace what this process knows of ``key`` by failures ``ages`` seconds old, oldest
        first (read from the database: other processes' and earlier runs' failures)."""
        self._failures.load(key, ages)

    def statistics(self) -> dict[str, int]:
        return {"tracked_keys": len(self._failures), "blocked_attempts": self._failures.blocked}
